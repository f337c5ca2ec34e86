"""Random augmentation of a cached training face into a network input, composed into ONE affine warp.

Geometry follows inference exactly: flip and rotate the cached crop, recompute the face box from the moved
ground-truth points (tight 68-point box, or box_from_five for 5-point faces), jitter it like a detector would,
then crop it with facealign.alignment.crop.crop_transform. Flip, rotation and crop are one warp, made by the
runtime's own crop warp (facealign.alignment.crop.warp_crop).
Photometric damage (colour, grey, blur, low resolution, noise, occlusion, JPEG) follows on the small crop.
"""
from __future__ import annotations

import cv2
import numpy as np

from facealign.alignment.crop import crop_transform, warp_crop
from facealign.alignment.points import FLIP5, FLIP68
from facealign.alignment.transforms import apply, compose
from facealign.data.landmark_crops import face_box
from facealign.training.landmarks.config import AugConfig


def jitter_box(box: np.ndarray, rng: np.random.Generator, shift: float, scale: float, aspect: float) -> np.ndarray:
    """A box moved, resized and stretched like a detector's error (fractions of the box's longer side)."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1, 1.0)
    cx = (x1 + x2) / 2 + rng.uniform(-shift, shift) * side
    cy = (y1 + y2) / 2 + rng.uniform(-shift, shift) * side
    s = np.exp(rng.uniform(-np.log1p(scale), np.log1p(scale)))
    a = np.exp(rng.uniform(-aspect, aspect))
    hw, hh = (x2 - x1) * s * a / 2, (y2 - y1) * s / a / 2
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh])


def geometric_view(
    image: np.ndarray, points: np.ndarray, size: int, cfg: AugConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(crop size x size, points in crop pixels, the 2x3 image -> crop transform, flipped) after random flip,
    rotation and box jitter. A flipped crop's point k is the image's point FLIP68[k] (FLIP5 for 5 points)."""
    h, w = image.shape[:2]
    m = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    pts = points.astype(np.float64)
    flipped = bool(rng.random() < cfg.p_flip)
    if flipped:
        m = np.array([[-1.0, 0, w - 1], [0, 1.0, 0]])
        pts = pts[:, :][FLIP68 if len(pts) == 68 else FLIP5]
    if rng.random() < cfg.p_rotate:
        limit = cfg.rotate_large if rng.random() < cfg.p_rotate_large else cfg.rotate
        r = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), rng.uniform(-limit, limit), 1.0)
        m = compose(r, m)
    pts = apply(m, pts)
    box = jitter_box(face_box(pts), rng, cfg.shift, cfg.scale, cfg.aspect)
    c = crop_transform(box, size)
    border = cv2.BORDER_CONSTANT if rng.random() < 0.7 else cv2.BORDER_REPLICATE
    full = compose(c, m)
    crop = warp_crop(image, full, size, border)  # the runtime's warp (anti-aliased)
    return crop, apply(c, pts).astype(np.float32), full, flipped


def geometric(
    image: np.ndarray, points: np.ndarray, size: int, cfg: AugConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(crop size x size, points in crop pixels) after random flip, rotation and box jitter."""
    crop, pts, _, _ = geometric_view(image, points, size, cfg, rng)
    return crop, pts


def photometric(img: np.ndarray, cfg: AugConfig, rng: np.random.Generator) -> np.ndarray:
    """Colour, grey, blur, low resolution, noise, occlusion and JPEG artefacts (each with its probability)."""
    size = img.shape[0]
    if rng.random() < cfg.p_colour:
        gain = rng.uniform(0.6, 1.4) * rng.uniform(0.85, 1.15, 3)
        bias = rng.uniform(-40, 40)
        img = np.clip(img.astype(np.float32) * gain + bias, 0, 255)
        if rng.random() < 0.3:  # gamma
            img = 255.0 * (img / 255.0) ** rng.uniform(0.6, 1.6)
        img = img.astype(np.uint8)
    if rng.random() < cfg.p_grey:
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if rng.random() < cfg.p_blur:
        if rng.random() < 0.7:
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 2.0))
        else:  # motion blur
            k = int(rng.integers(3, 8))
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2] = 1.0 / k
            rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), rng.uniform(0, 180), 1.0)
            kernel = cv2.warpAffine(kernel, rot, (k, k))
            img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    if rng.random() < cfg.p_lowres:
        small = int(size * rng.uniform(0.25, 0.6))
        interp = [cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_AREA][int(rng.integers(3))]
        img = cv2.resize(cv2.resize(img, (small, small), interpolation=interp), (size, size))
    if rng.random() < cfg.p_noise:
        noise = rng.normal(0, rng.uniform(3, 15), img.shape).astype(np.float32)
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < cfg.p_occlude:
        img = img.copy()
        ow, oh = (rng.uniform(0.15, 0.45, 2) * size).astype(int)
        x0, y0 = int(rng.integers(0, size - ow)), int(rng.integers(0, size - oh))
        if rng.random() < 0.5:
            img[y0 : y0 + oh, x0 : x0 + ow] = rng.integers(0, 256, 3).astype(np.uint8)
        else:
            img[y0 : y0 + oh, x0 : x0 + ow] = rng.integers(0, 256, (oh, ow, 3)).astype(np.uint8)
    if rng.random() < cfg.p_jpeg:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(10, 60))])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return img


def augment_view(
    image: np.ndarray, points: np.ndarray, size: int, cfg: AugConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """One training sample and its geometry: (uint8 crop, points in crop pixels, image -> crop transform,
    flipped)."""
    crop, pts, m, flipped = geometric_view(image, points, size, cfg, rng)
    return photometric(crop, cfg, rng), pts, m, flipped


def augment(
    image: np.ndarray, points: np.ndarray, size: int, cfg: AugConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One training sample: (uint8 crop, points in crop pixels)."""
    crop, pts, _, _ = augment_view(image, points, size, cfg, rng)
    return crop, pts
