"""Overlays of a 3D fit on a BGR image (OpenCV): the mesh (wireframe or flat-shaded) and the head axes.

Axes colours: x (the subject's left) red, y (up) green, z (out of the face, where the subject looks) blue.
"""
from __future__ import annotations

import cv2
import numpy as np

from facealign.face3d import camera as cam
from facealign.types import Fit3D

_SHIFT = 4  # sub-pixel precision for cv2 drawing
_ONE = 1 << _SHIFT


def _ipts(uv: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(uv)[..., :2] * _ONE).astype(np.int32)


def draw_mesh(image: np.ndarray, vertices: np.ndarray, triangles: np.ndarray, mode: str = "wireframe",
              color: tuple[int, int, int] = (255, 200, 0), alpha: float = 0.45) -> np.ndarray:
    """Draw ``vertices`` (V, 3) (image x, y, depth) / ``triangles`` on a copy of ``image``.

    ``mode``: "wireframe" (front-facing triangles' edges) or "shaded" (flat Lambert shading, painter's order).
    """
    out = image.copy()
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(triangles)
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    normal = np.cross(b - a, c - a)  # image frame (y down, z away); faces towards the camera have normal_z < 0
    front = normal[:, 2] < 0
    if mode == "wireframe":
        layer = out.copy()
        polys = _ipts(v)[f[front]]
        cv2.polylines(layer, list(polys), True, color, 1, cv2.LINE_AA, _SHIFT)
        return cv2.addWeighted(layer, alpha, out, 1 - alpha, 0)
    if mode != "shaded":
        raise ValueError("mode must be 'wireframe' or 'shaded'")
    n = normal[front] / np.maximum(np.linalg.norm(normal[front], axis=1, keepdims=True), 1e-12)
    light = np.array([0.3, -0.4, -1.0])
    light /= np.linalg.norm(light)
    shade = np.clip(n @ light, 0.0, 1.0) * 0.8 + 0.2
    depth = (a[front, 2] + b[front, 2] + c[front, 2]) / 3
    order = np.argsort(-depth)  # far first
    layer = out.copy()
    polys = _ipts(v)[f[front]][order]
    base = np.array([200.0, 200.0, 230.0])
    for poly, sh in zip(polys, shade[order]):
        cv2.fillConvexPoly(layer, poly, tuple(float(x) for x in base * sh), cv2.LINE_AA, _SHIFT)
    return cv2.addWeighted(layer, alpha, out, 1 - alpha, 0)


def draw_axes(image: np.ndarray, fit: Fit3D, length_cm: float = 10.0, origin_cm: tuple[float, float, float] = (0.0, 3.0, 10.0),
              thickness: int = 2, scale: float = 1.0) -> np.ndarray:
    """Draw the head axes (x red, y green, z blue) from the nose bridge (model point ``origin_cm``), in place.

    ``scale``: fit pixels per image pixel (for a fit made in original pixels drawn on a reduced image)."""
    o = np.asarray(origin_cm, dtype=np.float64)
    pts = np.vstack([o, o + [length_cm, 0, 0], o + [0, length_cm, 0], o + [0, 0, length_cm]])
    uv = cam.project_model_points(fit, pts)[:, :2] / scale
    p = _ipts(uv)
    for i, col in zip((1, 2, 3), ((0, 0, 255), (0, 200, 0), (255, 0, 0))):
        cv2.arrowedLine(image, tuple(p[0]), tuple(p[i]), col, thickness, cv2.LINE_AA, _SHIFT, 0.15)
    return image


def draw_fit(image: np.ndarray, fit: Fit3D, vertices: np.ndarray, triangles: np.ndarray,
             mode: str = "wireframe", scale: float = 1.0, alpha: float = 0.2) -> np.ndarray:
    """Mesh and axes of one fit on a copy of ``image`` (``scale`` as in draw_axes; vertices in fit pixels).

    ``alpha`` is low by default: on a small face the dense wireframe would hide the landmarks drawn under it."""
    v = vertices if scale == 1.0 else np.column_stack([vertices[:, :2] / scale, vertices[:, 2:]])
    out = draw_mesh(image, v, triangles, mode, alpha=alpha)
    return draw_axes(out, fit, scale=scale)
