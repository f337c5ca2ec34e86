"""The photo batch behind `align` and `pose`: every input through the pipeline, one results.jsonl line each.

One input never stops the batch: its error goes into its JSON line and to the ``on_error`` callback, and the job
goes on. Options are checked as a whole first (``OptionsError`` before any image is read).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from facealign.io.inputs import expand_inputs, output_names
from facealign.io.results import ResultsWriter
from facealign.jobs.batch_options import BatchOptions
from facealign.jobs.engines import get_engine


@dataclass
class BatchSummary:
    """What a batch did: inputs processed in this run, failed, skipped (done before, --resume), faces found."""

    images: int = 0
    failed: int = 0
    skipped: int = 0
    faces: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)


def run_batch(
    inputs: list[str],
    opts: BatchOptions,
    *,
    progress: bool = True,
    on_error: Callable[[str, str], None] | None = None,
) -> BatchSummary:
    """Process every input; write DIR/results.jsonl (one line per input, in input order), crops and overlays.

    ``inputs`` are files, folders (searched recursively) or globs. The engine (``opts.engine``: local processes
    or a Ray cluster) does not change the results. Raises ``OptionsError`` before any work for bad options.
    """
    from tqdm import tqdm

    engine = get_engine(opts.validate())  # OptionsError here, before anything is read or written
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    items = expand_inputs(inputs)
    summary = BatchSummary()
    t0 = time.perf_counter()
    with ResultsWriter(out / "results.jsonl", resume=opts.resume) as writer:
        todo = [i for i in items if i.path not in writer.done]
        summary.skipped = len(items) - len(todo)
        bar = tqdm(total=len(todo), unit="img", disable=not progress, dynamic_ncols=True, desc="align")
        try:
            # names come from the whole input list, so a resumed run names its crops as the uninterrupted run would
            names = output_names([i.path for i in items])
            for rec in engine.records(todo, opts, names):
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
