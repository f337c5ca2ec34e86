"""Several photos of one person -> one unified face: the aligned crops fused into mean and median composites."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class MergedFace:
    mean: np.ndarray  # (s, s, 3) uint8 BGR
    median: np.ndarray  # (s, s, 3) uint8 BGR
    sheet: np.ndarray  # contact sheet of the aligned inputs
    count: int


def merge_crops(crops: list[np.ndarray], masks: list[np.ndarray] | None = None) -> MergedFace:
    """Fuse aligned crops of equal size. ``masks`` (uint8, 0 outside the source image) keep the black borders
    of crops that reached past their photo's edge out of the composites."""
    if not crops:
        raise ValueError("no crops to merge")
    stack = np.stack([c.astype(np.float32) for c in crops])  # (n, s, s, 3)
    if masks is None:
        valid = np.ones(stack.shape[:3], dtype=bool)
    else:
        valid = np.stack([m > 0 for m in masks])
    w = valid[..., None].astype(np.float32)
    cnt = np.maximum(w.sum(0), 1.0)
    mean = (stack * w).sum(0) / cnt
    masked = np.where(valid[..., None], stack, np.nan)
    with np.errstate(all="ignore"):
        median = np.nanmedian(masked, axis=0)
    median = np.where(np.isnan(median), 0, median)
    return MergedFace(
        mean=np.clip(np.rint(mean), 0, 255).astype(np.uint8),
        median=np.clip(np.rint(median), 0, 255).astype(np.uint8),
        sheet=contact_sheet(crops),
        count=len(crops),
    )


def contact_sheet(images: list[np.ndarray], columns: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile equally sized images into one picture (row-major, grey padding)."""
    n = len(images)
    cols = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    h, w = images[0].shape[:2]
    sheet = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 128, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        sheet[y : y + h, x : x + w] = im if im.shape[:2] == (h, w) else cv2.resize(im, (w, h))
    return sheet
