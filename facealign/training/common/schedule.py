"""The learning-rate schedule of every trainer: linear warm-up, then a cosine decay to a floor.

A cycle runs from ``start`` to ``end`` (optimiser steps). A time budget moves ``end`` (``fit``) so the decay
finishes when the budget does; a warm restart (``restart``) begins a new cycle at a given step, with its own
warm-up and peak, e.g. to continue a finished run for longer.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass
class WarmupCosine:
    """Learning rate at each optimiser step: ``base_lr`` x (warm-up ramp, then cosine from ``peak`` to ``floor``)."""

    base_lr: float
    warmup: int  # steps of linear warm-up at the start of a cycle
    end: int  # the step where the cosine reaches the floor
    floor: float = 0.01  # fraction of base_lr at the end
    start: int = 0  # first step of the current cycle
    peak: float = 1.0  # fraction of base_lr at the top of the current cycle

    def __call__(self, step: int) -> float:
        s = step - self.start
        if s < self.warmup:
            return self.base_lr * self.peak * (s + 1) / self.warmup
        t = (s - self.warmup) / max(1, self.end - self.start - self.warmup)
        cos = 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, t))))
        return self.base_lr * (self.floor + (self.peak - self.floor) * cos)

    def apply(self, optimizer, step: int) -> float:
        """Set the rate of every parameter group of ``optimizer`` for ``step``; returns it."""
        lr = self(step)
        for g in optimizer.param_groups:
            g["lr"] = lr
        return lr

    def fit(self, step: int, steps_left: int, cap: int | None = None) -> None:
        """End the cycle ``steps_left`` steps after ``step`` (at most at ``cap``): what a time budget allows."""
        end = step + max(0, int(steps_left))
        self.end = min(end, cap) if cap is not None else end

    def restart(self, step: int, end: int, peak: float = 1.0, warmup: int | None = None) -> None:
        """Begin a new cycle at ``step`` that decays to the floor at ``end`` from ``peak`` x base_lr."""
        self.start, self.end, self.peak = step, end, peak
        if warmup is not None:
            self.warmup = warmup

    def state_dict(self) -> dict:
        return asdict(self)

    def load_state_dict(self, state: dict) -> None:
        for k in ("start", "peak", "end", "warmup"):  # the cycle; base rate and floor come from the config
            if k in state:
                setattr(self, k, state[k])
