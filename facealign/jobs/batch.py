"""The photo batch behind `align` and `pose`: every input through the pipeline, one results.jsonl line each.

One input never stops the batch: its error goes into its JSON line and to the ``on_error`` callback, and the job
goes on. A warning (e.g. only the first page of a multi-page TIFF was read) goes into the line and to ``on_warning``. Options are checked as a whole first (``OptionsError`` before any image is read).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from facealign.io.inputs import expand_inputs, output_names
from facealign.io.results import ResultsWriter
from facealign.jobs.batch_options import BatchOptions
from facealign.jobs.engines import get_engine
from facealign.jobs.engines.base import JobFactory
from facealign.jobs.output import claim_folder, clear_previous_outputs, is_run_folder
from facealign.jobs.run_record import check_run_settings


@dataclass
class BatchSummary:
    """What a batch did: inputs processed in this run, failed, skipped (done before, --resume), faces found
    (the body batch: people)."""

    images: int = 0
    failed: int = 0
    skipped: int = 0
    faces: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)


# options that change what a batch writes: --resume refuses to continue a run made with other values
OUTPUT_SETTINGS = ("template", "size", "det_size", "det_threshold", "fast", "landmarks_model", "refine", "verify",
                   "tta", "fit3d", "camera", "focal", "crops", "overlays", "meshes", "crop_format", "max_pixels")
OUTPUT_PATTERNS = ["crops/*", "overlays/*", "meshes/*"]  # an earlier run's files, cleared by a fresh run


@dataclass(frozen=True)
class BatchKind:
    """What one batch (``align`` / ``pose``, ``body``) gives the shared loop of ``run_inputs``."""

    name: str  # the run record's job name (run.json), so --resume never continues another kind's run
    key: str  # the record's list of what was found ("faces", "bodies"): counted in the summary
    label: str  # the progress bar's
    settings: tuple[str, ...]  # the options that change what the batch writes: --resume refuses other values
    patterns: tuple[str, ...]  # an earlier run's files, cleared by a fresh run
    done: Callable[[dict[str, Any] | None, str, Any, Path], bool]  # (earlier record, name, opts, out) -> skip it
    job: JobFactory | None = None  # the per-input job (None: the photo batch's ImageJob)


def run_batch(
    inputs: list[str],
    opts: BatchOptions,
    *,
    progress: bool = True,
    on_error: Callable[[str, str], None] | None = None,
    on_warning: Callable[[str, str], None] | None = None,
) -> BatchSummary:
    """Process every input; write DIR/results.jsonl (one line per input, in input order), crops and overlays.

    ``inputs`` are files, folders (searched recursively; the output folder itself never) or globs. The engine
    (``opts.engine``: local processes or a Ray cluster) does not change the results. Before any input is read:
    ``OptionsError`` for bad options, ``OutputError`` (an OptionsError) when the output folder cannot be written
    or another run holds it. A fresh run clears an earlier run's crops and overlays from the folder; a resumed one
    (``opts.resume``) refuses other output options than the run it continues and redoes inputs whose crops or
    overlay went missing.
    """
    return run_inputs(inputs, opts, PHOTOS, progress=progress, on_error=on_error, on_warning=on_warning)


def run_inputs(
    inputs: list[str],
    opts: Any,
    kind: BatchKind,
    *,
    progress: bool = True,
    on_error: Callable[[str, str], None] | None = None,
    on_warning: Callable[[str, str], None] | None = None,
) -> BatchSummary:
    """The batch loop every photo batch shares (``run_batch``, ``facealign.jobs.body.run_body``): options checked
    (``opts.validate()``) and the output folder claimed before any input is read, a fresh run clears the earlier
    run's files, a resumed one checks its settings against run.json and skips the inputs ``kind.done`` accepts;
    the engine runs ``kind.job`` over the rest, results.jsonl gets one line per input in input order."""
    engine = get_engine(opts.validate())  # OptionsError here, before anything is read or written
    out = Path(opts.out)
    ours = is_run_folder(out, "results.jsonl")
    lock = claim_folder(out)
    try:
        if not opts.resume:
            clear_previous_outputs(out, list(kind.patterns), ours)
        settings = {k: getattr(opts, k) for k in kind.settings}
        settings["boxes"] = _digest(opts.boxes)
        check_run_settings(out, kind.name, settings, opts.resume)
        return _run(engine, expand_inputs(inputs, exclude=[out]), opts, out, kind, progress, on_error, on_warning)
    finally:
        lock.release()


def _run(engine, items, opts, out: Path, kind: BatchKind, progress: bool, on_error, on_warning) -> BatchSummary:
    from tqdm import tqdm

    summary = BatchSummary()
    t0 = time.perf_counter()
    # names come from the whole input list, so a resumed run names its crops as the uninterrupted run would
    names = output_names([i.path for i in items])
    with ResultsWriter(out / "results.jsonl", resume=opts.resume) as writer:
        earlier = bool(writer.records)
        todo = [i for i in items if not kind.done(writer.done.get(i.path), names[i.path], opts, out)]
        summary.skipped = len(items) - len(todo)
        bar = tqdm(total=len(todo), unit="img", disable=not progress, dynamic_ncols=True, desc=kind.label)
        records = engine.records(todo, opts, names, job=kind.job)
        try:
            for rec in records:
                if kind.key != "faces":  # an engine's error record (photo.error_record) is the photo batch's
                    rec.pop("faces", None)
                found = rec.setdefault(kind.key, [])
                writer.write(rec)
                summary.images += 1
                summary.faces += len(found)
                if rec["error"]:
                    summary.failed += 1
                    summary.errors.append((rec["image"], rec["error"]))
                    if on_error:
                        on_error(rec["image"], rec["error"])
                if rec.get("warning") and on_warning:
                    on_warning(rec["image"], rec["warning"])
                bar.update(1)
                bar.set_postfix(refresh=False, errors=summary.failed, **{kind.key: summary.faces})
        finally:
            records.close()  # an interrupt or error stops the engine's workers now, not when the frame is freed
            bar.close()
        if earlier:  # a resumed run appended after the earlier lines: one line per input, in input order
            writer.reorder([i.path for i in items])
    summary.seconds = time.perf_counter() - t0
    return summary


def _done(rec: dict[str, Any] | None, name: str, opts: BatchOptions, out: Path) -> bool:
    """An earlier record counts as done only while every file it points to is still there."""
    if rec is None:
        return False
    if opts.overlays and not (out / "overlays" / f"{name}.jpg").is_file():
        return False
    for i, f in enumerate(rec.get("faces") or []):
        crop = f.get("crop")
        if opts.crops and (not isinstance(crop, str) or not (out / crop).is_file()):
            return False
        if opts.meshes and "landmarks3d" in f and not (out / "meshes" / f"{name}_{i}.obj").is_file():
            return False
    return True


PHOTOS = BatchKind("batch", "faces", "align", OUTPUT_SETTINGS, tuple(OUTPUT_PATTERNS), _done)


def _digest(boxes: Any) -> str | None:
    if boxes is None:
        return None
    return hashlib.sha1(json.dumps(boxes, sort_keys=True).encode("utf-8", "backslashreplace")).hexdigest()
