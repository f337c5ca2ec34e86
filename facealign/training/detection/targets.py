"""Anchor matching: which anchors are faces, background or ignored, and their regression targets.

Rules (S3FD-like, for tight boxes from ~10 px): an anchor is positive when its IoU with a face is >= ``pos_iou``;
each face also claims its ``top_k`` best anchors (IoU >= ``min_iou``) so small faces get matches; anchors with best
IoU in [``neg_iou``, ``pos_iou``) are ignored; anchors overlapping an ignore region (IoU >= 0.2 or centre inside)
are ignored; the rest are background.
"""
from __future__ import annotations

import numpy as np

from facealign.detection.anchors import anchor_boxes, encode
from facealign.alignment.boxes import iou_matrix


def match(pri: np.ndarray, boxes: np.ndarray, kps: np.ndarray, ignore: np.ndarray, pos_iou: float = 0.35,
          neg_iou: float = 0.25, top_k: int = 3, min_iou: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """labels (N,) int8 in {1, 0, -1}, box targets (N, 4), point targets (N, 10) for anchors ``pri`` (N, 3)."""
    n = len(pri)
    labels = np.zeros(n, np.int8)
    t_box = np.zeros((n, 4), np.float32)
    t_kps = np.zeros((n, 10), np.float32)
    ab = anchor_boxes(pri)
    if len(ignore):
        ious_i = iou_matrix(ab, ignore).max(1)
        c = pri[:, :2]
        inside = ((c[:, None, 0] >= ignore[None, :, 0]) & (c[:, None, 0] <= ignore[None, :, 2])
                  & (c[:, None, 1] >= ignore[None, :, 1]) & (c[:, None, 1] <= ignore[None, :, 3])).any(1)
        labels[(ious_i >= 0.2) | inside] = -1
    if len(boxes) == 0:
        return labels, t_box, t_kps
    iou = iou_matrix(ab, boxes)  # (N, G)
    best_gt = iou.argmax(1)
    best = iou[np.arange(n), best_gt]
    labels[(best >= neg_iou) & (best < pos_iou)] = -1
    pos = best >= pos_iou
    # each face claims its top-k anchors
    k = min(top_k, n)
    top = np.argpartition(-iou, k - 1, axis=0)[:k]  # (k, G)
    for g in range(len(boxes)):
        for a in top[:, g]:
            if iou[a, g] >= min_iou and (not pos[a] or iou[a, g] > best[a]):
                pos[a] = True
                best_gt[a] = g
                best[a] = max(best[a], iou[a, g])
    labels[pos] = 1
    idx = np.nonzero(pos)[0]
    tb, tk = encode(pri[idx], boxes[best_gt[idx]], kps[best_gt[idx]])
    t_box[idx], t_kps[idx] = tb, tk
    return labels, t_box, t_kps
