"""The Ray engine: the photo batch spread over a Ray cluster with Ray Data.

    file list (driver) -> ray.data.from_items -> map_batches(AlignActor, one FaceAligner per actor) -> driver

Each actor holds one ImageJob (sessions loaded once, in the actor's constructor) and runs every input of its
batches through it, so an input gives the same record and the same files (crops, overlays, written by the actor
under --out, which must be storage that every node sees) as with the local engine. The driver receives the small
JSON records, restores input order and writes results.jsonl itself, so --resume works unchanged. Ray is an
optional extra (pip install 'facealign[ray]'); it is imported only here.
"""
from __future__ import annotations

import json
import os
from typing import Any, Iterator, Sequence

from facealign.io.inputs import InputItem
from facealign.jobs.batch_options import BatchOptions
from facealign.jobs.engines.base import Engine, JobFactory
from facealign.jobs.options import OptionsError
from facealign.jobs.photo import ImageJob, run_one

BATCH_SIZE = 4  # inputs per actor call: small, so ordering on the driver needs little buffering


def ray_available() -> bool:
    """True when Ray Data can be imported."""
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


class AlignActor:
    """One model per actor: a FaceAligner (inside ImageJob) built once, then used for every batch."""

    def __init__(self, opts: BatchOptions, names: dict[str, str], cwd: str, factory: JobFactory = ImageJob) -> None:
        # relative input and --out paths mean what they mean on the driver (on a cluster: shared storage
        # mounted at the same path on every node)
        try:
            os.chdir(cwd)
        except OSError:
            pass
        self.job = factory(opts, names)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        records = []
        for path, error in zip(batch["path"], batch["error"]):
            item = InputItem(str(path), str(error) or None)
            records.append(json.dumps(run_one(self.job, item), separators=(",", ":")))
        return {"index": np.asarray(batch["index"]), "record": np.array(records, dtype=object)}


def _init(address: str | None, jobs: int, threads: int) -> None:
    import logging

    import ray

    for name in ("ray", "ray.data"):  # the progress bar and the summary are ours; Ray's INFO lines are noise here
        logging.getLogger(name).setLevel(logging.WARNING)
    if ray.is_initialized():
        return
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address:  # join a running cluster (`ray start --head` on one node, `ray start --address` on the others)
        ray.init(address=address, **quiet)
    else:  # a local instance with just what this job needs
        ray.init(num_cpus=max(jobs * threads, os.cpu_count() or 1), include_dashboard=False,
                 object_store_memory=256 * 1024 * 1024, **quiet)


class RayEngine(Engine):
    """``jobs`` Ray actors (each with ``opts.threads`` threads, default 1) on the cluster at ``address``."""

    def __init__(self, jobs: int = 1, address: str | None = None, batch_size: int = BATCH_SIZE) -> None:
        if not ray_available():
            raise OptionsError("--engine ray needs Ray: pip install 'facealign[ray]'")
        self.jobs = jobs
        self.address = address
        self.batch_size = batch_size

    def records(self, items: Sequence[InputItem], opts: BatchOptions, names: dict[str, str],
                job: JobFactory | None = None) -> Iterator[dict[str, Any]]:
        import ray
        import ray.data

        if not items:
            return
        jobs, batch_size = self.jobs, self.batch_size
        if opts.threads is None:  # one core per actor: the cluster schedules actors onto cores
            opts.threads = 1
        _init(self.address, jobs, opts.threads)
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # blocks come back in order; the buffer below is a safety net
        ctx.enable_progress_bars = False
        if hasattr(ctx, "print_on_execution_start"):
            ctx.print_on_execution_start = False
        rows = [{"index": i, "path": it.path, "error": it.error or ""} for i, it in enumerate(items)]
        blocks = max(1, min(len(rows), 4 * jobs, len(rows) // batch_size + 1))
        ds = ray.data.from_items(rows, override_num_blocks=blocks)
        ds = ds.map_batches(
            AlignActor,
            fn_constructor_args=(opts, names, os.getcwd(), job or ImageJob),
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=jobs),
            num_cpus=opts.threads,
        )
        pending: dict[int, dict[str, Any]] = {}
        nxt = 0
        for row in ds.iter_rows():
            pending[int(row["index"])] = json.loads(row["record"])
            while nxt in pending:
                yield pending.pop(nxt)
                nxt += 1
        if pending or nxt != len(items):
            raise RuntimeError(f"Ray engine returned {nxt} of {len(items)} records")
