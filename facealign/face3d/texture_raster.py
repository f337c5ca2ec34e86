"""A small vectorised triangle rasteriser (numpy only): z-buffer, triangle index and barycentric coordinates per pixel.

Pixel (row i, column j) has its centre at (x, y) = (j, i), as everywhere in the project. Every candidate pixel of
every triangle's bounding box is generated at once (the face mesh's triangles cover a few pixels each), tested by
its barycentric coordinates, and the nearest surface per pixel is kept with one sort, so there is no Python loop
over triangles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_CANDIDATES = 4_000_000  # bounding-box pixels at once; larger rasters are done in bands of triangles


@dataclass
class Raster:
    """Per pixel: the visible triangle (-1: none), its barycentric coordinates and depth."""

    tri: np.ndarray  # (h, w) int32
    bary: np.ndarray  # (h, w, 3) float32
    depth: np.ndarray  # (h, w) float32 (inf where no triangle)

    @property
    def mask(self) -> np.ndarray:
        return self.tri >= 0


def _signed_area(p: np.ndarray) -> np.ndarray:
    return (p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1]) - (p[:, 1, 1] - p[:, 0, 1]) * (p[:, 2, 0] - p[:, 0, 0])


def rasterize(xy: np.ndarray, depth: np.ndarray | None, triangles: np.ndarray, size: tuple[int, int],
              cull: int = 0) -> Raster:
    """Rasterise triangles (F, 3) over vertices ``xy`` (V, 2, pixels) into a ``size`` = (w, h) grid.

    ``depth`` (V,): smaller is nearer (the z-buffer keeps the smallest); None draws in input order, the first
    triangle covering a pixel winning. ``cull``: +1 keeps only triangles with a positive signed area in image
    coordinates (clockwise on screen with y down), -1 only negative, 0 both.
    """
    w, h = int(size[0]), int(size[1])
    xy = np.asarray(xy, dtype=np.float64)
    tris = np.asarray(triangles, dtype=np.int64)
    z = np.zeros(len(xy)) if depth is None else np.asarray(depth, dtype=np.float64)
    p = xy[tris]  # (F, 3, 2)
    area = _signed_area(p)
    keep = np.abs(area) > 1e-12
    if cull:
        keep &= np.sign(area) == np.sign(cull)
    x0 = np.maximum(np.ceil(p[..., 0].min(1)), 0).astype(np.int64)
    x1 = np.minimum(np.floor(p[..., 0].max(1)), w - 1).astype(np.int64)
    y0 = np.maximum(np.ceil(p[..., 1].min(1)), 0).astype(np.int64)
    y1 = np.minimum(np.floor(p[..., 1].max(1)), h - 1).astype(np.int64)
    keep &= (x1 >= x0) & (y1 >= y0)
    idx = np.flatnonzero(keep)
    bw = x1[idx] - x0[idx] + 1
    count = bw * (y1[idx] - y0[idx] + 1)

    out_tri = np.full(h * w, -1, np.int64)
    out_bary = np.zeros((h * w, 3), np.float32)
    out_depth = np.full(h * w, np.inf, np.float64)
    # bands of triangles bound the memory of the candidate arrays
    cum = np.cumsum(count)
    start = 0
    while start < len(idx):
        end = max(int(np.searchsorted(cum, (cum[start - 1] if start else 0) + MAX_CANDIDATES, side="right")), start + 1)
        _band(idx[start:end], bw[start:end], count[start:end], p, area, z[tris], x0, y0, w,
              out_tri, out_bary, out_depth, ordered=depth is None)
        start = end
    return Raster(out_tri.reshape(h, w).astype(np.int32), out_bary.reshape(h, w, 3),
                  out_depth.reshape(h, w).astype(np.float32))


def _band(idx, bw, count, p, area, zt, x0, y0, w, out_tri, out_bary, out_depth, ordered: bool) -> None:
    total = int(count.sum())
    if total == 0:
        return
    t = np.repeat(idx, count)
    local = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    bwt = np.repeat(bw, count)
    px = (x0[t] + local % bwt).astype(np.float64)
    py = (y0[t] + local // bwt).astype(np.float64)
    a, b, c = p[t, 0], p[t, 1], p[t, 2]
    inv = 1.0 / area[t]
    l0 = ((b[:, 0] - px) * (c[:, 1] - py) - (b[:, 1] - py) * (c[:, 0] - px)) * inv
    l1 = ((c[:, 0] - px) * (a[:, 1] - py) - (c[:, 1] - py) * (a[:, 0] - px)) * inv
    l2 = 1.0 - l0 - l1
    eps = -1e-9
    ins = (l0 >= eps) & (l1 >= eps) & (l2 >= eps)
    t, px, py, l0, l1, l2 = t[ins], px[ins], py[ins], l0[ins], l1[ins], l2[ins]
    pix = py.astype(np.int64) * w + px.astype(np.int64)
    zz = l0 * zt[t, 0] + l1 * zt[t, 1] + l2 * zt[t, 2]
    key = t.astype(np.float64) if ordered else zz
    order = np.lexsort((key, pix))  # by pixel, nearest (or first) first
    pix_s = pix[order]
    first = np.ones(len(order), bool)
    first[1:] = pix_s[1:] != pix_s[:-1]
    sel = order[first]
    pix_u = pix[sel]
    better = (zz[sel] < out_depth[pix_u]) if not ordered else (out_tri[pix_u] < 0)
    sel, pix_u = sel[better], pix_u[better]
    out_tri[pix_u] = t[sel]
    out_depth[pix_u] = zz[sel]
    out_bary[pix_u] = np.stack([l0[sel], l1[sel], l2[sel]], 1)


def interpolate(raster: Raster, values: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Per-vertex ``values`` (V, C) interpolated at every covered pixel: (h, w, C), 0 where uncovered."""
    tri = raster.tri
    m = tri >= 0
    out = np.zeros(tri.shape + (values.shape[1],), np.float32)
    out[m] = interpolate_at(np.asarray(triangles)[tri[m]], raster.bary[m], values)
    return out


def interpolate_at(corners: np.ndarray, bary: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(M, C) values at M points given their triangles' corner vertices (M, 3) and barycentrics (M, 3)."""
    v = np.asarray(values, dtype=np.float32)
    b = np.asarray(bary, dtype=np.float32)
    return b[:, :1] * v[corners[:, 0]] + b[:, 1:2] * v[corners[:, 1]] + b[:, 2:3] * v[corners[:, 2]]
