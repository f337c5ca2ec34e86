"""Piecewise-affine warp: identity, a known affine, and one triangulation covering the whole crop."""
import cv2
import numpy as np

from facealign.alignment.piecewise import PiecewiseWarp, border_points, delaunay
from facealign.alignment.templates import template_points


def _texture(size: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = cv2.resize(rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8), (size, size),
                     interpolation=cv2.INTER_CUBIC)
    return img


def test_triangulation_covers_the_crop():
    pts, _ = template_points("mean68", 128)
    pw = PiecewiseWarp.build(pts, (128, 128))
    assert pw.triangles.shape[1] == 3 and len(pw.triangles) > 100
    # every pixel centre lies in (or within a pixel of) the triangle the map names
    tri = pw.dst[pw.triangles[pw.tri_map]]  # (h, w, 3, 2)
    ys, xs = np.mgrid[0:128, 0:128].astype(float)
    p = np.stack([xs, ys], -1)
    outside = np.zeros((128, 128))
    orient = np.sign((tri[..., 1, 0] - tri[..., 0, 0]) * (tri[..., 2, 1] - tri[..., 0, 1])
                     - (tri[..., 1, 1] - tri[..., 0, 1]) * (tri[..., 2, 0] - tri[..., 0, 0]))
    for i in range(3):
        a, b = tri[..., i, :], tri[..., (i + 1) % 3, :]
        e = b - a
        side = (e[..., 0] * (p - a)[..., 1] - e[..., 1] * (p - a)[..., 0]) / np.linalg.norm(e, axis=-1)
        outside = np.maximum(outside, -side * orient)
    assert outside.max() <= 1.0


def test_identity_warp_returns_the_image():
    img = _texture(128)
    pts, _ = template_points("mean68", 128)
    pw = PiecewiseWarp.build(pts, (128, 128))
    out = pw.warp(img, pts)
    assert np.abs(out.astype(int) - img).max() <= 1


def test_known_affine_is_reproduced():
    img = _texture(160)
    pts, _ = template_points("mean68", 128)
    a = np.array([[1.1, 0.15, 6.0], [-0.1, 0.95, 9.0]])  # output frame -> source image
    src = pts @ a[:, :2].T + a[:, 2]
    pw = PiecewiseWarp.build(pts, (128, 128))
    # the border points stay fixed in the crop frame, so pass the affine as the crop -> image map
    out = pw.warp(img, pts, pre=a)
    ref = cv2.warpAffine(img, a, (128, 128), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    assert np.abs(out.astype(int) - ref).max() <= 1
    # and a face that moved by the affine inside a fixed frame: the inner face matches the affine warp
    out2 = pw.warp(img, src)
    inner = (slice(40, 90), slice(40, 90))
    assert np.abs(out2[inner].astype(int) - ref[inner]).mean() < 1.0


def test_delaunay_indices_and_border():
    b = border_points((10, 20), per_side=2)
    assert b.shape == (8, 2) and b[:, 0].min() == -0.5 and b[:, 1].max() == 19.5
    tri = delaunay(np.array([[0, 0], [10, 0], [0, 10], [10, 10.0]]))
    assert len(tri) == 2 and set(np.unique(tri)) == {0, 1, 2, 3}
