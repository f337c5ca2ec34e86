"""Landmark accuracy metrics: NME with three normalisations, CED, AUC and failure rate (300-W conventions).

Per face, the normalised mean error is ``NME = mean_k ||pred_k - gt_k|| / d`` over the evaluated points, with
``d`` one of (ground truth only, never the prediction):

- ``io`` inter-ocular: 68 points: distance between the outer eye corners 36 and 45 (300-W); 5 points: distance
  between the two eye centres (the only eye points 5-point data has).
- ``ip`` inter-pupil: distance between the eye centres; 68 points: eye centre = mean of points 36-41 / 42-47;
  5 points: the annotated eye centres (so ``ip`` equals ``io`` there).
- ``box``: sqrt(w * h) of the ground-truth face box: the tight box of the 68 points; for 5 points the box
  facealign.alignment.crop.box_from_five(gt5) (mean-shape similarity fit), i.e. the same convention.

A face the method did not find (detector miss) has error +inf: it counts as a failure at every threshold and
adds 0 to the AUC. The CED at e is the fraction of faces with error <= e. ``AUC@T`` is the area under the CED
from 0 to T divided by T (so in [0, 1], as in the 300-W challenge); with the empirical CED this is exactly
``mean_i max(0, 1 - e_i / T)``. ``FR@T`` is the fraction of faces with error > T.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np

from facealign.alignment.crop import box_from_five
from facealign.alignment.points import OUTER_EYE_CORNERS, five_from_68, tight_box

NORMS = ("io", "ip", "box")
THRESHOLDS = (0.08, 0.10)


def normaliser(gt: np.ndarray, norm: str) -> float:
    """The normalising distance of one ground-truth face (68 or 5 points) for ``norm`` in io / ip / box."""
    gt = np.asarray(gt, dtype=np.float64)
    n = len(gt)
    if n not in (68, 5):
        raise ValueError(f"normaliser needs 68 or 5 points, got {n}")
    if norm == "io":
        a, b = (gt[OUTER_EYE_CORNERS[0]], gt[OUTER_EYE_CORNERS[1]]) if n == 68 else (gt[0], gt[1])
    elif norm == "ip":
        five = five_from_68(gt) if n == 68 else gt
        a, b = five[0], five[1]
    elif norm == "box":
        x1, y1, x2, y2 = tight_box(gt) if n == 68 else box_from_five(gt)
        return float(np.sqrt(max(x2 - x1, 0.0) * max(y2 - y1, 0.0)))
    else:
        raise ValueError(f"unknown normalisation {norm!r}; one of {', '.join(NORMS)}")
    return float(np.linalg.norm(a - b))


def point_errors(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray | None = None) -> np.ndarray:
    """Per-point Euclidean errors in pixels (NaN where ``visible`` is False)."""
    e = np.linalg.norm(np.asarray(pred, np.float64) - np.asarray(gt, np.float64), axis=-1)
    if visible is not None:
        e = np.where(np.asarray(visible, bool), e, np.nan)
    return e


def nme(pred: np.ndarray | None, gt: np.ndarray, norm: str = "io", visible: np.ndarray | None = None) -> float:
    """NME of one face (mean point error / normaliser); +inf when ``pred`` is None (a miss)."""
    if pred is None:
        return float("inf")
    d = normaliser(gt, norm)
    if d <= 0:
        raise ValueError("degenerate ground truth: normalising distance is 0")
    return float(np.nanmean(point_errors(pred, gt, visible)) / d)


def inter_ocular(gt: np.ndarray) -> np.ndarray:
    """The ``io`` normaliser of many faces at once: (...) distances of ground truth (..., K, 2), K = 68 (outer eye
    corners) or 5 (eye centres)."""
    gt = np.asarray(gt, dtype=np.float64)
    a, b = OUTER_EYE_CORNERS if gt.shape[-2] == 68 else (0, 1)
    return np.linalg.norm(gt[..., a, :] - gt[..., b, :], axis=-1)


def nme_batch(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-face ``io`` NME of many faces at once: (...) for predictions and ground truth (..., K, 2)."""
    e = np.linalg.norm(np.asarray(pred, np.float64) - np.asarray(gt, np.float64), axis=-1).mean(-1)
    return e / np.maximum(inter_ocular(gt), 1e-12)


def nme_all(pred: np.ndarray | None, gt: np.ndarray, visible: np.ndarray | None = None) -> dict[str, float]:
    """NME of one face under every normalisation: {"io": .., "ip": .., "box": ..}."""
    return {n: nme(pred, gt, n, visible) for n in NORMS}


def auc(errors: Sequence[float], threshold: float) -> float:
    """Area under the CED from 0 to ``threshold``, divided by ``threshold`` (in [0, 1]); misses (inf) add 0."""
    e = np.asarray(errors, dtype=np.float64)
    if e.size == 0:
        return float("nan")
    return float(np.mean(np.clip(1.0 - e / threshold, 0.0, 1.0)))


def failure_rate(errors: Sequence[float], threshold: float) -> float:
    """Fraction of faces with error > ``threshold`` (misses included)."""
    e = np.asarray(errors, dtype=np.float64)
    return float(np.mean(e > threshold)) if e.size else float("nan")


def ced(errors: Sequence[float], max_error: float = 0.10, steps: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): the cumulative error distribution, y = fraction of faces with error <= x, x in [0, max_error]."""
    e = np.sort(np.asarray(errors, dtype=np.float64))
    x = np.linspace(0.0, max_error, steps)
    y = np.searchsorted(e, x, side="right") / max(len(e), 1)
    return x, y


def summarize(errors: Sequence[float], thresholds: Iterable[float] = THRESHOLDS) -> dict[str, float]:
    """Mean NME over found faces, count, misses, AUC@T and FR@T over all faces (misses are failures)."""
    e = np.asarray(errors, dtype=np.float64)
    found = e[np.isfinite(e)]
    out: dict[str, float] = {
        "n": int(e.size),
        "misses": int(e.size - found.size),
        "nme": float(found.mean()) if found.size else float("nan"),
        "median": float(np.median(found)) if found.size else float("nan"),
    }
    for t in thresholds:
        out[f"auc@{t:.2f}"] = auc(e, t)
        out[f"fr@{t:.2f}"] = failure_rate(e, t)
    return out


def per_bin(errors: Sequence[float], bins: Sequence[object], thresholds: Iterable[float] = THRESHOLDS) -> dict[str, dict]:
    """summarize() per attribute value (e.g. MTFL pose 1..5); faces whose bin is None are left out."""
    groups: dict[object, list[float]] = defaultdict(list)
    for e, b in zip(errors, bins):
        if b is not None:
            groups[b].append(e)
    return {str(b): summarize(groups[b], thresholds) for b in sorted(groups, key=str)}


MTFL_POSE_NAMES = {1: "left profile", 2: "left", 3: "frontal", 4: "right", 5: "right profile"}
