"""One photo of a batch: read it, run the pipeline, write its crops and overlay, return its JSON record.

An ``ImageJob`` holds one FaceAligner and serves one process (or one Ray actor); every engine runs inputs through
``run_one``, so a given input gives the same record and the same files whichever engine ran it.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facealign.alignment.transforms import compose
from facealign.io.atomic import write_image_atomic
from facealign.io.images import ImageError, load_image
from facealign.io.inputs import InputItem
from facealign.jobs.aligner import make_aligner
from facealign.jobs.batch_options import BatchOptions


class InputError(Exception):
    """This input cannot be processed (its record gets the message; the batch goes on)."""


def batch_aligner(opts: BatchOptions):
    """The FaceAligner of a photo batch (one per worker process or actor)."""
    return make_aligner(opts, factory=opts.extra.get("aligner_factory"))


class ImageJob:
    """Processes one image at a time with one FaceAligner (one per process)."""

    def __init__(self, opts: BatchOptions, names: dict[str, str]) -> None:
        self.opts = opts
        self.names = names
        self.out = Path(opts.out)
        self.aligner = batch_aligner(opts)

    def __call__(self, item: InputItem) -> dict[str, Any]:
        return process_input(item, self.opts.max_pixels, "faces", self._faces, warnings=True)

    def _faces(self, path: str, img) -> list[dict[str, Any]]:
        o, fa, k = self.opts, self.aligner, img.scale
        pix = img.pixels
        boxes = input_boxes(o.boxes, path, img)
        faces = fa.detect(pix) if boxes is None else fa.landmarks_for_boxes(pix, boxes)
        aligned = fa.align(pix, faces, template=o.template, size=o.size) if o.crops else [None] * len(faces)
        for f in faces:
            _scale_face(f, k)  # from here on: original pixels
        if o.fit3d:  # fit in original pixels so pose, camera and meshes refer to the image as stored
            fa.fit3d((img.width, img.height), faces, camera=o.camera, focal=o.focal)
        name = self.names.get(path, Path(path).stem)
        records = []
        to_decoded = np.array([[1 / k, 0, 0], [0, 1 / k, 0]])
        meshes = {}
        for i, (f, a) in enumerate(zip(faces, aligned)):
            if f.fit is not None and (o.meshes or o.overlays):
                meshes[i] = fa.fitter.mesh(f.fit)
            if o.meshes and i in meshes:
                from facealign.face3d.mesh_io import write_mesh

                write_mesh(self.out / "meshes" / f"{name}_{i}.obj", *meshes[i])
            r = f.to_json()
            if a is not None:
                rel = f"crops/{name}_{i}.{o.crop_format}"
                write_image_atomic(self.out / rel, a.image)
                r["crop"] = rel
                r["transform"] = np.round(compose(a.transform, to_decoded), 6).tolist()  # original -> crop
            records.append(r)
        if o.overlays:
            from facealign.io.draw import draw_faces

            overlay = draw_faces(pix, [_scaled_copy(f, 1 / k) for f in faces])
            if meshes:
                from facealign.face3d.draw import draw_fit

                for i, (v, tris) in meshes.items():
                    overlay = draw_fit(overlay, faces[i].fit, v, tris, scale=k)
            write_image_atomic(self.out / "overlays" / f"{name}.jpg", overlay, jpeg_quality=90)
        return records


MAX_BOX_SCALE = 4.0  # a given box may reach this many image sides across (a face cut by the photo's edge)
MIN_BOX_SIDE = 2.0  # pixels: a smaller box holds no face the landmark network could place points in


def given_boxes(value: Any, width: int, height: int) -> np.ndarray:
    """The (N, 4) boxes of one image from the --boxes file, checked against the image (``InputError`` naming the
    first bad box): finite numbers, x2 > x1 and y2 > y1, at least MIN_BOX_SIDE pixels, overlapping the image,
    at most MAX_BOX_SCALE image sides across. Never a face from a box that holds none."""
    try:
        boxes = np.asarray(value, dtype=np.float64).reshape(-1, 4)
    except (ValueError, TypeError):
        raise InputError("boxes in the --boxes file are not [[x1, y1, x2, y2], ...]") from None
    side = max(width, height)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        what = f"--boxes box {i} [{x1:g}, {y1:g}, {x2:g}, {y2:g}]"
        if not np.isfinite([x1, y1, x2, y2]).all():
            raise InputError(f"{what}: not a finite number")
        if x2 <= x1 or y2 <= y1:
            raise InputError(f"{what}: inverted or empty (needs x2 > x1 and y2 > y1)")
        if min(x2 - x1, y2 - y1) < MIN_BOX_SIDE:
            raise InputError(f"{what}: smaller than {MIN_BOX_SIDE:g} pixels")
        if x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:
            raise InputError(f"{what}: outside the {width}x{height} image")
        if max(x2 - x1, y2 - y1) > MAX_BOX_SCALE * side:
            raise InputError(f"{what}: more than {MAX_BOX_SCALE:g} times the image's size")
    return boxes


def input_boxes(boxes: dict[str, Any] | None, path: str, img) -> np.ndarray | None:
    """The --boxes file's boxes of one input, checked (``given_boxes``) and in the decoded image's pixels; None
    without a --boxes file; ``InputError`` when the file has none for this input."""
    if boxes is None:
        return None
    if path not in boxes:
        raise InputError("no boxes for this image in the --boxes file")
    return given_boxes(boxes[path], img.width, img.height) / img.scale


def process_input(item: InputItem, max_pixels: int, key: str, find: Callable[[str, Any], list[dict[str, Any]]],
                  warnings: bool = False) -> dict[str, Any]:
    """One input's record, the same for every photo batch (``align`` / ``pose``, ``body``): the image read with
    ``load_image`` (an input error or an unreadable image goes into ``error``), then ``find(path, image)`` fills
    the record's list ``key`` ("faces", "bodies"); an ``InputError`` it raises becomes the record's error.
    ``warnings``: keep the image's warning (e.g. the other pages of a multi-page TIFF were not read)."""
    rec: dict[str, Any] = {"image": item.path, "width": None, "height": None, "error": item.error, key: []}
    if item.error:
        return rec
    try:
        img = load_image(item.path, max_pixels=max_pixels)
    except ImageError as e:
        rec["error"] = str(e)
        return rec
    rec["width"], rec["height"] = img.width, img.height
    if warnings and img.warning:
        rec["warning"] = img.warning
    try:
        rec[key] = find(item.path, img)
    except InputError as e:
        rec["error"] = str(e)
    return rec


