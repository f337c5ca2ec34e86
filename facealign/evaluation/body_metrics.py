"""Body keypoint metrics (numpy): PCK@alpha by torso diameter, PCKh@alpha by head size, per joint.

PCK@0.2: a joint is correct when within 0.2 x the torso diameter (right shoulder to left hip, LSP's convention)
of the truth; PCKh@0.5: within 0.5 x the head size (head top to neck). A person without a prediction (NaN
points) counts as missed for every joint. ``mask`` leaves unlabelled joints out.
"""
from __future__ import annotations

import numpy as np

from facealign.alignment.body_points import HEAD_TOP, L_HIP, NECK, R_SHOULDER


def torso_size(gt: np.ndarray) -> np.ndarray:
    """(N,) right shoulder to left hip distance of (N, 14, 2) truths."""
    return np.linalg.norm(gt[:, R_SHOULDER] - gt[:, L_HIP], axis=-1)


def head_size(gt: np.ndarray) -> np.ndarray:
    """(N,) head top to neck distance of (N, 14, 2) truths."""
    return np.linalg.norm(gt[:, HEAD_TOP] - gt[:, NECK], axis=-1)


def correct(pred: np.ndarray, gt: np.ndarray, ref: np.ndarray, alpha: float) -> np.ndarray:
    """(N, 14) bool: within ``alpha`` x ``ref`` (N,) of the truth; NaN predictions are wrong."""
    d = np.linalg.norm(np.asarray(pred, np.float64) - gt, axis=-1)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(d, nan=np.inf) <= alpha * np.asarray(ref, np.float64)[:, None]


def pck_table(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None, alpha: float = 0.2,
              kind: str = "pck") -> tuple[float, np.ndarray]:
    """(mean over labelled joints, per-joint rate (14,), NaN where a joint has no label) of PCK (``kind``
    "pck", torso) or PCKh ("pckh", head). People whose reference size is unknown (not labelled) are skipped."""
    gt = np.asarray(gt, np.float64)
    mask = np.ones(gt.shape[:2], bool) if mask is None else np.asarray(mask, bool)
    if kind == "pck":
        ref, need = torso_size(gt), mask[:, R_SHOULDER] & mask[:, L_HIP]
    elif kind == "pckh":
        ref, need = head_size(gt), mask[:, HEAD_TOP] & mask[:, NECK]
    else:
        raise ValueError(f"kind must be 'pck' or 'pckh', got {kind!r}")
    ok = correct(pred, gt, ref, alpha)
    m = mask & need[:, None]
    per_joint = np.full(gt.shape[1], np.nan)
    n = m.sum(0)
    per_joint[n > 0] = (ok & m).sum(0)[n > 0] / n[n > 0]
    total = float((ok & m).sum() / m.sum()) if m.sum() else float("nan")
    return total, per_joint
