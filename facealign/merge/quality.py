"""How much each photo should count in a fusion, and the sharpness measure the composites are judged by.

A photo's weight is the product of four factors in [0, 1]:
- resolution: its inter-ocular distance in the photo over the one in the output (an upsampled face adds blur);
- sharpness: the gradient energy of its warped inner face over the best photo's (motion blur, focus);
- frontalness: ``cos(yaw) * cos(pitch)`` of the 3D fit, or without a fit a landmark symmetry (nose tip against
  the two outer eye corners), squared: a turned face warped onto one shape is stretched on its far side;
- confidence: the landmark network's mean per-point confidence (bad points misplace the warp).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

INNER = np.arange(17, 68)  # brows, eyes, nose, mouth: the inner face


@dataclass
class PhotoQuality:
    """A photo's quality factors and their product ``weight``."""

    resolution: float
    sharpness: float
    frontalness: float
    confidence: float
    weight: float = 0.0

    def to_json(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def inner_mask(points68: np.ndarray, size: tuple[int, int], erode: int = 0) -> np.ndarray:
    """(h, w) bool: the convex hull of the inner face (points 17-67) of a shape in a ``size`` = (w, h) frame."""
    w, h = size
    m = np.zeros((h, w), np.uint8)
    hull = cv2.convexHull(np.round(np.asarray(points68)[INNER] * 16).astype(np.int32))
    cv2.fillConvexPoly(m, hull, 1, lineType=cv2.LINE_8, shift=4)
    if erode > 0:
        m = cv2.erode(m, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8))
    return m.astype(bool)


def gradient_energy(image: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean squared gradient magnitude (3x3 Sobel, scaled to grey levels per pixel) of an image's luminance,
    over ``mask`` if given."""
    g = image.astype(np.float32)
    if g.ndim == 3:
        g = cv2.cvtColor(g, cv2.COLOR_BGR2GRAY)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    e = gx * gx + gy * gy
    return float(e[mask].mean() if mask is not None else e.mean())


def symmetry_frontalness(points68: np.ndarray) -> float:
    """A frontalness in [0, 1] from 2D points alone: how evenly the nose tip splits the outer eye corners."""
    p = np.asarray(points68, dtype=np.float64)
    a = np.linalg.norm(p[30] - p[36])
    b = np.linalg.norm(p[30] - p[45])
    return float(min(a, b) / max(a, b, 1e-9))


def frontalness(yaw: float | None, pitch: float | None, points68: np.ndarray) -> float:
    """``cos(yaw) cos(pitch)`` when a pose is known, else the landmark symmetry."""
    if yaw is None or pitch is None:
        return symmetry_frontalness(points68)
    return float(max(0.0, np.cos(np.radians(yaw)) * np.cos(np.radians(pitch))))


def inter_ocular(points68: np.ndarray) -> float:
    """Distance between the eye centres (pixels)."""
    p = np.asarray(points68, dtype=np.float64)
    return float(np.linalg.norm(p[42:48].mean(0) - p[36:42].mean(0)))


def photo_qualities(sharpness: np.ndarray, resolution: np.ndarray, front: np.ndarray, confidence: np.ndarray,
                    front_power: float = 2.0) -> list[PhotoQuality]:
    """Combine raw measures (one per photo) into normalised factors and weights.

    ``sharpness``: gradient energies (made relative to the largest); ``resolution``: photo over output
    inter-ocular distance (capped at 1); ``front`` and ``confidence`` in [0, 1].
    """
    s = np.asarray(sharpness, dtype=np.float64)
    s = s / max(float(s.max()), 1e-9) if len(s) else s
    out = []
    for si, ri, fi, ci in zip(s, resolution, front, confidence):
        q = PhotoQuality(resolution=float(min(1.0, ri)), sharpness=float(si), frontalness=float(fi),
                         confidence=float(np.clip(ci, 0.0, 1.0)))
        q.weight = q.resolution * q.sharpness * q.frontalness**front_power * q.confidence
        out.append(q)
    return out
