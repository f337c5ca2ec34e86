"""Engines of the photo batch behind one interface (``Engine.records``: one record per input, in input order)."""
from __future__ import annotations

from facealign.jobs.batch_options import BatchOptions
from facealign.jobs.engines.base import Engine


def get_engine(opts: BatchOptions) -> Engine:
    """The engine ``opts.engine`` names, with ``opts.jobs`` workers (Ray: at ``opts.address``)."""
    if opts.engine == "ray":
        from facealign.jobs.engines.ray_engine import RayEngine

        return RayEngine(opts.jobs, opts.address)
    from facealign.jobs.engines.local import LocalEngine

    return LocalEngine(opts.jobs)


__all__ = ["Engine", "get_engine"]
