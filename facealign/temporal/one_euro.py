"""The One Euro filter (Casiez, Roussel and Vogel, CHI 2012): the classical baseline for landmark smoothing.

An exponential smoother whose cut-off frequency rises with speed: on a still face it averages strongly (low
cut-off, little jitter); when the face moves it opens up (little lag). Per coordinate:

    alpha(fc)  = 1 / (1 + tau / dt),  tau = 1 / (2 pi fc)
    dx_hat     = lowpass(alpha(d_cutoff), (x - x_hat_prev) / dt, dx_hat_prev)     # speed, itself smoothed
    fc         = min_cutoff + beta * |dx_hat|
    x_hat      = lowpass(alpha(fc), x, x_hat_prev)

Parameters (defaults tuned on the synthetic still/moving sequences of facealign.training.temporal):
- ``min_cutoff`` (Hz): cut-off at rest. Lower = steadier still faces, more lag on slow drifts.
- ``beta``: how fast the cut-off rises with speed. Higher = less lag on fast motion, more jitter while moving.
- ``d_cutoff`` (Hz): cut-off of the speed estimate (1 Hz, as the paper recommends).

Speeds are measured in face sizes per second (``scale`` = the face's inter-ocular distance in pixels), so one
set of parameters works for small and large faces alike.
"""
from __future__ import annotations

import math

import numpy as np

DEFAULT_MIN_CUTOFF = 0.1
DEFAULT_BETA = 20.0
DEFAULT_D_CUTOFF = 1.0


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One Euro filter over an array of any shape (e.g. (68, 2) landmarks), one call per frame."""

    def __init__(
        self,
        min_cutoff: float = DEFAULT_MIN_CUTOFF,
        beta: float = DEFAULT_BETA,
        d_cutoff: float = DEFAULT_D_CUTOFF,
    ) -> None:
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        """Forget the past (e.g. a track re-appears after an occlusion)."""
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, x: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """The filtered value at time ``t`` (seconds) of the new measurement ``x``; ``scale`` divides speeds."""
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t is None or t <= self._t:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self._t
        self._t = t
        dx = (x - self._x) / dt
        self._dx = self._dx + _alpha(self.d_cutoff, dt) * (dx - self._dx)
        speed = np.abs(self._dx) / max(scale, 1e-9)
        a = _alpha(self.min_cutoff + self.beta * speed, dt)
        self._x = self._x + a * (x - self._x)
        return self._x.copy()


def one_euro_sequence(
    x: np.ndarray,
    times: np.ndarray,
    scale: np.ndarray | float = 1.0,
    min_cutoff: float = DEFAULT_MIN_CUTOFF,
    beta: float = DEFAULT_BETA,
    d_cutoff: float = DEFAULT_D_CUTOFF,
) -> np.ndarray:
    """Filter a whole sequence ``x`` (T, ...) sampled at ``times`` (T,) (evaluation helper)."""
    f = OneEuroFilter(min_cutoff, beta, d_cutoff)
    sc = np.broadcast_to(np.asarray(scale, dtype=np.float64), (len(x),))
    return np.stack([f(xi, float(ti), float(si)) for xi, ti, si in zip(x, times, sc)])
