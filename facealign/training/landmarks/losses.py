"""Losses of the landmark network: Wing loss on coordinates, a heatmap cross-entropy aid, a confidence target.

Coordinates are in crop pixels; since the crop side is 1.4 x the box side, crop pixels are already normalised
by face size, so the loss weights every face alike.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)


def wing(err: torch.Tensor, w: float, eps: float) -> torch.Tensor:
    """Wing loss (Feng et al., 2018) of absolute errors: log-shaped below w, linear above."""
    c = w - w * math.log1p(w / eps)
    return torch.where(err < w, w * torch.log1p(err / eps), err - c)


def five_from_68(lm: torch.Tensor) -> torch.Tensor:
    """The 5 alignment points of (N, 68, 2) points (same rule as facealign.alignment.points.five_from_68)."""
    return torch.stack(
        [lm[:, LEFT_EYE].mean(1), lm[:, RIGHT_EYE].mean(1), lm[:, 30], lm[:, 48], lm[:, 54]], dim=1
    )


def heatmap_ce(logits: torch.Tensor, target: torch.Tensor, stride: int, sigma: float) -> torch.Tensor:
    """Per-sample cross-entropy of the softmax heatmaps to Gaussians (sigma in cells) at the target points."""
    return heatmap_ce_points(logits, target, stride, sigma).mean(1)


def heatmap_ce_points(logits: torch.Tensor, target: torch.Tensor, stride: int, sigma: float) -> torch.Tensor:
    """(N, K) cross-entropy of each softmax heatmap to a Gaussian (sigma in cells) at its target point."""
    n, k, h, w = logits.shape
    g = torch.arange(w, dtype=logits.dtype, device=logits.device) * stride + (stride - 1) / 2
    gy = torch.arange(h, dtype=logits.dtype, device=logits.device) * stride + (stride - 1) / 2
    s = sigma * stride
    tx = torch.exp(-((g.view(1, 1, w) - target[..., :1]) ** 2) / (2 * s * s))  # (N, K, w)
    ty = torch.exp(-((gy.view(1, 1, h) - target[..., 1:]) ** 2) / (2 * s * s))  # (N, K, h)
    t = ty.unsqueeze(-1) * tx.unsqueeze(-2)
    t = t / t.sum((2, 3), keepdim=True).clamp_min(1e-8)
    logp = F.log_softmax(logits.reshape(n, k, h * w), -1).reshape(n, k, h, w)
    return -(t * logp).sum((2, 3))


def landmark_loss(
    out: dict[str, torch.Tensor],
    pts68: torch.Tensor,
    mask68: torch.Tensor,
    pts5: torch.Tensor,
    mask5: torch.Tensor,
    cfg,
    head: str = "",
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss of a batch; 68-point faces supervise all points, 5-point faces the 5 derived points.

    ``head`` "3d": the same loss on the 3D-convention head (``landmarks3d``, ``heatmaps3d``; no confidence term).
    Returns (loss, parts) where parts are the batch means of each term, for logging (prefixed by ``head``).
    """
    lm = out["landmarks" + head]
    m68 = mask68.float()
    m5 = mask5.float()
    err68 = (lm - pts68).abs()
    l68 = wing(err68, cfg.wing_w, cfg.wing_eps).mean((1, 2))
    err5 = (five_from_68(lm) - pts5).abs()
    l5 = wing(err5, cfg.wing_w, cfg.wing_eps).mean((1, 2))
    loss_pts = (l68 * m68).sum() / m68.sum().clamp_min(1) * (m68.sum() / len(m68)) + (l5 * m5).sum() / len(m5)
    parts = {head + "pts": float(loss_pts.detach())}
    loss = loss_pts
    if cfg.heatmap_weight > 0 and m68.sum() > 0:
        ce = heatmap_ce(out["heatmaps" + head], pts68, 4, cfg.heatmap_sigma)
        l_hm = (ce * m68).sum() / len(m68)
        loss = loss + cfg.heatmap_weight * l_hm
        parts[head + "hm"] = float(l_hm.detach())
    if cfg.score_weight > 0 and m68.sum() > 0 and not head:
        # confidence target: 1 for a point within ~3 px of the truth in the 112 crop (~4% of the box), 0 far off
        dist = (lm.detach() - pts68).norm(dim=-1)
        target = torch.exp(-((dist / 3.0) ** 2))
        bce = F.binary_cross_entropy_with_logits(out["score_logits"], target, reduction="none").mean(1)
        l_sc = (bce * m68).sum() / len(m68)
        loss = loss + cfg.score_weight * l_sc
        parts["score"] = float(l_sc.detach())
    return loss, parts


def distill_loss(out: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor], cfg) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss to a teacher's outputs on the same crops: wing loss to its 68 points (every face, so 5-point faces get
    all 68) and, when ``cfg.distill_heatmap_weight`` > 0, cross-entropy of the student's heatmap distributions to
    the teacher's (both softmaxes over the same grid)."""
    err = (out["landmarks"] - teacher["landmarks"]).abs()
    l_pts = wing(err, cfg.wing_w, cfg.wing_eps).mean()
    loss = cfg.distill_weight * l_pts
    parts = {"kd_pts": float(l_pts.detach())}
    if cfg.distill_heatmap_weight > 0:
        s, t = out["heatmaps"], teacher["heatmaps"]
        if s.shape != t.shape:
            raise ValueError(f"heatmap distillation needs equal heatmap shapes, got {tuple(s.shape)} and {tuple(t.shape)}")
        n, k, h, w = s.shape
        pt = torch.softmax(t.reshape(n, k, h * w), -1)
        logp = F.log_softmax(s.reshape(n, k, h * w), -1)
        l_hm = -(pt * logp).sum(-1).mean()
        loss = loss + cfg.distill_heatmap_weight * l_hm
        parts["kd_hm"] = float(l_hm.detach())
    return loss, parts
