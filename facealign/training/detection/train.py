"""The detector training loop: composed scenes -> targets -> focal/smooth-L1 loss, AdamW, warm-up + cosine schedule.

Resumable (``last.pt`` in the run folder holds network, optimiser, schedule, step, training seconds and RNG state); every epoch
evaluates a fixed set of composed validation scenes (val identities only) and exports ``best.onnx`` when the AP
improves. Uses ``cfg.threads`` torch threads (1 by default: the other core trains the landmark network).
"""
from __future__ import annotations

import json
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from tqdm import tqdm

from facealign.detection.anchors import priors
from facealign.detection.ssdlite import postprocess
from facealign.data.crowd_scenes import CrowdParams, add_negatives_and_degrade, compose_crowd_scene, profile_weights
from facealign.data.face_crops import load_split
from facealign.data.scenes import SCENE_VERSION, Scene, SceneParams, compose_scene
from facealign.evaluation.detection_metrics import average_precision, match_image, threshold_for_fppi
from facealign.paths import cache_dir, data_root
from facealign.training.common import checkpoint
from facealign.training.common.config import to_dict
from facealign.training.common.run import RunOptions, TimeBudget
from facealign.training.common.runlog import RunLog
from facealign.training.common.schedule import WarmupCosine
from facealign.training.detection.config import DetectorConfig
from facealign.training.detection.export import export_onnx
from facealign.training.detection.loss import detection_loss
from facealign.training.detection.net import SSDLiteNet, normalise
from facealign.training.detection.targets import match


def load_data(cfg: DetectorConfig):
    if cfg.synthetic:
        from facealign.data.synthetic import synthetic_split

        return synthetic_split(32, cfg.seed), synthetic_split(16, cfg.seed + 1)
    cache = Path(cfg.cache_dir) if cfg.cache_dir else cache_dir("detector")
    return load_split("train", data_root(), cache), load_split("val", data_root(), cache)


ONNX_NAME = "best.onnx"


@dataclass
class Extras:
    """Real-scene material next to the face crops: hand patches, and the crowd scenes' face sampling weights."""

    hands: list = field(default_factory=list)
    face_p: np.ndarray | None = None


def load_self_labels(cfg: DetectorConfig) -> dict | None:
    """The pickle of scripts/self_label_faces.py named by ``cfg.self_labels`` (None when not set)."""
    if not cfg.self_labels or cfg.synthetic:
        return None
    path = Path(cfg.self_labels) if cfg.self_labels != "auto" else cache_dir("detector") / "self_labels_v1.pkl"
    with path.open("rb") as f:
        return pickle.load(f)


def make_batch(rng: np.random.Generator, faces, negs, cfg: DetectorConfig, extras: Extras | None = None):
    p = SceneParams(size=cfg.canvas, min_face=cfg.min_face)
    cp = CrowdParams(size=cfg.canvas, min_face=cfg.min_face)
    ex = extras or Extras()
    pri = priors(cfg.canvas, cfg.canvas)
    imgs, labs, tbs, tks = [], [], [], []
    for _ in range(cfg.batch):
        if cfg.crowd_fraction > 0 and rng.random() < cfg.crowd_fraction:
            sc = compose_crowd_scene(rng, faces, negs, cp, ex.hands, ex.face_p)
        else:
            sc = compose_scene(rng, faces, negs, p)
            if cfg.hard_negative_p > 0 and rng.random() < cfg.hard_negative_p:
                sc = add_negatives_and_degrade(rng, sc, ex.hands)
        lab, tb, tk = match(pri, sc.boxes, sc.kps, sc.ignore)
        imgs.append(sc.image)
        labs.append(lab)
        tbs.append(tb)
        tks.append(tk)
    x = torch.from_numpy(np.stack(imgs))
    return x, torch.from_numpy(np.stack(labs)).long(), torch.from_numpy(np.stack(tbs)), torch.from_numpy(np.stack(tks))


