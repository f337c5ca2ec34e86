"""Stand-in models for worker processes and Ray actors (they cannot see a test's monkeypatching).

Used through BatchOptions.extra["aligner_factory"] = "worker_fakes:fake_aligner" (facealign.jobs.batch_options;
tests/ must be importable in the workers: spawn copies sys.path; Ray workers get PYTHONPATH).
"""
from __future__ import annotations

import os

from helpers import BrightSquareDetector, MeanShapeLandmarks

from facealign.pipeline import FaceAligner


def fake_aligner(opts) -> FaceAligner:
    return FaceAligner(BrightSquareDetector(), False if opts.fast else MeanShapeLandmarks(), threads=opts.threads)


class _Dying(BrightSquareDetector):
    """Dies as the kernel's OOM killer would kill it (SIGKILL) on an image 77 pixels wide."""

    def detect(self, image):
        if image.shape[1] == 77:
            import os
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        return super().detect(image)


class _Slow(BrightSquareDetector):
    def detect(self, image):
        import time

        time.sleep(0.3)
        return super().detect(image)


class _Gated(BrightSquareDetector):
    """Lets each worker process finish its first PASS images, then holds it in the middle of the next one (the
    file GATE_DIR/busy-PID says so) until it is stopped: a test can interrupt a batch in a known state, the run
    unable to finish first, instead of guessing with sleeps. Held at most 300 s, so nothing can hang for ever."""

    PASS = 2
    calls = 0

    def detect(self, image):
        import time
        from pathlib import Path

        _Gated.calls += 1
        if _Gated.calls > self.PASS:
            (Path(os.environ["GATE_DIR"]) / f"busy-{os.getpid()}").touch()
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                time.sleep(0.02)
        return super().detect(image)


def gated_aligner(opts) -> FaceAligner:
    return FaceAligner(_Gated(), MeanShapeLandmarks(), threads=opts.threads)


def dying_aligner(opts) -> FaceAligner:
    return FaceAligner(_Dying(), MeanShapeLandmarks(), threads=opts.threads)


def slow_aligner(opts) -> FaceAligner:
    return FaceAligner(_Slow(), MeanShapeLandmarks(), threads=opts.threads)


def video_aligner(opts) -> FaceAligner:
    from video_helpers import SquareLandmarks

    return FaceAligner(_Slow() if os.environ.get("SLOW") else BrightSquareDetector(), SquareLandmarks())
