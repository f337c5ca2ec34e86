"""The face frame the temporal module works in: landmarks mapped by the similarity that fits the current frame's
prediction to the 300-W mean shape (unit box). Shared by the runtime (facealign.temporal.fusion) and training.

Working in this frame makes the temporal net independent of where the face is, how large it is and how it is
rolled; it only sees how the points move relative to the current frame, and their per-point confidence.
"""
from __future__ import annotations

import numpy as np

from facealign.alignment.templates import MEAN68
from facealign.alignment.transforms import estimate_similarity

# the jaw contour slides along the face: fit the frame on the inner points (brows, eyes, nose, mouth)
FIT_POINTS = np.arange(17, 68)


def to_face_frame(ref: np.ndarray) -> np.ndarray:
    """Similarities (..., 2, 3) from image pixels to the mean-shape frame, fitted on ``ref`` (..., 68, 2)."""
    return estimate_similarity(np.asarray(ref)[..., FIT_POINTS, :], MEAN68[FIT_POINTS])


def apply_batch(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply transforms (N, 2, 3) to points (N, ..., K, 2); extra middle axes broadcast."""
    m = np.asarray(m)
    pts = np.asarray(pts)
    extra = pts.ndim - 3
    at = np.swapaxes(m[:, :, :2], 1, 2).reshape(m.shape[0], *([1] * extra), 2, 2)
    t = m[:, :, 2].reshape(m.shape[0], *([1] * extra), 1, 2)
    return np.matmul(pts, at) + t


def invert_batch(m: np.ndarray) -> np.ndarray:
    """Inverses of similarity/affine transforms (N, 2, 3)."""
    a = np.linalg.inv(m[:, :, :2])
    out = np.zeros_like(m)
    out[:, :, :2] = a
    out[:, :, 2] = -np.einsum("nij,nj->ni", a, m[:, :, 2])
    return out


def window_indices(present: np.ndarray, centre: int, past: int, future: int) -> np.ndarray:
    """Indices into a track of length ``len(present)`` for the window around ``centre``: frames where the track
    is absent, and frames beyond the ends, repeat the nearest frame on the centre's side (edge padding)."""
    idx = np.empty(past + 1 + future, dtype=np.int64)
    idx[past] = centre
    last = centre
    for k in range(1, past + 1):
        j = centre - k
        if j >= 0 and present[j] and last == centre - k + 1:
            last = j
        idx[past - k] = last
    last = centre
    for k in range(1, future + 1):
        j = centre + k
        if j < len(present) and present[j] and last == centre + k - 1:
            last = j
        idx[past + k] = last
    return idx
