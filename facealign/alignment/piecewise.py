"""Piecewise-affine warp: one shape of 68 points onto another, through a triangulation of the points plus points
on the crop border (so every crop pixel lies in a triangle and the background moves with the face).

The triangle of each destination pixel depends only on the destination shape, so it is found once
(``PiecewiseWarp``); a face then costs one batched solve for the per-triangle affines and one ``cv2.remap``.

    pw = PiecewiseWarp.build(dst_points, (w, h))           # dst: (68, 2) in the output frame
    out = pw.warp(image, src_points)                       # src: the same 68 points in ``image``
    out = pw.warp(image, src_crop_points, pre=crop_to_image)   # src given in a crop frame, sampled from the photo
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np



def border_points(size: tuple[int, int], per_side: int = 4) -> np.ndarray:
    """Points along the border of a ``(w, h)`` frame (corners included), pixel-centre coordinates, (4 * per_side, 2)."""
    w, h = size
    t = np.linspace(0.0, 1.0, per_side + 1)[:-1]
    x0, y0, x1, y1 = -0.5, -0.5, w - 0.5, h - 0.5
    top = np.stack([x0 + t * (x1 - x0), np.full_like(t, y0)], 1)
    right = np.stack([np.full_like(t, x1), y0 + t * (y1 - y0)], 1)
    bottom = np.stack([x1 - t * (x1 - x0), np.full_like(t, y1)], 1)
    left = np.stack([np.full_like(t, x0), y1 - t * (y1 - y0)], 1)
    return np.concatenate([top, right, bottom, left])


def delaunay(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles (T, 3) as indices into ``points`` (N, 2) (OpenCV's Subdiv2D; duplicate points are merged)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    lo = pts.min(0) - 1.0
    hi = pts.max(0) + 1.0
    sub = cv2.Subdiv2D((int(np.floor(lo[0])), int(np.floor(lo[1])),
                        int(np.ceil(hi[0] - lo[0])) + 2, int(np.ceil(hi[1] - lo[1])) + 2))
    for p in pts:
        sub.insert((float(p[0]), float(p[1])))
    tris = np.asarray(sub.getTriangleList(), dtype=np.float64).reshape(-1, 3, 2)
    # Subdiv2D reports its corners by coordinates: map them back to the nearest input point, drop the virtual ones
    d = np.linalg.norm(tris[:, :, None, :] - pts[None, None], axis=-1)  # (T, 3, N)
    idx = d.argmin(-1)
    ok = (d.min(-1) < 1e-3).all(1) & (idx[:, 0] != idx[:, 1]) & (idx[:, 1] != idx[:, 2]) & (idx[:, 0] != idx[:, 2])
    return idx[ok].astype(np.int64)


def triangle_affines(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T, 2, 3) affine maps taking each destination triangle onto its source triangle (one batched solve)."""
    d = np.asarray(dst, dtype=np.float64)[triangles]  # (T, 3, 2)
    s = np.asarray(src, dtype=np.float64)[triangles]
    a = np.concatenate([d, np.ones(d.shape[:2] + (1,))], axis=2)  # (T, 3, 3): rows [x, y, 1]
    # a degenerate destination triangle covers no pixel; give it the identity instead of a singular solve
    det = np.linalg.det(a)
    bad = np.abs(det) < 1e-9
    a[bad] = np.eye(3)
    s = s.copy()
    s[bad] = np.eye(3)[:, :2]
    return np.linalg.solve(a, s).transpose(0, 2, 1)  # (T, 2, 3)


