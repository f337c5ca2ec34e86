"""Box overlap: the one IoU of the project (detector NMS, anchor matching, tracking, evaluation).

Boxes are [x1, y1, x2, y2] with continuous extents: the area of a box is (x2 - x1) * (y2 - y1).
"""
from __future__ import annotations

import numpy as np


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4); 0 where the union is empty."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boxes [x1, y1, x2, y2]."""
    return float(iou_matrix(a, b)[0, 0])
