"""The local engine: this process (``jobs`` = 1) or a pool of ``jobs`` spawned worker processes."""
from __future__ import annotations

import os
import threading
from typing import Any, Iterator, Sequence

from facealign.io.inputs import InputItem
from facealign.jobs.batch_options import BatchOptions
from facealign.jobs.engines.base import Engine
from facealign.jobs.photo import ImageJob, run_one

_worker: ImageJob | None = None  # one per worker process


def _init_worker(opts: BatchOptions, names: dict[str, str]) -> None:
    global _worker
    _worker = ImageJob(opts, names)


def _run_worker(item: InputItem) -> dict[str, Any]:
    assert _worker is not None
    return run_one(_worker, item)


class LocalEngine(Engine):
    """``jobs`` processes on this machine; at most ``4 * jobs`` inputs in flight."""

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs

    def records(self, items: Sequence[InputItem], opts: BatchOptions, names: dict[str, str]) -> Iterator[dict[str, Any]]:
        jobs = self.jobs
        if jobs <= 1 or len(items) <= 1:
            job = ImageJob(opts, names)
            for item in items:
                yield run_one(job, item)
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
