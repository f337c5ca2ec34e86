"""The merge job behind `facealign merge`: the main face of every photo aligned to one template and fused.

    photos -> main (largest, surest) face of each -> aligned crop + mask -> fusion method -> FILE (+ extras)

Photos are read one at a time and handed to the fusion method as they come, so memory does not grow with their
number. FILE is the method's main composite; its other pictures get FILE's stem + their suffix (mean: _median,
_sheet); FILE with the suffix .json reports every input.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from facealign.io.images import DEFAULT_MAX_PIXELS
from facealign.jobs import merge_methods
from facealign.jobs.aligner import make_aligner
from facealign.jobs.options import OptionsError, check_choice, check_int
from facealign.jobs.output import claim_file

OUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
MAX_MERGE_SIZE = 1024  # the composites are size^2 per picture; larger is a typo, not a face


@dataclass
class AlignedInput:
    """One photo's contribution: its main face aligned to the template, and where the crop saw the photo."""

    path: str
    face: Any  # facealign.types.Face (photo pixels)
    aligned: Any  # facealign.types.AlignedFace
    mask: np.ndarray  # (size, size) uint8: 255 where the crop lies inside the photo
    image: np.ndarray | None = None  # the photo (BGR), for methods that warp from it (warp, 3d)


def fuse_mean(inputs: Iterator[AlignedInput], opts: "MergeOptions"):
    """Today's fusion: per-pixel mean (FILE) and median (_median) of the valid pixels, and a contact sheet."""
    from facealign.merge.mean import MeanFusion

    with MeanFusion(opts.size, spool_dir=str(Path(opts.out).parent)) as fusion:
        for a in inputs:
            fusion.add(a.aligned.image, a.mask)
        return fusion.result() if fusion.count else None


@dataclass(frozen=True)
class MergeMethod:
    """A fusion method of the merge job: ``fuse(aligned inputs, options)`` returns a result with ``count`` and
    ``outputs()`` (suffix -> picture), or None when nothing was merged; ``outputs`` names those suffixes up front
    ("": FILE itself), so the job can refuse an --out that would overwrite an input before it starts."""

    fuse: Callable[[Iterator[AlignedInput], "MergeOptions"], Any]
    outputs: tuple[str, ...]
    extra_files: Callable[[Path], dict[str, Path]] | None = None  # FILE -> other files written beside it (3d mesh)


METHODS: dict[str, MergeMethod] = {
    "mean": MergeMethod(fuse_mean, ("", "_median", "_sheet")),
    "warp": MergeMethod(merge_methods.fuse_warp, ("", "_sheet")),
    "3d": MergeMethod(merge_methods.fuse_3d, ("",), merge_methods.mesh_paths),
}


@dataclass
class MergeOptions:
    """Everything a merge needs; ``validate()`` raises ``OptionsError`` before any photo is read."""

    out: str  # the main composite: .png, .jpg or .webp
    template: str = "mean68"
    size: int = 256
    method: str = "warp"  # the sharpest composite (docs/merge.md); "mean" is the plain similarity-aligned mean
    max_pixels: int = DEFAULT_MAX_PIXELS
    pose: str | None = None  # 3d: "yaw,pitch,roll" of the rendered face (default frontal)
    extra: dict[str, Any] = field(default_factory=dict)  # "aligner_factory": "module:function" (tests)

    def validate(self) -> "MergeOptions":
        """Raise ``OptionsError`` for the first broken rule; return self."""
        from facealign.alignment.templates import TEMPLATES

        if not self.out or Path(self.out).suffix.lower() not in OUT_SUFFIXES:
            raise OptionsError(f"--out must end in .png, .jpg or .webp: {self.out}")
        check_choice("template", self.template, sorted(TEMPLATES))
        check_int("size", self.size, 8, MAX_MERGE_SIZE, optional=False)
        check_choice("method", self.method, sorted(METHODS))
        merge_methods.check_options(self.method, self.template, self.pose)
        check_int("max_pixels", self.max_pixels, 1, optional=False)
        return self

    def output_paths(self) -> dict[str, Path]:
        """Suffix -> file of each picture the method writes, "json" -> the report, and the method's other files
        (3d: "obj", "mtl", "texture"): everything the merge may write, checked against the inputs up front."""
        out = Path(self.out)
        method = METHODS[self.method]
        paths = {k: out.with_name(out.stem + k + out.suffix) for k in method.outputs}
        paths["json"] = out.with_suffix(".json")
        if method.extra_files is not None:
            paths.update(method.extra_files(out))
        return paths


