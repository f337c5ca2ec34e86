"""Greedy non-maximum suppression in numpy (IoU: facealign.alignment.boxes)."""
from __future__ import annotations

import numpy as np

from facealign.alignment.boxes import iou_matrix


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
