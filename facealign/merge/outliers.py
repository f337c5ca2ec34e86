"""Which photos to leave out of a fusion: failed fits, and faces that disagree with the consensus (another person,
a wrong face, a badly placed set of points).

The consensus distance of a photo is the mean absolute difference, over the inner face, between its shape-normalised
face and the per-pixel median of all of them, both as luminance blurred a little and standardised per photo (zero
mean, unit spread in the region), so lighting, contrast and focus matter little and the face's appearance much.
A photo is an outlier when its distance lies far above the others' (robust z-score) and clearly above their median.
"""
from __future__ import annotations

import cv2
import numpy as np

from facealign.merge.fusion import luminance, valid_median

MIN_PHOTOS = 4  # fewer photos have no meaningful consensus


def consensus_distances(stack: np.ndarray, valid: np.ndarray, region: np.ndarray, blur: float = 2.0) -> np.ndarray:
    """(n,) distance of each aligned face (n, h, w, 3) to the median face over ``region`` (h, w) bool."""
    y = luminance(stack)
    if blur > 0:
        y = np.stack([cv2.GaussianBlur(im, (0, 0), blur) for im in y])
    ok = valid & region[None]
    z = np.zeros_like(y)
    for i in range(len(y)):
        v = y[i][ok[i]]
        if v.size:
            z[i] = (y[i] - v.mean()) / max(float(v.std()), 1.0)
    med, _ = valid_median(z, ok)
    d = np.full(len(y), np.inf)
    for i in range(len(y)):
        if ok[i].sum() > 0.5 * region.sum():
            d[i] = float(np.abs(z[i] - med)[ok[i]].mean())
    return d


def consensus_outliers(distances: np.ndarray, z_max: float = 3.5, ratio_min: float = 1.3) -> np.ndarray:
    """(n,) bool: distances with a robust z-score above ``z_max`` and more than ``ratio_min`` x the median.
    Infinite distances (a face mostly outside its photo) are outliers; with fewer than MIN_PHOTOS none is."""
    d = np.asarray(distances, dtype=np.float64)
    out = ~np.isfinite(d)
    fin = d[~out]
    if len(fin) < MIN_PHOTOS:
        return out
    med = float(np.median(fin))
    mad = float(np.median(np.abs(fin - med)))
    scale = max(1.4826 * mad, 0.05 * med, 1e-6)
    return out | (((d - med) / scale > z_max) & (d > ratio_min * med))


def fit_error_ratio(fit_error: float, points68: np.ndarray) -> float:
    """A 3D fit's RMS landmark residual as a fraction of the face size (square root of the points' box area)."""
    p = np.asarray(points68, dtype=np.float64)
    wh = p.max(0) - p.min(0)
    return float(fit_error / max(np.sqrt(wh[0] * wh[1]), 1e-9))
