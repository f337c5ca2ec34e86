"""Semi-supervised consistency under known transforms (mean teacher), for faces whose 68 points are unknown.

A face's cached image gives two views: the student's ordinary augmented crop (view B: strong augmentation, made by
the batch) and a mild second crop for the teacher (view A: flip, small rotation, scale and shift, no photometric
damage). Both are one affine warp of the same image (facealign.alignment.crop.warp_crop, through
augment.geometric_view), so the teacher's (the EMA model's) 68 points on view A are carried exactly into view B:
back through A's inverse transform into the image, re-ordered by the mirror permutation when one view is flipped
and the other not, forward through B's transform. There they are the student's targets, each point weighted by
the teacher's confidence (points below ``min_score`` left out). Optionally (``shape_prior``) the teacher's points
are first pulled towards their 3D fit (shape_prior.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from facealign.alignment.points import FLIP5, FLIP68
from facealign.alignment.transforms import apply, invert
from facealign.training.landmarks.augment import geometric_view
from facealign.training.landmarks.config import AugConfig, ConsistencyConfig
from facealign.training.landmarks.losses import heatmap_ce_points, wing
from facealign.training.landmarks.shape_prior import pull_to_prior


@dataclass
class View:
    """How a crop was made from its cached image: the 2x3 image -> crop transform and whether it is mirrored
    (a mirrored crop's point k is the image's point FLIP68[k])."""

    matrix: np.ndarray
    flipped: bool


def _flip(n: int) -> np.ndarray:
    return FLIP68 if n == 68 else FLIP5


def map_points(pts: np.ndarray, src: View, dst: View) -> np.ndarray:
    """Points (K, 2) of view ``src`` (crop pixels, in its point order) -> the same face points in view ``dst``."""
    image_pts = apply(invert(src.matrix), np.asarray(pts, np.float64))
    if src.flipped != dst.flipped:
        image_pts = image_pts[_flip(len(image_pts))]
    return apply(dst.matrix, image_pts)


def map_values(values: np.ndarray, src: View, dst: View) -> np.ndarray:
    """Per-point values (K, ...) of view ``src`` re-ordered to the point order of view ``dst``."""
    return values[_flip(len(values))] if src.flipped != dst.flipped else values


def teacher_aug(cfg: ConsistencyConfig) -> AugConfig:
    """The teacher's view: the consistency config's flip, rotation, shift and scale; nothing else."""
    off = {k: 0.0 for k in ["p_blur", "p_noise", "p_colour", "p_grey", "p_occlude", "p_jpeg", "p_lowres"]}
    return AugConfig(rotate=cfg.rotate, rotate_large=cfg.rotate, p_rotate=1.0 if cfg.rotate > 0 else 0.0,
                     p_rotate_large=0.0, shift=cfg.shift, scale=cfg.scale, aspect=0.0, p_flip=cfg.p_flip, **off)


@torch.no_grad()
def consistency_targets(
    teacher: torch.nn.Module,
    faces: list[tuple[np.ndarray, np.ndarray, View]],
    size: int,
    cfg: ConsistencyConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """For each (cached image, its labelled points, the student's view) the teacher's 68 points carried into the
    student's view (N, 68, 2) and their weights (N, 68): the teacher's confidence, 0 below ``cfg.min_score``."""
    if not faces:
        return np.zeros((0, 68, 2), np.float32), np.zeros((0, 68), np.float32)
    aug = teacher_aug(cfg)
    crops, views = [], []
    for image, points, _ in faces:
        crop, _, m, flipped = geometric_view(image, points, size, aug, rng)
        crops.append(crop)
        views.append(View(m, flipped))
    was_training = teacher.training
    teacher.eval()
    out = teacher(torch.from_numpy(np.stack(crops)))
    teacher.train(was_training)
    pts, scores = out["landmarks"].numpy(), out["scores"].numpy()
    if cfg.shape_prior > 0:
        pts = np.stack([pull_to_prior(p, s, size, cfg.shape_prior) for p, s in zip(pts, scores)])
    targets = np.stack([map_points(p, a, f[2]) for p, a, f in zip(pts, views, faces)]).astype(np.float32)
    conf = np.stack([map_values(s, a, f[2]) for s, a, f in zip(scores, views, faces)])
    weights = np.where(conf >= cfg.min_score, conf, 0.0).astype(np.float32)
    return targets, weights


def consistency_loss(
    out: dict[str, torch.Tensor], target: torch.Tensor, weight: torch.Tensor, n_batch: int, cfg, ccfg: ConsistencyConfig
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss of the student's outputs ``out`` (the selected faces) to the carried teacher points ``target``
    (N, 68, 2) weighted per point by ``weight`` (N, 68); summed over faces and divided by the batch size
    ``n_batch`` (as the 5-point term of landmark_loss), so it grows with the share of faces it covers.
    ``cfg``: the wing loss and heatmap sigma of the training config."""
    n = max(1, n_batch)
    err = (out["landmarks"] - target).abs()
    l_pts = (wing(err, cfg.wing_w, cfg.wing_eps).mean(-1) * weight).mean(1).sum() / n
    loss = ccfg.weight * l_pts
    parts = {"cons_pts": float(l_pts.detach()), "cons_w": float(weight.mean()) if weight.numel() else 0.0}
    if ccfg.heatmap_weight > 0:
        l_hm = (heatmap_ce_points(out["heatmaps"], target, 4, cfg.heatmap_sigma) * weight).mean(1).sum() / n
        loss = loss + ccfg.heatmap_weight * l_hm
        parts["cons_hm"] = float(l_hm.detach())
    return loss, parts


def applies(set_name: str, n_points: int, ccfg: ConsistencyConfig) -> bool:
    """Whether a face of this training set gets the consistency targets."""
    return set_name in ccfg.sets if ccfg.sets else n_points != 68


def batch_consistency(
    teacher: torch.nn.Module,
    out: dict[str, torch.Tensor],
    sets: list,
    plan: np.ndarray,
    batch: dict[str, torch.Tensor],
    cfg,
    rng: np.random.Generator,
) -> tuple[torch.Tensor | None, dict[str, float]]:
    """The consistency loss of a training batch (``plan``: its (set, face) rows, ``batch``: make_batch's output
    with the student's views, ``out``: the student's outputs on it); None when no face of the batch applies."""
    ccfg = cfg.consistency
    sel = [i for i, (k, _) in enumerate(plan) if applies(sets[k].name, sets[k].n_points, ccfg)]
    if not sel:
        return None, {}
    faces = [
        (sets[k].images[j], sets[k].points[j], View(batch["matrix"][i].numpy(), bool(batch["flipped"][i])))
        for i, (k, j) in ((i, plan[i]) for i in sel)
    ]
    target, weight = consistency_targets(teacher, faces, cfg.net.input_size, ccfg, rng)
    idx = torch.as_tensor(sel)
    student = {k: out[k][idx] for k in ("landmarks", "heatmaps")}
    return consistency_loss(student, torch.from_numpy(target), torch.from_numpy(weight), len(plan), cfg, ccfg)
