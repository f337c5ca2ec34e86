"""Camera models of the 3D fit: weak perspective (scaled orthographic) and pinhole perspective.

Both are one formula. With ``P = R @ X`` a model point in the camera frame relative to the head origin (cm),
image position ``u = c + (s * P_xy + T) / (1 + s * k * P_z)``:
- weak perspective: ``k = 0``; ``s`` is pixels per cm, ``T`` the image offset of the head origin from ``c``;
- perspective with focal ``f`` (pixels): ``k = 1 / f``, ``s = f / t_z`` (t_z: distance of the head origin, cm)
  and ``T = s * t_xy``; expanding gives the pinhole ``u = c + f (P_xy + t_xy) / (P_z + t_z)``.
So the perspective fit starts from the weak-perspective one and the focal only moves ``k`` (the amount of
perspective). Depth reported in pixels is ``s * P_z`` (z away from the camera, relative to the head origin).
The principal point ``c`` is the image centre ((w - 1) / 2, (h - 1) / 2 in 0-based pixel centres) unless given.
"""
from __future__ import annotations

import numpy as np

from facealign.types import Camera, Fit3D

WEAK = "weak_perspective"
PERSPECTIVE = "perspective"


def principal_point(image_size: tuple[int, int], cx: float | None = None, cy: float | None = None) -> tuple[float, float]:
    """Principal point: the image centre unless given. ``image_size`` is (w, h)."""
    w, h = image_size
    return (float((w - 1) / 2 if cx is None else cx), float((h - 1) / 2 if cy is None else cy))


def default_focal(image_size: tuple[int, int]) -> float:
    """The focal (pixels) a perspective fit starts from and is pulled towards: ``max(w, h)``, a ~53 degree view."""
    return float(max(image_size))


def project(p: np.ndarray, s: float, k: float, t: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image positions (2, n) and divisors ``d = 1 + s k P_z`` (n,) of camera-frame points ``p`` (3, n)."""
    d = 1.0 + (s * k) * p[2]
    return (s * p[:2] + t[:, None]) / d + c[:, None], d


def camera_of(model: str, k: float, c: np.ndarray) -> Camera:
    """The Camera record; a weak-perspective camera has no focal and reports ``focal = 0``."""
    return Camera(model=model, focal=float(1.0 / k) if k > 0 else 0.0, cx=float(c[0]), cy=float(c[1]))


def translation_of(s: float, k: float, t: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Fit3D.translation: perspective ``(t_x, t_y, t_z)`` in cm; weak perspective the head origin's pixel (x, y, 0)."""
    if k > 0:
        return np.array([t[0] / s, t[1] / s, 1.0 / (s * k)])
    return np.array([t[0] + c[0], t[1] + c[1], 0.0])


def params_of(fit: Fit3D) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(s, k, T, c) of a fit, inverting translation_of (perspective: Fit3D.scale is 1, s = f / t_z)."""
    cam = fit.camera
    c = np.array([cam.cx, cam.cy])
    tr = np.asarray(fit.translation, dtype=np.float64)
    if cam.model == PERSPECTIVE and cam.focal > 0:
        s = cam.focal / tr[2]
        return s, 1.0 / cam.focal, s * tr[:2], c
    return float(fit.scale), 0.0, tr[:2] - c, c


def project_model_points(fit: Fit3D, points: np.ndarray) -> np.ndarray:
    """Model-frame points (n, 3) (cm) -> (n, 3) image x, y and depth (pixels) under a fit's pose and camera."""
    s, k, t, c = params_of(fit)
    p = fit.rotation @ np.asarray(points, dtype=np.float64).T
    uv, _ = project(p, s, k, t, c)
    return np.vstack([uv, s * p[2]]).T
