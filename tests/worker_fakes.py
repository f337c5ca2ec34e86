"""Stand-in models for worker processes and Ray actors (they cannot see a test's monkeypatching).

Used through facealign.jobs.batch_options.BatchOptions.extra["aligner_factory"] = "worker_fakes:fake_aligner" (tests/ must be importable in
the workers: spawn copies sys.path; Ray workers get PYTHONPATH).
"""
from __future__ import annotations

from helpers import BrightSquareDetector, MeanShapeLandmarks

from facealign.pipeline import FaceAligner


def fake_aligner(opts) -> FaceAligner:
    return FaceAligner(BrightSquareDetector(), False if opts.fast else MeanShapeLandmarks(), threads=opts.threads)
