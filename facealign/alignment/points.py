"""Landmark schemas: the iBUG 68 order, its mirror permutation, the 5 alignment points and box rules.

iBUG 68 (0-based): 0-16 jaw, 17-21 brow on the image left (subject's right), 22-26 the other brow, 27-30 nose
bridge, 31-35 nose base, 36-41 eye on the image left, 42-47 the other eye, 48-59 outer lip, 60-67 inner lip.
The 5 points: left eye centre, right eye centre, nose tip, left mouth corner, right mouth corner (image left/right).
"""
from __future__ import annotations

import numpy as np

N68 = 68

# Index of each point's mirror image under a horizontal flip.
FLIP68 = np.array(
    list(range(16, -1, -1))  # jaw
    + list(range(26, 21, -1)) + list(range(21, 16, -1))  # brows
    + [27, 28, 29, 30] + [35, 34, 33, 32, 31]  # nose
    + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40]  # eyes
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lip
    + [64, 63, 62, 61, 60, 67, 66, 65]  # inner lip
)
FLIP5 = np.array([1, 0, 2, 4, 3])

LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)
NOSE_TIP = 30
MOUTH_LEFT, MOUTH_RIGHT = 48, 54
OUTER_EYE_CORNERS = (36, 45)  # 300-W inter-ocular normalisation


def five_from_68(lm: np.ndarray) -> np.ndarray:
    """The 5 alignment points from 68 iBUG points; works on (..., 68, 2) arrays."""
    lm = np.asarray(lm)
    return np.stack(
        [
            lm[..., LEFT_EYE, :].mean(-2),
            lm[..., RIGHT_EYE, :].mean(-2),
            lm[..., NOSE_TIP, :],
            lm[..., MOUTH_LEFT, :],
            lm[..., MOUTH_RIGHT, :],
        ],
        axis=-2,
    )


def tight_box(pts: np.ndarray) -> np.ndarray:
    """[x1, y1, x2, y2] of a point set (the face box convention when the points are the 68 iBUG points)."""
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    return np.concatenate([pts.min(0), pts.max(0)])


def flip_points(pts: np.ndarray, width: int) -> np.ndarray:
    """Mirror points of an image of ``width`` pixels (0-based pixel centres) and reorder them."""
    pts = np.asarray(pts, dtype=np.float64).copy()
    pts[..., 0] = (width - 1) - pts[..., 0]
    perm = FLIP68 if pts.shape[-2] == 68 else FLIP5 if pts.shape[-2] == 5 else None
    if perm is None:
        raise ValueError(f"no flip order for {pts.shape[-2]} points")
    return pts[..., perm, :]
