"""Losses of the body network: Wing loss on the joints (in % of the crop side), the heatmap cross-entropy aid
and the confidence target; every term only over labelled joints (Buffy's missing and uncertain ones masked)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from facealign.training.body.net import STRIDE
from facealign.training.landmarks.losses import heatmap_ce, wing


def body_loss(out: dict[str, torch.Tensor], joints: torch.Tensor, mask: torch.Tensor, size: int, cfg
              ) -> tuple[torch.Tensor, dict[str, float]]:
    """(loss, parts for logging) of a batch: joints (N, 14, 2) crop pixels, mask (N, 14) bool."""
    m = mask.float()
    denom = m.sum().clamp_min(1.0)
    scale = 100.0 / size
    err = ((out["keypoints"] - joints).abs() * scale).nan_to_num(0.0)
    l_pts = (wing(err, cfg.wing_w, cfg.wing_eps).sum(-1) * m).sum() / denom
    loss = l_pts
    parts = {"pts": float(l_pts.detach())}
    if cfg.heatmap_weight > 0:
        logits = out["heatmaps"]
        n, k, h, w = logits.shape
        # per-joint cross-entropy: heatmap_ce averages over joints, so run it joint-wise via a reshape
        ce = heatmap_ce(logits.reshape(n * k, 1, h, w), joints.reshape(n * k, 1, 2), STRIDE, cfg.heatmap_sigma)
        l_hm = (ce.reshape(n, k) * m).sum() / denom
        loss = loss + cfg.heatmap_weight * l_hm
        parts["hm"] = float(l_hm.detach())
    if cfg.score_weight > 0:
        dist = (out["keypoints"].detach() - joints).norm(dim=-1) / size
        target = torch.exp(-((dist / cfg.score_radius) ** 2))
        bce = F.binary_cross_entropy_with_logits(out["score_logits"], target, reduction="none")
        # unlabelled joints: no target; a score says "this joint is where I put it", so they are left out
        l_sc = (bce * m).sum() / denom
        loss = loss + cfg.score_weight * l_sc
        parts["score"] = float(l_sc.detach())
    return loss, parts
