"""Robust per-pixel fusion of aligned faces: a weighted mean that leaves out, pixel by pixel, values far from the
median of the stack (an occluding hand, a specular highlight, a misaligned strand of hair in one photo only).

The median and the spread are taken on luminance, so a pixel is rejected in all three channels together.
Invalid pixels (outside their photo) take no part; the median over the valid values per pixel is found with one
sort (NaNs sort last), not with ``np.nanmedian``, which is several times slower.
"""
from __future__ import annotations

import cv2
import numpy as np

# BGR -> luminance (Rec. 601), the weights OpenCV's cvtColor uses
_LUMA = np.array([0.114, 0.587, 0.299], dtype=np.float32)


def valid_median(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel median over the valid entries of a stack ``values`` (n, ...), and the valid count per pixel.

    Pixels with no valid entry get 0."""
    v = np.where(valid, values, np.nan).astype(np.float32)
    v.sort(axis=0)
    cnt = valid.sum(0)
    lo = np.clip((cnt - 1) // 2, 0, None)
    hi = np.clip(cnt // 2, 0, None)
    a = np.take_along_axis(v, lo[None], 0)[0]
    b = np.take_along_axis(v, hi[None], 0)[0]
    med = np.where(cnt > 0, 0.5 * (a + b), 0.0)
    return med.astype(np.float32), cnt


def luminance(stack: np.ndarray) -> np.ndarray:
    """(..., 3) BGR -> (...) luminance, float32."""
    return stack.astype(np.float32) @ _LUMA


def match_colours(stack: np.ndarray, valid: np.ndarray, region: np.ndarray, weights: np.ndarray | None = None
                  ) -> np.ndarray:
    """Each image's channels scaled and shifted so their mean and spread over ``region`` equal the weighted average
    of all images' (photos of one face under different light and white balance then agree where the face agrees,
    and the per-pixel rejection removes real outliers instead of whole lighting patches)."""
    x = np.asarray(stack, dtype=np.float32)
    n = len(x)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    mu = np.zeros((n, x.shape[-1]))
    sd = np.ones((n, x.shape[-1]))
    ok = np.zeros(n, bool)
    for i in range(n):
        m = valid[i] & region
        if m.sum() >= 16:
            v = x[i][m]
            mu[i], sd[i], ok[i] = v.mean(0), np.maximum(v.std(0), 1.0), True
    if not ok.any():
        return x
    wk = w[ok] / max(w[ok].sum(), 1e-12)
    mu_ref, sd_ref = wk @ mu[ok], wk @ sd[ok]
    out = x.copy()
    for i in np.flatnonzero(ok):
        out[i] = (x[i] - mu[i]) * (sd_ref / sd[i]) + mu_ref
    return out


def match_to_reference(stack: np.ndarray, seen: np.ndarray, reference: np.ndarray, max_gain: float = 2.0
                       ) -> np.ndarray:
    """Each image's channels scaled and shifted so that, on the pixels it ``seen`` (n, h, w), their mean and spread
    equal the ``reference``'s (h, w, 3) on the same pixels (for photos that see different parts of a surface,
    where matching whole-region statistics would compare different parts)."""
    x = np.asarray(stack, dtype=np.float32)
    out = x.copy()
    for i in range(len(x)):
        m = seen[i]
        if m.sum() < 16:
            continue
        a, r = x[i][m], reference[m]
        gain = np.clip(r.std(0) / np.maximum(a.std(0), 1.0), 1.0 / max_gain, max_gain)
        out[i] = (x[i] - a.mean(0)) * gain + r.mean(0)
    return out


def robust_fuse(stack: np.ndarray, valid: np.ndarray, weights: np.ndarray | None = None, reject: float = 2.5,
                floor: float = 6.0, method: str = "mean", smooth: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """Fuse ``stack`` (n, h, w, 3) of aligned images with ``valid`` (n, h, w) masks.

    ``method="mean"``: weighted mean (``weights`` per photo (n,) or per pixel (n, h, w)) of the values within ``reject`` robust standard
    deviations of the per-pixel luminance median (the spread is 1.4826 x the median absolute deviation, at least
    ``floor`` grey levels, so a stack that agrees is not cut down to its median). The rejection is soft (a
    Gaussian of the deviation over ``reject`` sigmas) and its map blurred by ``smooth`` pixels, so the composite
    does not switch between photos from one pixel to the next (seams would read as false detail). ``method="median"``: the
    per-channel median of the valid values (weights unused). Returns (float32 image (h, w, 3), the per-pixel
    weight sum (h, w); 0 where no photo contributed).
    """
    x = np.asarray(stack, dtype=np.float32)
    valid = np.asarray(valid, dtype=bool)
    n = len(x)
    w = np.ones(n, np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
    w = w.reshape(n, 1, 1) if w.ndim == 1 else w.reshape(valid.shape)
    if method == "median":
        med = np.stack([valid_median(x[..., c], valid)[0] for c in range(x.shape[-1])], -1)
        return med, valid.sum(0).astype(np.float32)
    if method != "mean":
        raise ValueError(f"fusion method must be 'mean' or 'median', not {method!r}")
    y = luminance(x)
    m, _ = valid_median(y, valid)
    dev = np.abs(y - m[None])
    mad, _ = valid_median(dev, valid)
    sigma = np.maximum(1.4826 * mad, floor)
    keep = np.exp(-0.5 * (dev / (reject * sigma[None])) ** 2) * valid
    if smooth > 0:
        keep = np.stack([cv2.GaussianBlur(k, (0, 0), smooth) for k in keep.astype(np.float32)]) * valid
    wp = keep * w
    total = wp.sum(0)
    fused = np.einsum("nhw,nhwc->hwc", wp, x) / np.maximum(total, 1e-6)[..., None]
    # where every value was rejected (only possible with weights of 0), keep the median
    if (total <= 0).any():
        med = np.stack([valid_median(x[..., c], valid)[0] for c in range(x.shape[-1])], -1)
        fused = np.where((total > 0)[..., None], fused, med)
    return fused.astype(np.float32), total.astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Round and clip a float image to uint8."""
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
