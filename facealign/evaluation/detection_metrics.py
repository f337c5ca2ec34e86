"""Detection metrics: matching detections to labelled faces with ignore regions, AP@IoU and recall."""
from __future__ import annotations

import numpy as np

from facealign.alignment.boxes import iou_matrix


def match_image(det_boxes: np.ndarray, det_scores: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None,
                iou_thr: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Per detection (sorted by score, highest first): (scores, flags) with 1 = true, 0 = false, -1 = ignored.

    A detection is true when it takes a not yet matched face with IoU >= ``iou_thr``; an unmatched detection whose
    box lies mostly (>= 50 % of its area) in an ignore region, or overlaps an ignored face with IoU >= ``iou_thr``,
    is ignored.
    """
    order = np.argsort(-np.asarray(det_scores), kind="stable")
    boxes = np.asarray(det_boxes, np.float64).reshape(-1, 4)[order]
    scores = np.asarray(det_scores, np.float64)[order]
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    ign = np.zeros((0, 4)) if ignore is None else np.asarray(ignore, np.float64).reshape(-1, 4)
    flags = np.zeros(len(boxes), np.int8)
    taken = np.zeros(len(gt), bool)
    iou = iou_matrix(boxes, gt) if len(gt) else np.zeros((len(boxes), 0))
    for i in range(len(boxes)):
        if len(gt):
            cand = np.where(~taken, iou[i], -1.0)
            g = int(cand.argmax())
            if cand[g] >= iou_thr:
                taken[g] = True
                flags[i] = 1
                continue
            if iou[i].max() >= iou_thr:  # a duplicate of a found face: a false detection
                flags[i] = 0
                continue
        if len(ign):
            b = boxes[i]
            lt = np.maximum(ign[:, :2], b[:2])
            rb = np.minimum(ign[:, 2:], b[2:])
            inter = np.prod(np.clip(rb - lt, 0, None), 1)
            area = max(1e-9, (b[2] - b[0]) * (b[3] - b[1]))
            if (inter / area).max() >= 0.5 or iou_matrix(b[None], ign).max() >= iou_thr:
                flags[i] = -1
    return scores, flags


def average_precision(per_image: list[tuple[np.ndarray, np.ndarray]], n_gt: int) -> float:
    """VOC-style (all-point interpolated) AP from match_image outputs of all images."""
    if n_gt == 0:
        return float("nan")
    scores = np.concatenate([s for s, _ in per_image]) if per_image else np.zeros(0)
    flags = np.concatenate([f for _, f in per_image]) if per_image else np.zeros(0, np.int8)
    keep = flags >= 0
    scores, flags = scores[keep], flags[keep]
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(flags[order] == 1)
    fp = np.cumsum(flags[order] == 0)
    recall = tp / n_gt
    precision = tp / np.maximum(tp + fp, 1)
    mrec = np.concatenate([[0.0], recall, [recall[-1] if len(recall) else 0.0]])
    mpre = np.concatenate([[1.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


def threshold_for_fppi(neg_scores: list[np.ndarray], fppi: float) -> float:
    """Lowest score threshold at which the detections on face-free images are <= ``fppi`` per image."""
    n_img = max(1, len(neg_scores))
    allowed = int(np.floor(fppi * n_img))
    s = np.sort(np.concatenate(neg_scores) if neg_scores else np.zeros(0))[::-1]
    if len(s) <= allowed:
        return 0.0
    # strictly above the (allowed+1)-th highest false score
    return float(np.nextafter(s[allowed], np.inf))
