"""Greedy non-maximum suppression and box IoU in numpy."""
from __future__ import annotations

import numpy as np


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of boxes x1, y1, x2, y2 (continuous extents: area = (x2 - x1) * (y2 - y1))."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.4, max_keep: int | None = None) -> np.ndarray:
    """Indices of the boxes kept by greedy NMS, highest score first."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    if order.size == 0:
        return np.zeros(0, np.int64)
    # one IoU matrix, then a cheap greedy pass (callers bound the number of candidates)
    over = iou_matrix(boxes[order], boxes[order]) > iou_threshold
    suppressed = np.zeros(order.size, bool)
    keep: list[int] = []
    for r in range(order.size):
        if suppressed[r]:
            continue
        keep.append(int(order[r]))
        if max_keep is not None and len(keep) >= max_keep:
            break
        suppressed |= over[r]
    return np.asarray(keep, dtype=np.int64)