@dataclass
class PiecewiseWarp:
    """A destination shape with its triangulation and the triangle index of every output pixel."""

    dst: np.ndarray  # (N, 2) destination points: the shape's points then the border points
    n_shape: int  # how many leading points are the shape's (the rest are border points, fixed)
    triangles: np.ndarray  # (T, 3) into ``dst``
    tri_map: np.ndarray  # (h, w) int32 triangle index per output pixel
    size: tuple[int, int]  # (w, h)

    @classmethod
    def build(cls, dst_points: np.ndarray, size: tuple[int, int], per_side: int = 4,
              triangles: np.ndarray | None = None) -> "PiecewiseWarp":
        """Triangulate ``dst_points`` (N, 2) plus the border of a ``size`` = (w, h) frame (Delaunay unless given)."""
        w, h = int(size[0]), int(size[1])
        shape = np.asarray(dst_points, dtype=np.float64).reshape(-1, 2)
        # shape points on or past the border would make sliver triangles with the border points: keep them inside
        inner = np.clip(shape, [0.0, 0.0], [w - 1.0, h - 1.0])
        dst = np.concatenate([inner, border_points((w, h), per_side)])
        tris = delaunay(dst) if triangles is None else np.asarray(triangles, dtype=np.int64)
        tri_map = np.zeros((h, w), np.int32)
        # sub-pixel polygon fill (4 fractional bits); drawn in order, a shared edge belongs to the later triangle,
        # either is right since neighbouring affines agree on their edge
        fixed = np.round((dst + 0.0) * 16).astype(np.int32)
        for i, t in enumerate(tris):
            cv2.fillConvexPoly(tri_map, fixed[t], int(i), lineType=cv2.LINE_8, shift=4)
        return cls(dst=dst, n_shape=len(shape), triangles=tris, tri_map=tri_map, size=(w, h))

    def source_points(self, src_points: np.ndarray) -> np.ndarray:
        """The full source point set: the face's points then the (fixed) border points."""
        src = np.asarray(src_points, dtype=np.float64).reshape(-1, 2)
        if len(src) != self.n_shape:
            raise ValueError(f"expected {self.n_shape} source points, got {len(src)}")
        return np.concatenate([src, self.dst[self.n_shape:]])

    def maps(self, src_points: np.ndarray, pre: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``cv2.remap`` maps (h, w) float32: for each output pixel its position in the source.

        ``src_points`` are the face's points in the frame the border points belong to (e.g. an aligned crop of the
        output's size); ``pre`` (2x3), if given, then maps that frame into the image actually sampled (e.g. a crop's
        inverse similarity, so the photo is sampled once instead of cropped then warped).
        """
        aff = triangle_affines(self.dst, self.source_points(src_points), self.triangles)
        if pre is not None:
            p = np.asarray(pre, dtype=np.float64)
            aff = np.einsum("ij,tjk->tik", p[:, :2], aff)
            aff[:, :, 2] += p[:, 2]
        w, h = self.size
        per_pixel = aff[self.tri_map]  # (h, w, 2, 3)
        xs = np.arange(w, dtype=np.float64)[None, :]
        ys = np.arange(h, dtype=np.float64)[:, None]
        mx = per_pixel[..., 0, 0] * xs + per_pixel[..., 0, 1] * ys + per_pixel[..., 0, 2]
        my = per_pixel[..., 1, 0] * xs + per_pixel[..., 1, 1] * ys + per_pixel[..., 1, 2]
        return mx.astype(np.float32), my.astype(np.float32)

    def warp(self, image: np.ndarray, src_points: np.ndarray, pre: np.ndarray | None = None,
             border_value: float = 0.0) -> np.ndarray:
        """Warp ``image`` so that ``src_points`` land on the destination shape (one remap).

        When the warp shrinks the image by more than 2x the image is halved first (cv2.pyrDown) so the result is
        not aliased; pyrDown's pixel j sits on full pixel 2j, so the maps are simply halved.
        """
        mx, my = self.maps(src_points, pre)
        return remap_antialiased(image, mx, my, border_value)

    def valid_mask(self, src_points: np.ndarray, image_size: tuple[int, int], pre: np.ndarray | None = None) -> np.ndarray:
        """(h, w) bool: output pixels whose source lies inside an image of ``image_size`` = (w, h)."""
        mx, my = self.maps(src_points, pre)
        return inside(mx, my, image_size)


def inside(mx: np.ndarray, my: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Pixels of remap maps that sample inside an image of ``image_size`` = (w, h)."""
    w, h = image_size
    return (mx >= -0.5) & (mx <= w - 0.5) & (my >= -0.5) & (my <= h - 0.5)


def map_scale(mx: np.ndarray, my: np.ndarray) -> float:
    """Median source pixels per output pixel of remap maps (> 1: the warp shrinks the source)."""
    gx = np.hypot(np.diff(mx, axis=1), np.diff(my, axis=1))
    gy = np.hypot(np.diff(mx, axis=0), np.diff(my, axis=0))
    return float(np.sqrt(np.median(gx) * np.median(gy)))


def remap_antialiased(image: np.ndarray, mx: np.ndarray, my: np.ndarray, border_value: float = 0.0,
                      scale: float | None = None) -> np.ndarray:
    """``cv2.remap`` (bilinear), halving the source first while the maps shrink it by more than 2x (``scale``:
    source pixels per output pixel when the caller knows it; else measured from the maps)."""
    k = map_scale(mx, my) if scale is None else float(scale)
    while k > 2.0 and min(image.shape[:2]) >= 16:
        image = cv2.pyrDown(image)
        mx, my, k = mx * 0.5, my * 0.5, k * 0.5
    bv = (border_value,) * 4
    return cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=bv)

