"""Ship a trained model: the one deliberate step from a run folder's ONNX export to facealign/models/.

    promote(PromoteOptions(source="runs/landmarks/best.onnx", name="stfan-lmk-112", replace=True))

The file is checked against its kind's contract (an onnxruntime session made by
facealign.runtime.session.create_session, run on a test input, output names and shapes) before anything is
written; then it is copied into the models folder and its entry in the registry (models.json) is added or
updated, which regenerates the table of the models README (facealign.runtime.registry.save_spec). No torch.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facealign.runtime import registry
from facealign.runtime.registry import ModelSpec
from facealign.runtime.session import create_session

# defaults for a new entry of a kind (an existing entry keeps its own)
DEFAULT_OPTIONS = {"landmarks": {"crop_scale": 1.4}, "detector": {}, "temporal": {}, "body": {"crop_scale": 1.15}}
# a detector entry's nominal input_size: its graph takes any size, and the runtime searches the photo at its own
# resolution by default (detection/resolution.py)
DETECTOR_SIZE = 640


@dataclass
class PromoteOptions:
    """What to ship and how to register it; checked when made (ValueError with a one-line reason)."""

    source: str | Path  # the ONNX file, e.g. runs/landmarks/best.onnx
    name: str  # registry name
    kind: str = ""  # detector | landmarks | temporal; empty: read from the graph
    description: str = ""  # empty: the existing entry's, required for a new name
    version: str = ""  # empty: the existing entry's version + 1, or "1"
    file: str = ""  # file name in the models folder; empty: the existing entry's, or NAME.onnx
    made_by: str = ""  # the command that trained it, for the README table
    options: dict = field(default_factory=dict)  # runtime options merged over the entry's (e.g. score_threshold)
    replace: bool = False  # a registered name is only overwritten when asked
    models_dir: str | Path = registry.MODELS_DIR

    def __post_init__(self) -> None:
        self.source = Path(self.source)
        self.models_dir = Path(self.models_dir)
        if self.source.suffix != ".onnx":
            raise ValueError(f"{self.source}: not an .onnx file")
        if not self.source.is_file():
            raise ValueError(f"{self.source}: file not found")
        if not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"model name {self.name!r}: give a non-empty name without spaces")
        if self.kind and self.kind not in CONTRACTS:
            raise ValueError(f"kind {self.kind!r}: promote checks one of {', '.join(CONTRACTS)}")
        if self.file and (Path(self.file).name != self.file or not self.file.endswith(".onnx")):
            raise ValueError(f"file {self.file!r}: a plain .onnx file name in the models folder")


def graph_kind(sess) -> str:
    """The kind a session's inputs and outputs say it is (the input and output names of the exports)."""
    inputs = [i.name for i in sess.get_inputs()]
    outputs = {o.name for o in sess.get_outputs()}
    if inputs == ["window"] and "landmarks" in outputs:
        return "temporal"
    if {"scores", "boxes", "kps"} <= outputs:
        return "detector"
    if {"landmarks", "scores"} <= outputs:
        return "landmarks"
    if {"keypoints", "scores"} <= outputs:
        return "body"
    raise ValueError(f"inputs {inputs}, outputs {sorted(outputs)}: not a detector, landmark or temporal model")


def _check_points(sess, what: str, key: str, n: int) -> tuple[int, dict]:
    """A point network (landmarks, body joints): uint8 (N, S, S, 3) crops in, ``key`` (N, n, 2) and scores (N, n)
    out; the crop side S is the model's input size."""
    shape = sess.get_inputs()[0].shape
    size = shape[1]
    if not isinstance(size, int) or shape[2] != size or shape[3] != 3:
        raise ValueError(f"{what} input shape {shape}: expected (N, S, S, 3) with a fixed crop side S")
    x = np.random.default_rng(0).integers(0, 256, (2, size, size, 3), dtype=np.uint8)
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"input": x})))
    if out[key].shape != (2, n, 2) or out["scores"].shape != (2, n):
        raise ValueError(f"{what} outputs {out[key].shape}, {out['scores'].shape}: expected (N, {n}, 2) and (N, {n})")
    return size, {}


def _check_landmarks(sess) -> tuple[int, dict]:
    return _check_points(sess, "landmark", "landmarks", 68)


