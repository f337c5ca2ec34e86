"""The landmark crop rule, shared by training and inference so that a training crop is the inference crop.

A face box (the tight box of the 68 points, see facealign.types) becomes a square crop centred on the box
centre with side ``CROP_SCALE * max(box width, box height)``, optionally rotated by the face's roll so the
face comes out upright. The crop is one affine warp from the original image to the network input.
"""
from __future__ import annotations

import numpy as np

from facealign.alignment.points import tight_box
from facealign.alignment.templates import MEAN68

CROP_SCALE = 1.4


def crop_transform(box: np.ndarray, size: int, angle: float = 0.0, scale: float = CROP_SCALE) -> np.ndarray:
    """2x3 transform from original pixels to a ``size`` x ``size`` crop around ``box``.

    ``angle`` (degrees) is the face's in-plane rotation (roll); the crop is rotated by it so the face is upright.
    """
    x1, y1, x2, y2 = np.asarray(box, dtype=np.float64)[:4]
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    side = scale * max(x2 - x1, y2 - y1, 1.0)
    k = size / side
    a = np.radians(angle)
    c, s = np.cos(a) * k, np.sin(a) * k
    # rotate by -angle about the box centre, scale, then move the centre to the crop centre;
    # pixel centres: the crop spans [-0.5, size - 0.5], so its centre is (size - 1) / 2.
    m = np.array([[c, s, 0.0], [-s, c, 0.0]])
    m[:, 2] = (size - 1) / 2 - m[:, :2] @ np.array([cx, cy])
    return m


def roll_from_five(p5: np.ndarray) -> float | np.ndarray:
    """In-plane rotation (degrees) of a face from its 5 points (5, 2): the angle of the eye line; for (N, 5, 2) the
    N angles at once."""
    p5 = np.asarray(p5, dtype=np.float64)
    d = p5[..., 1, :] - p5[..., 0, :]
    angle = np.degrees(np.arctan2(d[..., 1], d[..., 0]))
    return float(angle) if angle.ndim == 0 else angle


def box_from_five(p5: np.ndarray) -> np.ndarray:
    """Estimate the tight 68-point box from 5 points: fit the mean shape's 5 points by a similarity, take its box.

    This is how 5-point data (MTFL) gets boxes in the same convention as 68-point data.
    """
    from facealign.alignment.points import five_from_68
    from facealign.alignment.transforms import apply, estimate_similarity

    m = estimate_similarity(five_from_68(MEAN68), p5)
    return tight_box(apply(m, MEAN68))


def upright_box(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """(box, roll) for a second pass: the tight box of the landmarks measured in the face's upright frame."""
    lm = np.asarray(landmarks, dtype=np.float64)
    from facealign.alignment.points import five_from_68

    roll = roll_from_five(five_from_68(lm))
    a = np.radians(roll)
    c, s = np.cos(a), np.sin(a)
    centre = lm.mean(0)
    r = np.array([[c, s], [-s, c]])
    up = (lm - centre) @ r.T
    b = tight_box(up)
    mid = (b[:2] + b[2:]) / 2
    mid_orig = r.T @ mid + centre
    half = (b[2:] - b[:2]) / 2
    return np.concatenate([mid_orig - half, mid_orig + half]), roll


