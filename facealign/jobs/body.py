"""The body batch behind `facealign body`: every photo's people, their 14 joints and body crops, one
results.jsonl line per input in input order; the photo batch's input, error, resume and progress behaviour
(facealign.jobs.batch); the inputs run in this process or, with ``jobs`` > 1, on the photo batch's engines
(facealign.jobs.engines: worker processes of this machine, or Ray actors), each with its own BodyAligner.

    from facealign.jobs.body import BodyOptions, run_body
    summary = run_body(["photos/"], BodyOptions(out="out"))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facealign.alignment.body_points import REFINE_PASSES
from facealign.alignment.transforms import compose
from facealign.io.atomic import write_image_atomic
from facealign.io.images import DEFAULT_MAX_PIXELS
from facealign.io.inputs import InputItem
from facealign.jobs.batch import BatchKind, BatchSummary, run_inputs
from facealign.jobs.batch_options import ENGINES, MAX_JOBS, MAX_THREADS
from facealign.jobs.options import MAX_CROP_SIZE, OptionsError, check_choice, check_int, check_model
from facealign.jobs.photo import input_boxes, process_input

FRAMES = ("upper_body", "full_body")
OUTPUT_SETTINGS = ("size", "body_model", "det_size", "crops", "overlays", "crop_format", "max_pixels", "tta", "passes")
OUTPUT_PATTERNS = ["crops/*", "overlays/*"]


@dataclass
class BodyOptions:
    """Everything a body batch needs (``validate()`` raises OptionsError before any input is read)."""

    out: str
    boxes: dict[str, list[list[float]]] | None = None  # --boxes: path as given -> person boxes
    body_model: str | None = None  # registered name or .onnx file (None: the default body model)
    size: int | None = None  # crop width (None: 256; the full-body crop is twice as high)
    det_size: int | None = None  # the face detector's working size
    crops: bool = True
    overlays: bool = True
    crop_format: str = "png"
    max_pixels: int = DEFAULT_MAX_PIXELS
    threads: int | None = None
    resume: bool = False
    tta: bool = False  # the body network also on each mirrored crop (2x its time; docs/body.md)
    passes: int = REFINE_PASSES  # body network passes per person (1: no refinement on the joints' box)
    jobs: int = 1  # worker processes (local engine) or actors (Ray)
    engine: str = "local"
    address: str | None = None  # Ray cluster address (engine "ray" only)
    extra: dict[str, Any] = field(default_factory=dict)  # "aligner_factory": "module:function" (tests)

    def validate(self) -> "BodyOptions":
        """Raise ``OptionsError`` for the first broken rule; return self."""
        if not isinstance(self.out, str) or not self.out:
            raise OptionsError("out: expected an output folder")
        check_int("size", self.size, 8, MAX_CROP_SIZE)
        check_int("det_size", self.det_size, 32, 8192)
        check_int("max_pixels", self.max_pixels, 1, optional=False)
        check_int("threads", self.threads, 1, MAX_THREADS)
        check_int("passes", self.passes, 1, 10, optional=False)
        check_int("jobs", self.jobs, 1, MAX_JOBS, optional=False)
        check_choice("engine", self.engine, ENGINES)
        if self.address and self.engine != "ray":
            raise OptionsError("--address needs --engine ray")
        if self.crop_format not in ("png", "jpg", "webp"):
            raise OptionsError(f"crop_format: {self.crop_format!r} is not one of png, jpg, webp")
        check_model("body_model", self.body_model, "body")
        if self.boxes is not None and not isinstance(self.boxes, dict):
            raise OptionsError("boxes: expected {image path: [[x1, y1, x2, y2], ...]}")
        return self


def body_aligner(opts: BodyOptions):
    """The BodyAligner of a body batch (its face finder from the one FaceAligner factory)."""
    from facealign.body_pipeline import BodyAligner
    from facealign.jobs.aligner import make_aligner

    factory = opts.extra.get("aligner_factory")
    faces = make_aligner(opts, factory=factory)
    return BodyAligner(opts.body_model, faces=faces, threads=opts.threads or 1, tta=opts.tta, passes=opts.passes)


class BodyJob:
    """One photo at a time: read, find faces and bodies, write crops and overlay, return the JSON record. The job
    an engine builds once per worker (``BodyJob(opts, names)``, then called with each input)."""

    def __init__(self, opts: BodyOptions, names: dict[str, str]) -> None:
        self.opts = opts
        self.names = names
        self.out = Path(opts.out)
        self.aligner = body_aligner(opts)

    def __call__(self, item: InputItem) -> dict[str, Any]:
        return process_input(item, self.opts.max_pixels, "bodies", self._bodies)

    def _bodies(self, path: str, img) -> list[dict[str, Any]]:
        o, ba, k = self.opts, self.aligner, img.scale
        pix = img.pixels
        faces, bodies = ba.detect(pix, boxes=input_boxes(o.boxes, path, img))
        aligned = ba.align(pix, bodies, faces, size=o.size)
        name = self.names.get(path, Path(path).stem)
        to_decoded = np.array([[1 / k, 0, 0], [0, 1 / k, 0]])
        records = []
        for i, (b, crops) in enumerate(zip(bodies, aligned)):
            r = _scaled(b, k).to_json()
            r["crops"], r["transforms"] = {}, {}
            for frame in FRAMES:
                a = crops.get(frame)
                rel = None
                if a is not None and o.crops:
                    rel = f"crops/{name}_{i}_{frame}.{o.crop_format}"
                    write_image_atomic(self.out / rel, a.image)
                r["crops"][frame] = rel
                r["transforms"][frame] = None if a is None else np.round(compose(a.transform, to_decoded), 6).tolist()
            records.append(r)
        if o.overlays:
            from facealign.body.draw import draw_bodies
            from facealign.io.draw import draw_faces

            overlay = draw_bodies(draw_faces(pix, faces), bodies)
            write_image_atomic(self.out / "overlays" / f"{name}.jpg", overlay, jpeg_quality=90)
        return records


def _scaled(body, k: float):
    """A copy of a body in original pixels (k = original / decoded)."""
    import copy

    b = copy.copy(body)
    b.box = np.asarray(body.box) * k
    b.keypoints = np.asarray(body.keypoints) * k
    return b


def run_body(inputs: list[str], opts: BodyOptions, *, progress: bool = True,
             on_error: Callable[[str, str], None] | None = None) -> BatchSummary:
    """Process every input; write DIR/results.jsonl (one line per input, in input order), crops and overlays.
    ``summary.faces`` counts the bodies found. Bad options or an unusable output folder: OptionsError before any
    input is read; a resumed run (``opts.resume``) skips inputs done before and refuses other output options.
    The loop, the output folder and the resume rule are the photo batch's (``facealign.jobs.batch.run_inputs``)."""
    return run_inputs(inputs, opts, BODIES, progress=progress, on_error=on_error)


def _done(rec: dict[str, Any] | None, name: str, opts: BodyOptions, out: Path) -> bool:
    """An earlier record counts as done only while every file it points to is still there."""
    if rec is None:
        return False
    if opts.overlays and not (out / "overlays" / f"{name}.jpg").is_file():
        return False
    for b in rec.get("bodies") or []:
        for rel in (b.get("crops") or {}).values():
            if rel is not None and not (out / rel).is_file():
                return False
    return True


BODIES = BatchKind("body", "bodies", "body", OUTPUT_SETTINGS, tuple(OUTPUT_PATTERNS), _done, job=BodyJob)