def error_record(path: str, message: str) -> dict[str, Any]:
    """The record of an input that could not be processed."""
    return {"image": path, "width": None, "height": None, "error": message, "faces": []}


def run_one(job: Callable[[InputItem], dict[str, Any]], item: InputItem) -> dict[str, Any]:
    """``job(item)``, with any exception turned into the input's error record: one input never ends the batch."""
    try:
        return job(item)
    except Exception as e:  # a bug or model failure on one input must not end the batch
        return error_record(item.path, f"internal error: {type(e).__name__}: {e}")


def _scale_face(f, k: float) -> None:
    """Map a face from decoded to original pixels (k = original / decoded)."""
    if k == 1.0:
        return
    f.box = f.box * k
    if f.detector_box is not None:
        f.detector_box = f.detector_box * k
    if f.landmarks is not None:
        f.landmarks = f.landmarks * k
    if f.landmarks5 is not None:
        f.landmarks5 = f.landmarks5 * k
    if f.landmarks3d_xy is not None:
        f.landmarks3d_xy = f.landmarks3d_xy * k


def _scaled_copy(f, k: float):
    """A shallow copy of a face with its 2D points scaled (the original's arrays are left alone)."""
    g = copy.copy(f)
    _scale_face(g, k)  # assigns new arrays, so ``f`` is unchanged
    return g
