"""Batch jobs over many images: read, run the pipeline, write crops, overlays and results.jsonl.

The CLI commands `align` and `pose` are thin layers over ``run_batch``. One input never stops the batch:
its error goes into its JSON line and to the ``on_error`` callback, and the job goes on.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from facealign.alignment.transforms import compose
from facealign.io.atomic import write_image_atomic
from facealign.io.images import DEFAULT_MAX_PIXELS, ImageError, load_image
from facealign.io.inputs import InputItem, expand_inputs, output_names
from facealign.io.results import ResultsWriter


@dataclass
class BatchOptions:
    """Everything a batch job needs; plain data so it can be sent to worker processes."""

    out: str
    template: str = "arcface112"
    size: int | None = None
    boxes: dict[str, list[list[float]]] | None = None  # --boxes: path as given -> tight-68 boxes
    det_size: int | None = None
    det_threshold: float | None = None
    fast: bool = False  # no 68-point network: align on the detector's 5 points
    landmarks_model: str | None = None  # registered name or .onnx file (None: the default model)
    refine: bool = False
    verify: float = 0.4  # second-stage check of detections by the landmark confidence (0: off)
    tta: bool = True  # mirrored second landmark pass, averaged
    fit3d: bool = False
    camera: str = "weak_perspective"
    focal: float | None = None
    crops: bool = True
    overlays: bool = True
    meshes: bool = False  # write the fitted mesh (OBJ) per face when fit3d
    crop_format: str = "png"
    max_pixels: int = DEFAULT_MAX_PIXELS
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchSummary:
    images: int = 0
    failed: int = 0
    skipped: int = 0
    faces: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)


class ImageJob:
    """Processes one image at a time with one FaceAligner (one per process)."""

    def __init__(self, opts: BatchOptions, names: dict[str, str]) -> None:
        self.opts = opts
        self.names = names
        self.out = Path(opts.out)
        self.aligner = make_aligner(opts)

    def __call__(self, item: InputItem) -> dict[str, Any]:
        rec: dict[str, Any] = {"image": item.path, "width": None, "height": None, "error": item.error, "faces": []}
        if item.error:
            return rec
        try:
            img = load_image(item.path, max_pixels=self.opts.max_pixels)
        except ImageError as e:
            rec["error"] = str(e)
            return rec
        rec["width"], rec["height"] = img.width, img.height
        try:
            rec["faces"] = self._faces(item.path, img)
        except _InputError as e:
            rec["error"] = str(e)
        return rec

    def _faces(self, path: str, img) -> list[dict[str, Any]]:
        o, fa, k = self.opts, self.aligner, img.scale
        pix = img.pixels
        if o.boxes is not None:
            if path not in o.boxes:
                raise _InputError("no boxes for this image in the --boxes file")
            try:
                boxes = np.asarray(o.boxes[path], dtype=np.float64).reshape(-1, 4) / k
            except ValueError:
                raise _InputError("boxes in the --boxes file are not [[x1, y1, x2, y2], ...]") from None
            faces = fa.landmarks_for_boxes(pix, boxes)
        else:
            faces = fa.detect(pix)
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


def make_aligner(opts: BatchOptions):
    """The FaceAligner a batch job uses (a module-level factory so tests can substitute models)."""
    factory = opts.extra.get("aligner_factory")
    if factory:  # "module:function(opts) -> FaceAligner", importable in worker processes and Ray actors
        import importlib

        module, func = factory.split(":")
        return getattr(importlib.import_module(module), func)(opts)
    from facealign.pipeline import FaceAligner
    from facealign.runtime.session import enable_shared_pool

    # a batch worker runs only our models: detector and landmark network on one pool (one thread: no pool)
    enable_shared_pool(opts.threads)
    return FaceAligner(
        landmarks=False if opts.fast else opts.landmarks_model,
        det_size=opts.det_size,
        det_threshold=opts.det_threshold,
        refine=opts.refine,
        verify=opts.verify,
        tta=opts.tta,
        threads=opts.threads,
    )


class _InputError(Exception):
    pass


def _scale_face(f, k: float) -> None:
    """Map a face from decoded to original pixels (k = original / decoded)."""
    if k == 1.0:
        return
    f.box = f.box * k
    if f.landmarks is not None:
        f.landmarks = f.landmarks * k
    if f.landmarks5 is not None:
        f.landmarks5 = f.landmarks5 * k


def _scaled_copy(f, k: float):
    """A shallow copy of a face with its 2D points scaled (the original's arrays are left alone)."""
    import copy

    g = copy.copy(f)
    _scale_face(g, k)  # assigns new arrays, so ``f`` is unchanged
    return g


# -- process pool ---------------------------------------------------------------------------------
_worker: ImageJob | None = None


def _init_worker(opts: BatchOptions, names: dict[str, str]) -> None:
    global _worker
    _worker = ImageJob(opts, names)


def _run_worker(item: InputItem) -> dict[str, Any]:
    assert _worker is not None
    return _safe_call(_worker, item)


def _safe_call(job: Callable[[InputItem], dict[str, Any]], item: InputItem) -> dict[str, Any]:
    try:
        return job(item)
    except Exception as e:  # a bug or model failure on one input must not end the batch
        return {"image": item.path, "width": None, "height": None, "error": f"internal error: {type(e).__name__}: {e}", "faces": []}


def iter_results(
    items: list[InputItem], opts: BatchOptions, jobs: int = 1, names: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Records in input order, computed by one process or a pool of ``jobs`` processes.

    ``names`` (input -> output file stem) should come from the whole input list, so a resumed run names its
    crops as the uninterrupted run would; by default it is made from ``items``.
    """
    names = names if names is not None else output_names([i.path for i in items])
    if jobs <= 1 or len(items) <= 1:
        job = ImageJob(opts, names)
        for item in items:
            yield _safe_call(job, item)
        return
    import multiprocessing as mp

    if opts.threads is None:  # share the cores between the workers instead of oversubscribing
        opts.threads = max(1, (os.cpu_count() or 1) // jobs)
    ctx = mp.get_context("spawn")  # onnxruntime sessions are not fork-safe
    # at most `window` inputs in flight: memory stays bounded by the pool, not by the data set, even when the
    # writer (one fsync per line) is slower than the workers
    window = threading.BoundedSemaphore(4 * jobs)
    stop = threading.Event()

    def feed() -> Iterator[InputItem]:
        for item in items:
            while not window.acquire(timeout=0.1):
                if stop.is_set():
                    return
            yield item

    try:
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(opts, names)) as pool:
            # imap keeps input order; results are small dicts, crops are written by the workers
            for rec in pool.imap(_run_worker, feed(), chunksize=1):
                window.release()
                yield rec
    finally:
        stop.set()


def run_batch(
    inputs: list[str],
    opts: BatchOptions,
    *,
    resume: bool = False,
    jobs: int = 1,
    progress: bool = True,
    on_error: Callable[[str, str], None] | None = None,
    engine: str = "local",
    address: str | None = None,
) -> BatchSummary:
    """Process every input; write DIR/results.jsonl (one line per input, in input order), crops and overlays.

    ``engine="ray"`` runs the images on a Ray cluster (``address``; None starts a local instance) with ``jobs``
    actors (facealign.engines.ray_engine); the results file is the same as the local engine's.
    """
    from tqdm import tqdm

    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    items = expand_inputs(inputs)
    summary = BatchSummary()
    t0 = time.perf_counter()
    with ResultsWriter(out / "results.jsonl", resume=resume) as writer:
        todo = [i for i in items if i.path not in writer.done]
        summary.skipped = len(items) - len(todo)
        bar = tqdm(total=len(todo), unit="img", disable=not progress, dynamic_ncols=True, desc="align")
        try:
            names = output_names([i.path for i in items])
            if engine == "ray":
                from facealign.engines.ray_engine import iter_results_ray

                records = iter_results_ray(todo, opts, jobs=jobs, names=names, address=address)
            else:
                records = iter_results(todo, opts, jobs=jobs, names=names)
            for rec in records:
                writer.write(rec)
                summary.images += 1
                summary.faces += len(rec["faces"])
                if rec["error"]:
                    summary.failed += 1
                    summary.errors.append((rec["image"], rec["error"]))
                    if on_error:
                        on_error(rec["image"], rec["error"])
                bar.update(1)
                bar.set_postfix(faces=summary.faces, errors=summary.failed, refresh=False)
        finally:
            bar.close()
        if summary.skipped:  # a resumed run appended after the earlier lines: restore input order
            writer.reorder([i.path for i in items])
    summary.seconds = time.perf_counter() - t0
    return summary


def load_boxes_file(path: str) -> dict[str, list[list[float]]]:
    """Read a --boxes JSON file: {image path as given: [[x1, y1, x2, y2], ...]}."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ValueError(f"{path}: cannot read boxes file ({e.strerror or e})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object {{image path: [[x1, y1, x2, y2], ...]}}")
    return data