def _check_detector(sess) -> tuple[int, dict]:
    from facealign.detection.anchors import priors

    x = np.random.default_rng(0).integers(0, 256, (1, 96, 128, 3), dtype=np.uint8)
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"input": x})))
    n = len(priors(96, 128))
    want = {"scores": (1, n), "boxes": (1, n, 4), "kps": (1, n, 10)}
    for k, shape in want.items():
        if out[k].shape != shape:
            raise ValueError(f"detector output {k} {out[k].shape}: expected {shape} (one row per anchor)")
    return DETECTOR_SIZE, {}


def _check_temporal(sess) -> tuple[int, dict]:
    meta = sess.get_modelmeta().custom_metadata_map
    try:
        past, future, window = int(meta["past"]), int(meta["future"]), int(meta["window"])
    except (KeyError, ValueError):
        raise ValueError("temporal model without past / future / window metadata") from None
    if window != past + 1 + future:
        raise ValueError(f"temporal metadata: window {window} != past {past} + 1 + future {future}")
    x = np.zeros((2, window, 68, 3), np.float32)
    (y,) = sess.run(None, {"window": x})
    if y.shape != (2, 68, 2):
        raise ValueError(f"temporal output {y.shape}: expected (N, 68, 2)")
    return window, {"past": past, "future": future}


def _check_body(sess) -> tuple[int, dict]:
    return _check_points(sess, "body", "keypoints", 14)


# kind -> check(session) -> (input size, options read from the graph); raises ValueError
CONTRACTS = {"landmarks": _check_landmarks, "detector": _check_detector, "temporal": _check_temporal,
             "body": _check_body}


def check_contract(path: str | Path, kind: str = "") -> tuple[str, int, dict]:
    """(kind, input size, options from the graph) of an ONNX file that meets its kind's contract; ValueError
    naming the file and the problem otherwise."""
    try:
        sess = create_session(path, 1)
        found = graph_kind(sess)
        if kind and kind != found:
            raise ValueError(f"a {found} model, not a {kind} model")
        size, opts = CONTRACTS[found](sess)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    except Exception as e:  # onnxruntime's own errors (not a model, bad graph)
        raise ValueError(f"{path}: onnxruntime cannot run it ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    return found, size, opts


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def promote(opts: PromoteOptions) -> ModelSpec:
    """Check, copy and register ``opts.source``; returns the stored spec. Nothing is written when a check fails."""
    kind, size, graph_opts = check_contract(opts.source, opts.kind)
    models_dir = Path(opts.models_dir)
    old = registry.load_specs(models_dir).get(opts.name)
    if old is not None and not opts.replace:
        raise ValueError(f"model {opts.name!r} is registered already: add --replace to ship a new version")
    if old is not None and old.kind != kind:
        raise ValueError(f"model {opts.name!r} is a {old.kind} model; {opts.source} is a {kind} model")
    file = opts.file or (old.file if old else opts.name.replace("-", "_") + ".onnx")
    for s in registry.load_specs(models_dir).values():
        if s.file == file and s.name != opts.name:
            raise ValueError(f"file {file} belongs to model {s.name!r}: choose another --file")
    description = opts.description or (old.description if old else "")
    if not description:
        raise ValueError(f"model {opts.name!r} is new: give it a --description")
    if opts.version:
        version = opts.version
    elif old is not None:
        version = str(int(old.version) + 1) if old.version.isdigit() else old.version + "+1"
    else:
        version = "1"
    options = {**DEFAULT_OPTIONS.get(kind, {}), **(old.options if old else {}), **graph_opts, **opts.options}
    if kind == "detector" and old is not None:
        size = old.input_size  # a detector's working size is a runtime choice, kept
    spec = ModelSpec(name=opts.name, kind=kind, file=file, input_size=size, version=version,
                     description=description, options=options,
                     made_by=opts.made_by or (old.made_by if old else ""),
                     licence=old.licence if old else "MIT (this project)", models_dir=models_dir)
    dest = models_dir / file
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.copyfile(opts.source, tmp)
    if _sha256(tmp) != _sha256(Path(opts.source)):
        tmp.unlink()
        raise ValueError(f"{dest}: the copy differs from {opts.source}")
    tmp.replace(dest)
    check_contract(dest, kind)
    return registry.save_spec(spec, replace=True, models_dir=models_dir)


def parse_options(pairs: list[str]) -> dict:
    """``key=value`` strings to a dict (values read as JSON when they parse, else kept as text)."""
    out = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key:
            raise ValueError(f"option {p!r}: expected key=value")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out