def val_scenes(faces, negs, cfg: DetectorConfig) -> tuple[list[Scene], list[Scene]]:
    """Fixed held-out scenes (seeded): face scenes with faces down to 16 px, and face-free scenes."""
    rng = np.random.default_rng(12345)
    p = SceneParams(size=cfg.val_canvas, min_face=16.0)
    pos = [compose_scene(rng, faces, negs, p) for _ in range(cfg.val_scenes)]
    pn = SceneParams(size=cfg.val_canvas, p_face=0.0, p_small=0.0)
    neg = [compose_scene(rng, faces, negs, pn) for _ in range(max(1, cfg.val_scenes // 3))]
    return pos, neg


def val_hard_scenes(negs, cfg: DetectorConfig) -> list[Scene]:
    """Fixed face-free scenes (val background patches) with 3-8 rendered hard negatives each (no hands: those come
    from training images)."""
    rng = np.random.default_rng(54321)
    pn = SceneParams(size=cfg.val_canvas, p_face=0.0, p_small=0.0)
    return [add_negatives_and_degrade(rng, compose_scene(rng, [], negs, pn), None, (3, 8), 0.5)
            for _ in range(cfg.val_hard_scenes)]


@torch.no_grad()
def predict(net: SSDLiteNet, images: list[np.ndarray], thr: float = 0.05, batch: int = 8):
    """Per image (boxes, scores, points) in image pixels (images share one size, multiple of 32)."""
    net.eval()
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(np.stack(images[i : i + batch]))
        cls, box, kps = net(normalise(x))
        sc = torch.sigmoid(cls).numpy()
        pri = priors(x.shape[1], x.shape[2])
        for j in range(len(x)):
            out.append(postprocess(sc[j], box[j].numpy(), kps[j].numpy(), pri, thr, 0.4, 300))
    return out


def evaluate(net: SSDLiteNet, pos: list[Scene], neg: list[Scene], hard: list[Scene] | None = None) -> dict[str, float]:
    """AP@0.5 on face scenes, the threshold for <= 0.05 false detections per face-free scene, recall there; with
    ``hard`` also false detections per hard-negative scene at 0.5 and at the shipped-like 0.65."""
    preds = predict(net, [s.image for s in pos])
    per = [match_image(b, s, sc.boxes, sc.ignore) for (b, s, _), sc in zip(preds, pos)]
    n_gt = sum(len(sc.boxes) for sc in pos)
    ap = average_precision(per, n_gt)
    neg_scores = [s for _, s, _ in predict(net, [s.image for s in neg])]
    thr = max(threshold_for_fppi(neg_scores, 0.05), 0.05)
    rec = sum(int(((s >= thr) & (f == 1)).sum()) for s, f in per) / max(1, n_gt)
    rec50 = sum(int(((s >= 0.5) & (f == 1)).sum()) for s, f in per) / max(1, n_gt)
    fp50 = sum(int((s >= 0.5).sum()) for s in neg_scores) / max(1, len(neg))
    out = {"ap50": ap, "thr_fppi05": thr, "recall_fppi05": rec, "recall_s50": rec50, "fppi_s50": fp50}
    if hard:
        hs = [s for _, s, _ in predict(net, [s.image for s in hard])]
        out["hard_fp_s50"] = sum(int((s >= 0.5).sum()) for s in hs) / len(hard)
        out["hard_fp_s65"] = sum(int((s >= 0.65).sum()) for s in hs) / len(hard)
    return out


def train(
    cfg: DetectorConfig, opts: RunOptions | None = None, name: str = "detector",
    echo: Callable[[str], None] | None = print,
) -> dict[str, float]:
    """Run (or continue) a training in its run folder (``opts.folder(name)``); returns the best validation metrics.

    The run folder gets ``log.txt``, ``metrics.jsonl``, ``last.pt``, ``best.pt`` and ``best.onnx``.
    """
    opts = opts or RunOptions()
    budget = TimeBudget(opts.time_budget_min)
    if opts.epochs:
        cfg.epochs = opts.epochs
    torch.set_num_threads(cfg.threads)
    cv2.setNumThreads(1)  # OpenCV would otherwise spread scene warps over every core
    torch.manual_seed(cfg.seed)
    out = opts.folder(name)
    log = RunLog(out, echo)
    log(f"config {json.dumps(to_dict(cfg))}")
    (train_faces, train_negs), (val_faces, val_negs) = load_data(cfg)
    log(f"data: {len(train_faces)} train faces, {len(train_negs)} train background patches, {len(val_faces)} val faces")
    vpos, vneg = val_scenes(val_faces, val_negs, cfg)
    vhard = val_hard_scenes(val_negs, cfg) if cfg.val_hard_scenes else None
    extras = Extras()
    sl = load_self_labels(cfg)
    if sl is not None:
        train_faces = list(train_faces) + list(sl["faces"])
        train_negs = list(train_negs) + list(sl["negs"])
        extras.hands = list(sl["hands"])
        log(f"self-labels {cfg.self_labels}: {len(sl['faces'])} faces, {len(sl['negs'])} negatives, "
            f"{len(sl['hands'])} hands; {sl.get('stats')}")
    if cfg.crowd_fraction > 0 and cfg.profile_boost != 1.0:
        extras.face_p = profile_weights(train_faces, cfg.profile_boost)
    net = SSDLiteNet(tuple(cfg.widths), cfg.fpn)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = cfg.epochs * cfg.steps_per_epoch
    sched = WarmupCosine(cfg.lr, cfg.warmup_steps, total, floor=cfg.lr_floor)
    step, epoch, train_s, best = 0, 0, 0.0, {"ap50": -1.0}
    rng = np.random.default_rng(cfg.seed)
    last = out / "last.pt"
    if opts.resume and last.is_file():
        ck = checkpoint.load(last)
        net.load_state_dict(ck.model)
        if ck.optimizer is not None:
            opt.load_state_dict(ck.optimizer)
        step, epoch, best = ck.step, ck.epoch, ck.best or best
        train_s = ck.extra.get("train_s", 0.0)
        if "rng" in ck.extra:
            rng.bit_generator.state = ck.extra["rng"]
        if ck.extra.get("scene_version", 1) != SCENE_VERSION:
            # the validation scenes changed with the scene code: old scores are not comparable
            best = {"ap50": -1.0, "previous": best}
        if opts.restart:
            if total <= step:
                raise ValueError(f"a warm restart at step {step} needs more epochs than {cfg.epochs} (--epochs)")
            sched.restart(step, total)
        elif ck.scheduler:
            sched.load_state_dict(ck.scheduler)
        log(f"resumed at epoch {epoch}, step {step}, {train_s / 60:.1f} min trained, best {best}"
            + (" (new learning-rate cycle)" if opts.restart else ""))
    elif opts.resume:
        log(f"nothing to resume in {out}: starting a new run")
    if cfg.init and not (opts.resume and last.is_file()):
        net.load_state_dict(checkpoint.load(cfg.init).model)
        m0 = evaluate(net, vpos, vneg, vhard)
        log.metrics({"epoch": 0, "init": cfg.init, **m0})
        log(f"initial weights {cfg.init}: val {json.dumps({k: round(v, 4) for k, v in m0.items()})}")
    epochs, start, stopped = cfg.epochs, epoch, ""
    while epoch < epochs and not stopped:
        net.train()
        sums: dict[str, float] = {"loss": 0.0, "cls": 0.0, "box": 0.0, "kps": 0.0}
        n = 0
        t_epoch = time.time()
        bar = tqdm(range(cfg.steps_per_epoch), desc=f"epoch {epoch + 1}", mininterval=30, leave=False,
                   disable=echo is None)
        for _ in bar:
            t0 = time.time()
            lr = sched.apply(opt, step)
            x, lab, tb, tk = make_batch(rng, train_faces, train_negs, cfg, extras)
            cls, box, kps = net(normalise(x))
            loss, parts = detection_loss(cls, box, kps, lab, tb, tk)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            step += 1
            n += 1
            train_s += time.time() - t0
            sums["loss"] += loss.item()
            for k, v in parts.items():
                sums[k] += v
            bar.set_postfix(loss=f"{sums['loss'] / n:.3f}", lr=f"{lr:.2e}", refresh=False)
            if budget.spent():
                stopped = f"time budget of {opts.time_budget_min:g} min spent"
                break
        epoch += 1
        ips = n * cfg.batch / max(1e-6, time.time() - t_epoch)
        t_val = time.time()
        metrics = evaluate(net, vpos, vneg, vhard)
        improved = metrics["ap50"] > best["ap50"]
        if improved:
            best = {**metrics, "epoch": epoch}
            checkpoint.save(out / "best.pt", checkpoint.Checkpoint(
                model=net.state_dict(), epoch=epoch, step=step, best=best, config=to_dict(cfg)))
            export_onnx(net, out / ONNX_NAME, check=False)
        if cfg.export_every_epoch:
            export_onnx(net, out / f"epoch{epoch}.onnx", check=False)
        checkpoint.save(last, checkpoint.Checkpoint(
            model=net.state_dict(), optimizer=opt.state_dict(), scheduler=sched.state_dict(), epoch=epoch,
            step=step, best=best, config=to_dict(cfg),
            extra={"train_s": train_s, "rng": rng.bit_generator.state, "scene_version": SCENE_VERSION}))
        avg = {k: v / max(1, n) for k, v in sums.items()}
        log.metrics({"epoch": epoch, "step": step, "lr": sched(step), "train_min": train_s / 60, "img_s": ips,
                     **{f"train_{k}": v for k, v in avg.items()}, **metrics})
        log(f"epoch {epoch} step {step} lr {sched(step):.2e} trained {train_s / 60:.1f} min "
            f"{ips:.1f} img/s | loss {avg['loss']:.4f} cls {avg['cls']:.4f} box {avg['box']:.4f} kps {avg['kps']:.4f} | "
            f"val AP50 {metrics['ap50']:.4f} recall@fppi.05 {metrics['recall_fppi05']:.4f} (thr {metrics['thr_fppi05']:.3f}) "
            f"recall@.5 {metrics['recall_s50']:.4f} fppi@.5 {metrics['fppi_s50']:.3f}"
            + (f" hard fp@.5 {metrics['hard_fp_s50']:.3f} @.65 {metrics['hard_fp_s65']:.3f}" if vhard else "")
            + f" ({time.time() - t_val:.0f}s val)"
            + (" *best" if improved else ""))
        if budget.limited and not stopped:
            fit = budget.epochs_that_fit(epoch, start, epochs)  # the decay ends with the epochs that fit
            if fit < epochs:
                log(f"time budget: {fit} epochs instead of {epochs}")
                epochs = fit
                sched.fit(step, (epochs - epoch) * cfg.steps_per_epoch, cap=sched.end)
    if stopped or epoch < cfg.epochs:
        log(f"stopped after epoch {epoch}: {stopped or 'time budget'}; continue with --resume")
    if (out / "best.pt").is_file():
        net.load_state_dict(checkpoint.load(out / "best.pt").model)
        diff = export_onnx(net, out / ONNX_NAME)
        log(f"exported {out / ONNX_NAME} (onnxruntime vs torch max diff {diff:.2e}); best {best}")
    return best
