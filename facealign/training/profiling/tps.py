"""A smooth 2D warp for the background and hair of a turned face.

The warp maps output pixels to source pixels (what cv2.remap wants); it is fitted to control points (the mesh's
outline in the new view -> in the photo) plus anchors on the image border that stay where they are, evaluated on
a coarse grid and interpolated up. Three interpolants of the displacement:
- ``harmonic`` (the default): the displacement solves Laplace's equation between the control points and the
  border (conjugate gradients on the grid). By the maximum principle it never overshoots, and between a turned
  face's new silhouette and the image border it spreads the squeeze evenly, so what lay beyond the photo's outline
  (background, hair) is what shows beyond the new silhouette;
- ``idw``: Shepard's inverse-distance weighting (bounded too, but it falls back to "no move" within a few control
  point spacings, so the photo's face shows through beside the new silhouette);
- ``tps``: a regularised thin-plate spline (exact and smooth, but it overshoots and swirls when nearby control
  points move differently, as at a silhouette).
"""
from __future__ import annotations

import cv2
import numpy as np

from facealign.alignment.piecewise import border_points


def _kernel(r2: np.ndarray) -> np.ndarray:
    """TPS radial basis U(r) = r^2 log r^2 (0 at r = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r2 > 0, r2 * np.log(np.maximum(r2, 1e-300)), 0.0)


class ThinPlateSpline:
    """``f(p) = A p + b + sum_i w_i U(|p - c_i|)`` fitted to ``f(c_i) ~ v_i`` with smoothing ``lam`` (in the units
    of the squared distances, normalised by the control points' spread)."""

    def __init__(self, centres: np.ndarray, values: np.ndarray, lam: float = 1e-3) -> None:
        c = np.asarray(centres, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        self.mu = c.mean(0)
        self.sd = float(c.std()) or 1.0
        cn = (c - self.mu) / self.sd
        n = len(cn)
        k = _kernel(((cn[:, None] - cn[None]) ** 2).sum(-1)) + lam * np.eye(n)
        p = np.hstack([np.ones((n, 1)), cn])
        a = np.zeros((n + 3, n + 3))
        a[:n, :n], a[:n, n:], a[n:, :n] = k, p, p.T
        rhs = np.zeros((n + 3, v.shape[1]))
        rhs[:n] = v
        self.coef = np.linalg.lstsq(a, rhs, rcond=None)[0]
        self.centres = cn

    def __call__(self, points: np.ndarray) -> np.ndarray:
        q = (np.asarray(points, dtype=np.float64) - self.mu) / self.sd
        u = _kernel(((q[:, None] - self.centres[None]) ** 2).sum(-1))
        n = len(self.centres)
        return u @ self.coef[:n] + np.hstack([np.ones((len(q), 1)), q]) @ self.coef[n:]


def idw_displacement(centres: np.ndarray, disp: np.ndarray, points: np.ndarray, power: float = 1.0,
                     eps: float = 16.0) -> np.ndarray:
    """Shepard interpolation: sum_i w_i d_i / sum_i w_i with w_i = (|p - c_i|^2 + eps)^-power (pixels^2)."""
    d2 = ((points[:, None] - centres[None]) ** 2).sum(-1)
    wgt = (d2 + eps) ** -power
    return (wgt @ disp) / wgt.sum(1, keepdims=True)


def harmonic_displacement(fixed: np.ndarray, values: np.ndarray, iterations: int = 2000,
                          tol: float = 1e-3) -> np.ndarray:
    """(gh, gw, 2) field equal to ``values`` where ``fixed`` (gh, gw) and harmonic elsewhere; the grid's edge
    counts as fixed at 0 unless ``fixed`` says otherwise (conjugate gradients on the 5-point Laplacian)."""
    fixed = fixed.copy()
    fixed[0, :] = fixed[-1, :] = True
    fixed[:, 0] = fixed[:, -1] = True
    vals = np.where(fixed[..., None], values, 0.0)
    free = (~fixed)[..., None].astype(np.float64)

    def lap(u: np.ndarray) -> np.ndarray:  # (4u - neighbours) on free nodes, u zero on fixed ones
        out = 4.0 * u
        out[1:] -= u[:-1]
        out[:-1] -= u[1:]
        out[:, 1:] -= u[:, :-1]
        out[:, :-1] -= u[:, 1:]
        return out * free

    b = -lap_full(vals) * free  # the fixed values' pull on their free neighbours (vals is 0 on free nodes)
    x = np.zeros_like(vals)
    r = b - lap(x)
    pdir = r.copy()
    rs = (r * r).sum(axis=(0, 1))
    scale = max(float(np.sqrt((b * b).sum())), 1e-9)
    for _ in range(iterations):
        ap = lap(pdir)
        alpha = rs / np.maximum((pdir * ap).sum(axis=(0, 1)), 1e-30)
        x += alpha * pdir
        r -= alpha * ap
        rs_new = (r * r).sum(axis=(0, 1))
        if np.sqrt(rs_new.sum()) < tol * scale:
            break
        pdir = r + (rs_new / np.maximum(rs, 1e-30)) * pdir
        rs = rs_new
    return x * free + vals


def lap_full(u: np.ndarray) -> np.ndarray:
    """4u minus the sum of the (existing) 4 neighbours, everywhere on the grid."""
    out = 4.0 * u
    out[1:] -= u[:-1]
    out[:-1] -= u[1:]
    out[:, 1:] -= u[:, :-1]
    out[:, :-1] -= u[:, 1:]
    return out


def background_maps(dst: np.ndarray, src: np.ndarray, size: tuple[int, int], step: int = 3,
                    per_side: int = 6, method: str = "harmonic", lam: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """remap maps (h, w) float32 of the smooth warp taking output points ``dst`` (N, 2) to source points ``src``,
    with the image border fixed (``per_side`` anchors a side); evaluated every ``step`` pixels; ``method`` "idw"
    (Shepard) or "tps" (thin-plate spline with smoothing ``lam``)."""
    w, h = size
    anchors = border_points((w, h), per_side)
    c = np.vstack([dst, anchors])
    v = np.vstack([src, anchors])
    gx = np.arange(0, w + step, step, dtype=np.float64)
    gy = np.arange(0, h + step, step, dtype=np.float64)
    xx, yy = np.meshgrid(gx, gy)
    g = np.stack([xx.ravel(), yy.ravel()], 1)
    if method == "harmonic":
        # control points snapped to grid nodes (several in one node: their mean); the grid edge stays put
        gi = np.clip(np.rint(dst[:, 1] / step).astype(np.int64), 0, len(gy) - 1)
        gj = np.clip(np.rint(dst[:, 0] / step).astype(np.int64), 0, len(gx) - 1)
        acc = np.zeros((len(gy), len(gx), 2))
        cnt = np.zeros((len(gy), len(gx)))
        np.add.at(acc, (gi, gj), src - dst)
        np.add.at(cnt, (gi, gj), 1.0)
        fixed = cnt > 0
        vals = acc / np.maximum(cnt, 1.0)[..., None]
        mapped = g + harmonic_displacement(fixed, vals).reshape(-1, 2)
    elif method == "tps":
        mapped = ThinPlateSpline(c, v, lam)(g)
    else:
        disp = idw_displacement(c, v - c, g).reshape(len(gy), len(gx), 2).astype(np.float32)
        # a light blur of the field removes the flat spots IDW makes at each control point
        disp = cv2.GaussianBlur(disp, (0, 0), 1.5, borderType=cv2.BORDER_REPLICATE)
        mapped = g + disp.reshape(-1, 2)
    m = mapped.reshape(len(gy), len(gx), 2).astype(np.float32)
    # bilinear between grid nodes: pixel (x, y) reads the grid at (x / step, y / step)
    px, py = np.meshgrid(np.arange(w, dtype=np.float32) / step, np.arange(h, dtype=np.float32) / step)
    full = cv2.remap(m, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(full[..., 0]), np.ascontiguousarray(full[..., 1])
