"""Detector loss: focal loss on face/background scores, smooth-L1 on boxes and points of positive anchors."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def detection_loss(cls: torch.Tensor, box: torch.Tensor, kps: torch.Tensor, labels: torch.Tensor, t_box: torch.Tensor,
                   t_kps: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0, w_box: float = 1.0,
                   w_kps: float = 0.5) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its parts. ``labels`` (B, N) in {1, 0, -1}; all terms are normalised by the positives."""
    valid = labels >= 0
    pos = labels == 1
    npos = pos.sum().clamp(min=1).float()
    y = pos.float()
    logits = cls[valid]
    yv = y[valid]
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, yv, reduction="none")
    pt = p * yv + (1 - p) * (1 - yv)
    at = alpha * yv + (1 - alpha) * (1 - yv)
    l_cls = (at * (1 - pt) ** gamma * ce).sum() / npos
    l_box = F.smooth_l1_loss(box[pos], t_box[pos], reduction="sum", beta=0.11) / npos
    l_kps = F.smooth_l1_loss(kps[pos], t_kps[pos], reduction="sum", beta=0.11) / (npos * 5)
    total = l_cls + w_box * l_box + w_kps * l_kps
    return total, {"cls": float(l_cls.detach()), "box": float(l_box.detach()), "kps": float(l_kps.detach())}
