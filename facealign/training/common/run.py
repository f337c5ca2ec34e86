"""How a training run is run: its folder, resuming, a warm restart and a time budget (command-line options)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from facealign.paths import runs_dir


@dataclass
class RunOptions:
    """Options of one training invocation, checked when made.

    ``run_dir`` holds the run's checkpoints, log and ONNX export (default ``facealign.paths.runs_dir(name)``);
    ``resume`` continues from ``run_dir/last.pt``; ``restart`` (with resume) begins a new learning-rate cycle
    there; ``time_budget_min`` > 0 stops the run cleanly, with a checkpoint, when that many minutes are spent,
    and fits the learning-rate decay into them; ``epochs`` / ``steps`` > 0 override the config's.
    """

    run_dir: str | Path | None = None
    resume: bool = False
    restart: bool = False
    time_budget_min: float = 0.0
    epochs: int = 0
    steps: int = 0

    def __post_init__(self) -> None:
        if self.time_budget_min < 0:
            raise ValueError(f"time budget must be >= 0 minutes, got {self.time_budget_min}")
        if self.restart and not self.resume:
            raise ValueError("a warm restart continues a run: use it with resume")
        if self.epochs < 0 or self.steps < 0:
            raise ValueError("epochs and steps overrides must be >= 0")

    def folder(self, name: str) -> Path:
        """The run folder: ``run_dir`` when given, else ``runs_dir(name)``."""
        return Path(self.run_dir) if self.run_dir else runs_dir(name)


class TimeBudget:
    """Minutes a run may take from now (0 = no limit); ``clock`` is injectable for tests."""

    def __init__(self, minutes: float = 0.0, clock=time.monotonic) -> None:
        self.minutes = float(minutes)
        self.clock = clock
        self.t0 = clock()

    @property
    def limited(self) -> bool:
        return self.minutes > 0

    def elapsed_s(self) -> float:
        return self.clock() - self.t0

    def left_s(self) -> float:
        return max(0.0, 60.0 * self.minutes - self.elapsed_s()) if self.limited else float("inf")

    def spent(self) -> bool:
        return self.limited and self.left_s() <= 0.0

    def steps_left(self, seconds_per_step: float) -> int | None:
        """How many more steps of ``seconds_per_step`` fit (None without a limit)."""
        if not self.limited:
            return None
        return int(self.left_s() // max(seconds_per_step, 1e-9))

    def epochs_that_fit(self, epoch: int, start: int, epochs: int) -> int:
        """The epoch to end before: ``epochs``, or fewer when the whole epochs after ``epoch`` that still fit at the
        pace so far (``epoch - start`` epochs in the elapsed time, validation included) end earlier."""
        if not self.limited:
            return epochs
        per_epoch = self.elapsed_s() / max(1, epoch - start)
        return min(epochs, epoch + int(self.left_s() // max(per_epoch, 1e-9)))
