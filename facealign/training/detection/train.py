"""The detector training loop: composed scenes -> targets -> focal/smooth-L1 loss, AdamW, wall-clock cosine schedule.

Resumable (``last.pt`` in the run folder holds network, optimiser, step, training seconds and RNG state); every epoch
evaluates a fixed set of composed validation scenes (val identities only) and exports ``best.onnx`` when the AP
improves. Uses ``cfg.threads`` torch threads (1 by default: the other core trains the landmark network).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from facealign.detection.anchors import priors
from facealign.detection.ssdlite import postprocess
from facealign.data.face_crops import load_split
from facealign.data.scenes import SCENE_VERSION, Scene, SceneParams, compose_scene
from facealign.evaluation.detection_metrics import average_precision, match_image, threshold_for_fppi
from facealign.training.detection.config import DetectorConfig
from facealign.training.detection.export import check_onnx, export_onnx
from facealign.training.detection.loss import detection_loss
from facealign.training.detection.net import SSDLiteNet, normalise
from facealign.training.detection.targets import match


def load_data(cfg: DetectorConfig):
    if cfg.synthetic:
        from facealign.data.synthetic import synthetic_split

        return synthetic_split(32, cfg.seed), synthetic_split(16, cfg.seed + 1)
    return load_split("train", Path(cfg.data_root), Path(cfg.cache_dir)), load_split("val", Path(cfg.data_root), Path(cfg.cache_dir))


def make_batch(rng: np.random.Generator, faces, negs, cfg: DetectorConfig):
    p = SceneParams(size=cfg.canvas, min_face=cfg.min_face)
    pri = priors(cfg.canvas, cfg.canvas)
    imgs, labs, tbs, tks = [], [], [], []
    for _ in range(cfg.batch):
        sc = compose_scene(rng, faces, negs, p)
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


def evaluate(net: SSDLiteNet, pos: list[Scene], neg: list[Scene]) -> dict[str, float]:
    """AP@0.5 on face scenes, the threshold for <= 0.05 false detections per face-free scene, recall there."""
    preds = predict(net, [s.image for s in pos])
    per = [match_image(b, s, sc.boxes, sc.ignore) for (b, s, _), sc in zip(preds, pos)]
    n_gt = sum(len(sc.boxes) for sc in pos)
    ap = average_precision(per, n_gt)
    neg_scores = [s for _, s, _ in predict(net, [s.image for s in neg])]
    thr = max(threshold_for_fppi(neg_scores, 0.05), 0.05)
    rec = sum(int(((s >= thr) & (f == 1)).sum()) for s, f in per) / max(1, n_gt)
    rec50 = sum(int(((s >= 0.5) & (f == 1)).sum()) for s, f in per) / max(1, n_gt)
    fp50 = sum(int((s >= 0.5).sum()) for s in neg_scores) / max(1, len(neg))
    return {"ap50": ap, "thr_fppi05": thr, "recall_fppi05": rec, "recall_s50": rec50, "fppi_s50": fp50}


def lr_at(cfg: DetectorConfig, step: int, progress: float) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train(cfg: DetectorConfig, resume: bool = False, log=print) -> dict[str, float]:
    """Run (or continue) training; returns the best validation metrics."""
    torch.set_num_threads(cfg.threads)
    cv2.setNumThreads(1)  # OpenCV would otherwise spread scene warps over every core
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (train_faces, train_negs), (val_faces, val_negs) = load_data(cfg)
    log(f"data: {len(train_faces)} train faces, {len(train_negs)} train background patches, {len(val_faces)} val faces")
    vpos, vneg = val_scenes(val_faces, val_negs, cfg)
    net = SSDLiteNet(tuple(cfg.widths), cfg.fpn)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, epoch, train_s, best = 0, 0, 0.0, {"ap50": -1.0}
    rng = np.random.default_rng(cfg.seed)
    if resume and (out / "last.pt").is_file():
        ck = torch.load(out / "last.pt", weights_only=False)
        net.load_state_dict(ck["net"])
        opt.load_state_dict(ck["opt"])
        step, epoch, train_s, best = ck["step"], ck["epoch"], ck["train_s"], ck["best"]
        rng.bit_generator.state = ck["rng"]
        if ck.get("scene_version", 1) != SCENE_VERSION:
            # the validation scenes changed with the scene code: old scores are not comparable
            best = {"ap50": -1.0, "previous": best}
        log(f"resumed at epoch {epoch}, step {step}, {train_s / 60:.1f} min trained, best {best}")
    total_steps = cfg.epochs * cfg.steps_per_epoch

    def progress() -> float:
        p = step / max(1, total_steps)
        if cfg.time_budget_min > 0:
            p = max(p, train_s / (60 * cfg.time_budget_min))
        return p

    while epoch < cfg.epochs and progress() < 1.0:
        net.train()
        sums: dict[str, float] = {"loss": 0.0, "cls": 0.0, "box": 0.0, "kps": 0.0}
        n = 0
        t_epoch = time.time()
        bar = tqdm(range(cfg.steps_per_epoch), desc=f"epoch {epoch + 1}", mininterval=30, leave=False)
        for _ in bar:
            t0 = time.time()
            lr = lr_at(cfg, step, progress())
            for g in opt.param_groups:
                g["lr"] = lr
            x, lab, tb, tk = make_batch(rng, train_faces, train_negs, cfg)
            cls, box, kps = net(normalise(x))
            loss, parts = detection_loss(cls, box, kps, lab, tb, tk)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            step += 1
            n += 1
            train_s += time.time() - t0
            sums["loss"] += float(loss)
            for k, v in parts.items():
                sums[k] += v
            bar.set_postfix(loss=f"{sums['loss'] / n:.3f}", lr=f"{lr:.2e}", refresh=False)
            if progress() >= 1.0:
                break
        epoch += 1
        ips = n * cfg.batch / max(1e-6, time.time() - t_epoch)
        t_val = time.time()
        metrics = evaluate(net, vpos, vneg)
        improved = metrics["ap50"] > best["ap50"]
        if improved:
            best = {**metrics, "epoch": epoch}
            torch.save({"net": net.state_dict(), "cfg": cfg.__dict__, "metrics": metrics, "epoch": epoch}, out / "best.pt")
            export_onnx(net, out / "best.onnx")
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step, "epoch": epoch, "train_s": train_s,
                    "best": best, "rng": rng.bit_generator.state, "cfg": cfg.__dict__,
                    "scene_version": SCENE_VERSION}, out / "last.tmp")
        (out / "last.tmp").replace(out / "last.pt")
        avg = {k: v / max(1, n) for k, v in sums.items()}
        log(f"epoch {epoch} step {step} lr {lr_at(cfg, step, progress()):.2e} trained {train_s / 60:.1f} min "
            f"{ips:.1f} img/s | loss {avg['loss']:.4f} cls {avg['cls']:.4f} box {avg['box']:.4f} kps {avg['kps']:.4f} | "
            f"val AP50 {metrics['ap50']:.4f} recall@fppi.05 {metrics['recall_fppi05']:.4f} (thr {metrics['thr_fppi05']:.3f}) "
            f"recall@.5 {metrics['recall_s50']:.4f} fppi@.5 {metrics['fppi_s50']:.3f} ({time.time() - t_val:.0f}s val)"
            + (" *best" if improved else ""))
    if (out / "best.pt").is_file():
        ck = torch.load(out / "best.pt", weights_only=False)
        net.load_state_dict(ck["net"])
        export_onnx(net, out / "best.onnx")
        diff = check_onnx(net, out / "best.onnx")
        log(f"exported {out / 'best.onnx'} (onnxruntime vs torch max diff {diff:.2e}); best {best}")
    return best