@dataclass
class MergeSummary:
    """What a merge did: faces merged, inputs that failed, the report of every input, the files written."""

    merged: int = 0
    failed: int = 0
    inputs: list[dict[str, Any]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


def main_face(faces: list) -> Any:
    """The photo's subject: the largest face (by the detector's box), weighed by its detection score."""
    return max(faces, key=lambda f: (f.found_box[2] - f.found_box[0]) * (f.found_box[3] - f.found_box[1]) * f.score)


def merge_aligner(opts: MergeOptions):
    """The FaceAligner of a merge (the default models, their own thread pools)."""
    return make_aligner(opts, factory=opts.extra.get("aligner_factory"), shared_pool=False)


def run_merge(
    inputs: list[str], opts: MergeOptions, *, progress: bool = True, on_error: Callable[[str, str], None] | None = None
) -> MergeSummary:
    """Merge the main faces of ``inputs`` (files, folders, globs) into ``opts.out`` and its companions.

    Raises ``OptionsError`` before any photo is read for bad options, when ``out`` (or a companion: FILE_*, FILE
    .json) is one of the inputs, and (``OutputError``) when ``out`` cannot be written or another merge is writing
    it. With no face merged nothing is written (``summary.merged == 0``).
    """
    from facealign.io.inputs import expand_inputs

    opts.validate()
    items = expand_inputs(inputs)
    written = {os.path.realpath(p) for p in opts.output_paths().values()}
    clash = next((i.path for i in items if os.path.realpath(i.path) in written), None)
    if clash is not None:
        raise OptionsError(f"--out {opts.out} would overwrite the input {clash}; choose another name")
    lock = claim_file(opts.out)
    try:
        return _merge(items, opts, progress, on_error)
    finally:
        lock.release()


def _merge(items, opts: MergeOptions, progress: bool, on_error) -> MergeSummary:
    from tqdm import tqdm

    from facealign.io.atomic import write_bytes_atomic, write_image_atomic
    from facealign.io.images import ImageError, load_image

    summary = MergeSummary()
    fa = merge_aligner(opts)

    def aligned_inputs() -> Iterator[AlignedInput]:
        for item in tqdm(items, disable=not progress, unit="img", desc="merge"):
            entry: dict[str, Any] = {"image": item.path, "error": item.error}
            found = None
            if not item.error:
                try:
                    img = load_image(item.path, max_pixels=opts.max_pixels).pixels
                    faces = fa.detect(img)
                    if not faces:
                        entry["error"] = "no face found"
                    else:
                        main = main_face(faces)
                        a = fa.align(img, [main], template=opts.template, size=opts.size)[0]
                        ones = np.full(img.shape[:2], 255, np.uint8)
                        mask = cv2.warpAffine(ones, a.transform, (opts.size, opts.size), flags=cv2.INTER_NEAREST)
                        found = AlignedInput(item.path, main, a, mask, img)
                        entry["box"] = np.round(main.box, 2).tolist()
                except ImageError as e:
                    entry["error"] = str(e)
            if entry["error"]:
                summary.failed += 1
                if on_error:
                    on_error(item.path, entry["error"])
            summary.inputs.append(entry)
            if found is not None:
                yield found

    result = METHODS[opts.method].fuse(aligned_inputs(), opts)
    if result is None:
        return summary
    summary.merged = result.count
    paths = opts.output_paths()
    for suffix, image in result.outputs().items():
        write_image_atomic(paths[suffix], image)
        summary.written.append(str(paths[suffix]))
    if hasattr(result, "annotate"):  # warp / 3d: which photos were used, and why not
        result.annotate(summary.inputs)
        summary.written += [str(p) for p in result.write_extras(Path(opts.out))]
    report = {"template": opts.template, "size": opts.size, "merged": result.count, "inputs": summary.inputs}
    report.update(getattr(result, "info", {}))
    write_bytes_atomic(paths["json"], json.dumps(report, indent=1).encode())
    summary.written.append(str(paths["json"]))
    return summary
