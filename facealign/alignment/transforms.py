"""2D transform estimation and application. The one place for this geometry: runtime and training share it."""
from __future__ import annotations

import numpy as np


def estimate_similarity(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping ``src`` to ``dst`` (Umeyama, 1991).

    ``src`` (K, 2) gives a 2x3 matrix ``M`` with ``dst ~ M[:, :2] @ src + M[:, 2]``; a batch ``src`` (..., K, 2)
    gives (..., 2, 3), with ``dst`` (K, 2) or (..., K, 2) broadcast against it. ``weights`` (K,) weigh the points.
    Reflections are excluded.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src = src.reshape(-1, 2) if src.ndim < 2 else src
    dst = dst.reshape(-1, 2) if dst.ndim < 2 else dst
    k = src.shape[-2]
    if src.shape[-1] != 2 or dst.shape[-2:] != src.shape[-2:] or k < 2:
        raise ValueError("need at least two matching points")
    w = np.ones(k) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mu_s = w @ src
    mu_d = w @ dst
    s = src - mu_s[..., None, :]
    d = dst - mu_d[..., None, :]
    var_s = (s**2).sum(-1) @ w
    # in 2D the least-squares similarity is linear in (a, b) with R*scale = [[a, -b], [b, a]]: the closed form of
    # Umeyama's SVD solution (same optimum, no reflection possible), without an SVD per face
    ok = var_s > 0
    den = np.where(ok, var_s, 1.0)
    a = np.where(ok, ((s[..., 0] * d[..., 0] + s[..., 1] * d[..., 1]) @ w) / den, 1.0)
    b = np.where(ok, ((s[..., 0] * d[..., 1] - s[..., 1] * d[..., 0]) @ w) / den, 0.0)  # degenerate: translation
    m = np.empty(np.broadcast_shapes(np.shape(a), mu_d.shape[:-1]) + (2, 3))
    m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1] = a, -b, b, a
    m[..., :, 2] = mu_d - (m[..., :, :2] @ mu_s[..., :, None])[..., 0]
    return m


def estimate_affine(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Least-squares full affine transform (6 parameters) mapping ``src`` to ``dst``; needs 3+ points."""
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if src.shape != dst.shape or len(src) < 3:
        raise ValueError("need at least three matching points")
    a = np.hstack([src, np.ones((len(src), 1))])
    if weights is not None:
        sw = np.sqrt(np.asarray(weights, dtype=np.float64))[:, None]
        a, dst = a * sw, dst * sw
    sol, *_ = np.linalg.lstsq(a, dst, rcond=None)
    return sol.T.copy()


def invert(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix."""
    m = np.asarray(m, dtype=np.float64)
    (a, b, tx), (c, d, ty) = m.tolist()
    det = a * d - b * c
    if det == 0:
        raise np.linalg.LinAlgError("singular 2x3 transform")
    ai = np.array([[d, -b], [-c, a]]) / det  # the 2x2 inverse in closed form: no LAPACK call per face
    out = np.empty((2, 3))
    out[:, :2] = ai
    out[:, 2] = -(ai @ (tx, ty))
    return out


def compose(second: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The 2x3 transform applying ``first`` then ``second``."""
    a = np.vstack([np.asarray(second, np.float64), [0, 0, 1]])
    b = np.vstack([np.asarray(first, np.float64), [0, 0, 1]])
    return (a @ b)[:2]


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a 2x3 transform to points of shape (..., 2)."""
    m = np.asarray(m)
    p = np.asarray(pts)
    return p @ m[:, :2].T + m[:, 2]


def similarity_params(m: np.ndarray) -> tuple[float, float]:
    """(scale, rotation in degrees) of a similarity 2x3 matrix."""
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    angle = float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
    return scale, angle
