"""The landmark crop rule, shared by training and inference so that a training crop is the inference crop.

A face box (the tight box of the 68 points, see facealign.types) becomes a square crop centred on the box
centre with side ``CROP_SCALE * max(box width, box height)``, optionally rotated by the face's roll so the
face comes out upright. The crop is one affine warp from the original image to the network input
(``warp_crop``: the runtime's landmark crops, the training crop caches and augmentation all go through it).
"""
from __future__ import annotations

import cv2
import numpy as np

from facealign.alignment.points import tight_box
from facealign.alignment.templates import MEAN68
from facealign.alignment.transforms import apply, compose, invert

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
    from facealign.alignment.transforms import estimate_similarity

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


def prefilter(image: np.ndarray, m: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(source, transform) for warping a ``size`` x ``size`` crop by ``m`` without aliasing.

    A bilinear warp that shrinks a face by more than 2x skips pixels (aliasing: jagged, noisy crops of big faces
    in high-resolution photos). Then the crop's region is first reduced by an integer factor with area
    averaging, and the transform is re-expressed on the reduced region.
    """
    scale = float(np.hypot(m[0, 0], m[0, 1]))  # crop pixels per image pixel
    f = int(1.0 / scale / 1.5) if scale > 0 else 1  # keep at least ~1.5 source pixels per crop pixel
    if f < 2:
        return image, m
    h, w = image.shape[:2]
    corners = apply(invert(m), np.array([[-1, -1], [size, -1], [-1, size], [size, size]], np.float64))
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, w), min(y1, h)
    if x1 - x0 < f or y1 - y0 < f:
        return image, m
    region = image[y0:y1, x0:x1]
    rw, rh = (x1 - x0) // f, (y1 - y0) // f
    small = cv2.resize(region[: rh * f, : rw * f], (rw, rh), interpolation=cv2.INTER_AREA)
    # reduced pixel j covers source pixels j*f .. j*f+f-1, so its centre is at j*f + (f-1)/2 (+ region offset)
    a = np.array([[f, 0.0, x0 + (f - 1) / 2], [0.0, f, y0 + (f - 1) / 2]])
    return small, compose(m, a)


def warp_crop(
    image: np.ndarray, m: np.ndarray, size: int, border: int = cv2.BORDER_CONSTANT, dst: np.ndarray | None = None
) -> np.ndarray:
    """The ``size`` x ``size`` crop of ``image`` under the 2x3 transform ``m`` (image -> crop pixels): area
    averaging first when the warp shrinks a lot (``prefilter``), then one bilinear warp. ``dst``: write into it."""
    src, m = prefilter(image, np.asarray(m, np.float64), size)
    return cv2.warpAffine(src, m, (size, size), dst=dst, flags=cv2.INTER_LINEAR, borderMode=border)
