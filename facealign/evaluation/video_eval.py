"""Video metrics: jitter, accuracy and lag on synthetic sequences; ground-truth-free jitter on real video; speed.

Definitions (all distances normalised by the inter-ocular distance (IOD), outer eye corners 36-45, of the ground
truth on synthetic data, of the per-frame prediction on real video):

- ``jitter``: mean over frames t >= 1 and the 68 points of ||p_t - p_{t-1}|| / IOD on *still* sequences (the
  image does not move, only noise changes), so every displacement is jitter.
- ``nme``: mean ||p_t - g_t|| / IOD over all frames and points (moving sequences).
- ``lag`` (frames): the shift d that minimises the mean error between p_t and g_{t-d} over moving sequences,
  refined to a fraction of a frame by a parabola through the minimum (positive = the output trails the truth).
- ``accel`` (real video): RMS over frames and points of the second difference ||p_{t+1} - 2 p_t + p_{t-1}|| / IOD
  of each landmark track: a still face should give ~0, smooth motion gives little, jitter gives a lot.
"""
from __future__ import annotations

import numpy as np

from facealign.alignment.points import OUTER_EYE_CORNERS


def iod(points: np.ndarray) -> np.ndarray:
    """Inter-ocular distance of (..., 68, 2) points."""
    a, b = OUTER_EYE_CORNERS
    return np.linalg.norm(points[..., a, :] - points[..., b, :], axis=-1)


def jitter(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean frame-to-frame displacement / IOD of (S, T, 68, 2) predictions (use on still sequences)."""
    d = np.linalg.norm(np.diff(pred, axis=1), axis=-1) / iod(gt[:, 1:])[..., None]
    return float(d.mean())


def nme(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean point error / IOD over sequences, frames and points."""
    return float((np.linalg.norm(pred - gt, axis=-1) / iod(gt)[..., None]).mean())


def lag(pred: np.ndarray, gt: np.ndarray, max_shift: int = 6) -> float:
    """Shift (frames) of the predictions behind the ground truth that best aligns them (see module doc)."""
    t = pred.shape[1]
    norm = iod(gt)[..., None]
    errs = []
    for d in range(-max_shift, max_shift + 1):
        lo, hi = max(0, d), min(t, t + d)  # p_t against g_{t-d}
        e = np.linalg.norm(pred[:, lo:hi] - gt[:, lo - d : hi - d], axis=-1) / norm[:, lo:hi]
        errs.append(e.mean())
    errs = np.array(errs)
    k = int(np.argmin(errs))
    shift = float(k - max_shift)
    if 0 < k < len(errs) - 1:
        a, b, c = errs[k - 1], errs[k], errs[k + 1]
        den = a - 2 * b + c
        if den > 0:
            shift += 0.5 * (a - c) / den
    return shift


def accel_rms(track: np.ndarray, norm: np.ndarray | float) -> float:
    """RMS second difference / IOD of one landmark track (T, 68, 2) (T >= 3); ``norm`` IOD per frame or scalar."""
    if len(track) < 3:
        return float("nan")
    a = track[2:] - 2 * track[1:-1] + track[:-2]
    n = np.broadcast_to(np.asarray(norm, np.float64), (len(track),))[1:-1]
    return float(np.sqrt(((np.linalg.norm(a, axis=-1) / n[:, None]) ** 2).mean()))


def apply_mode(
    mode: str,
    pred: np.ndarray,
    scores: np.ndarray,
    fps: float,
    models: dict | None = None,
    one_euro: dict | None = None,
) -> np.ndarray:
    """Fuse one track's per-frame predictions (T, 68, 2) with ``mode`` exactly as the video runtime does."""
    if mode == "off":
        return pred
    if mode == "oneeuro":
        from facealign.temporal.one_euro import one_euro_sequence

        times = np.arange(len(pred)) / fps
        return one_euro_sequence(pred, times, scale=iod(pred), **(one_euro or {}))
    return models[mode].refine_sequence(pred, scores)


def synthetic_metrics(data: dict, fused: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per mode: jitter (still sequences), nme and lag (moving sequences), and ratios to the per-frame model."""
    gt = data["gt"].astype(np.float64)
    still = data["kind"] == 0
    moving = ~still
    out: dict[str, dict[str, float]] = {}
    for mode, p in fused.items():
        out[mode] = {
            "jitter": jitter(p[still], gt[still]) if still.any() else float("nan"),
            "nme": nme(p[moving], gt[moving]) if moving.any() else float("nan"),
            "nme_still": nme(p[still], gt[still]) if still.any() else float("nan"),
            "lag": lag(p[moving], gt[moving]) if moving.any() else float("nan"),
        }
    base = out.get("off")
    if base:
        for m in out.values():
            m["jitter_ratio"] = m["jitter"] / base["jitter"]
            m["nme_ratio"] = m["nme"] / base["nme"]
    return out
