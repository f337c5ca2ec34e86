"""The FaceAligner of a job: every job goes through the one factory, ``facealign.pipeline.build_aligner``.

``factory`` ("module:function") replaces the shipped models with the function's result: a test's stand-ins
must reach worker processes and Ray actors, which cannot see monkeypatching, so the hook travels as plain text.
"""
from __future__ import annotations

import importlib
from typing import Any


def make_aligner(opts: Any, *, factory: str | None = None, **overrides: Any):
    """The FaceAligner of ``opts`` (a job's options: its same-named fields, then ``overrides``, make the
    ``AlignerOptions``); or ``factory(opts)`` when a factory is given."""
    if factory:
        module, func = factory.split(":")
        return getattr(importlib.import_module(module), func)(opts)
    from facealign.pipeline import AlignerOptions, build_aligner

    return build_aligner(AlignerOptions.of(opts, **overrides))
