"""Training loop of the temporal module: windows of cached per-frame predictions -> refined current frame.

Loss (in inter-ocular units, in image pixels, so both terms are scale-free):
    |out_t - g_t| + velocity_weight * |(out_t - out_{t-1}) - (g_t - g_{t-1})|
The second term is frame-to-frame motion error: on a still face it is exactly the jitter; on a moving face it
penalises lag. out_{t-1} comes from its own window and its own face frame, as at run time.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from facealign.evaluation.video_eval import iod, synthetic_metrics
from facealign.temporal.normalise import apply_batch, invert_batch, to_face_frame, window_indices
from facealign.training.temporal.config import TrainConfig
from facealign.training.temporal.net import TemporalNet, export_onnx


def window_table(n: int, past: int, future: int) -> np.ndarray:
    """(n, W) frame indices of every frame's window in a sequence of n frames (edge padding)."""
    present = np.ones(n, bool)
    return np.stack([window_indices(present, t, past, future) for t in range(n)])


def make_inputs(pred: np.ndarray, scores: np.ndarray, seq: np.ndarray, t: np.ndarray, table: np.ndarray):
    """Network inputs (B, W, 68, 3) float32 and face-frame -> image transforms (B, 2, 3) for windows at (seq, t)."""
    idx = table[t]
    lm = pred[seq[:, None], idx].astype(np.float64)
    m = to_face_frame(pred[seq, t].astype(np.float64))
    x = np.empty(lm.shape[:3] + (3,), np.float32)
    x[..., :2] = apply_batch(m, lm)
    x[..., 2] = scores[seq[:, None], idx]
    return x, invert_batch(m)


def _to_image(out: torch.Tensor, inv: torch.Tensor) -> torch.Tensor:
    return torch.einsum("nij,nkj->nki", inv[:, :, :2], out) + inv[:, None, :, 2]


def fuse_all(net: TemporalNet, data: dict) -> np.ndarray:
    """The net's output for every frame of every sequence (S, T, 68, 2), in image pixels."""
    pred, scores = data["pred"], data["scores"]
    s, n = pred.shape[:2]
    table = window_table(n, net.past, net.future)
    seq, t = np.repeat(np.arange(s), n), np.tile(np.arange(n), s)
    out = np.empty((s * n, 68, 2))
    net.eval()
    with torch.no_grad():
        for a in range(0, len(seq), 2048):
            x, inv = make_inputs(pred, scores, seq[a : a + 2048], t[a : a + 2048], table)
            y = net(torch.from_numpy(x)).double()
            out[a : a + 2048] = _to_image(y, torch.from_numpy(inv)).numpy()
    net.train()
    return out.reshape(s, n, 68, 2)


def train_one(cfg: TrainConfig, past: int, future: int, train: dict, val: dict, log, tag: str) -> tuple[TemporalNet, dict]:
    """Train one variant (causal: future = 0; offline: future > 0); returns the net and its val metrics."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    net = TemporalNet(past, future, cfg.net.hidden, cfg.net.kernel, cfg.net.correction)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, cfg.steps) / cfg.steps))
    )
    pred, scores, gt = train["pred"], train["scores"], train["gt"].astype(np.float64)
    s, n = pred.shape[:2]
    table = window_table(n, past, future)
    t0 = time.time()
    for step in range(1, cfg.steps + 1):
        seq = rng.integers(0, s, cfg.batch_size)
        t = rng.integers(1, n, cfg.batch_size)
        x1, inv1 = make_inputs(pred, scores, seq, t, table)
        x0, inv0 = make_inputs(pred, scores, seq, t - 1, table)
        y = net(torch.from_numpy(np.concatenate([x1, x0])))
        inv = torch.from_numpy(np.concatenate([inv1, inv0])).float()
        img = _to_image(y, inv)
        o1, o0 = img[: len(seq)], img[len(seq) :]
        g1 = torch.from_numpy(gt[seq, t]).float()
        g0 = torch.from_numpy(gt[seq, t - 1]).float()
        norm = torch.from_numpy(iod(gt[seq, t])).float()[:, None]
        pos = ((o1 - g1).norm(dim=-1) / norm).mean()
        vel = (((o1 - o0) - (g1 - g0)).norm(dim=-1) / norm).mean()
        loss = pos + cfg.velocity_weight * vel
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == cfg.steps:
            log(f"{tag} step {step}/{cfg.steps} loss {loss.item():.5f} pos {pos.item():.5f} vel {vel.item():.5f}"
                f" ({time.time() - t0:.0f} s)")
    fused = {"off": val["pred"].astype(np.float64), tag: fuse_all(net, val)}
    metrics = synthetic_metrics(val, fused)
    return net, metrics


def train(cfg: TrainConfig, progress: bool = True) -> dict:
    """Make (or load) the cached sequences, train the causal and offline nets, export both to ONNX."""
    from facealign.evaluation.tracked_sequences import cached_sequences

    torch.set_num_threads(cfg.threads)
    repo = Path(__file__).resolve().parents[3]
    root = Path(cfg.data.root)
    root = root if root.is_absolute() else (repo / root)
    from facealign.runtime import registry

    model_path = Path(cfg.data.landmark_model)
    if cfg.data.landmark_model in {s.name for s in registry.list_models("landmarks")}:  # a registered name
        model_path = registry.get(cfg.data.landmark_model).path
    model_path = model_path if model_path.is_absolute() else repo / model_path
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    logf = open(out / "log.txt", "a", encoding="utf-8")

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    log(f"config {json.dumps(cfg.to_dict(), default=str)}")
    log(f"per-frame model {model_path}")
    sq = cfg.sequences
    train_data = cached_sequences("train", root, cfg.data.train, cfg.data.train_sequences, sq, model_path,
                                  cfg.data.cache_dir, cfg.seed, progress)
    val_data = cached_sequences("val", root, cfg.data.val, cfg.data.val_sequences, sq, model_path,
                                cfg.data.cache_dir, cfg.seed + 1, progress)
    log(f"sequences: train {train_data['pred'].shape}, val {val_data['pred'].shape}")
    # the One Euro baseline, tuned on the same training sequences (the runtime defaults live in
    # facealign/temporal/one_euro.py; compare with the result logged here when the per-frame model changes)
    from facealign.evaluation.video_eval import tune_one_euro

    sub = {k: (v[:300] if getattr(v, "ndim", 0) else v) for k, v in train_data.items()}
    best, rows = tune_one_euro(sub, cutoffs=(0.1, 0.3, 1.0), betas=(3.0, 10.0, 20.0, 40.0))
    log(f"one euro tuned on 300 training sequences: {best} (rows: min_cutoff, beta, jitter ratio, nme ratio, lag): "
        + "; ".join(" ".join(f"{x:.3g}" for x in r) for r in rows))
    results = {"one_euro": {"best": best}}
    export_dir = Path(cfg.export_dir)
    export_dir = export_dir if export_dir.is_absolute() else repo / export_dir
    for tag, past, future in (("causal", cfg.net.past, 0), ("offline", cfg.net.offline_past, cfg.net.offline_future)):
        net, metrics = train_one(cfg, past, future, train_data, val_data, log, tag)
        torch.save(net.state_dict(), out / f"temporal_{tag}.pt")
        diff = export_onnx(net, export_dir / f"temporal_{tag}.onnx")
        m = metrics[tag]
        log(f"{tag}: val jitter ratio {m['jitter_ratio']:.3f}, nme ratio {m['nme_ratio']:.3f}, lag {m['lag']:.2f}"
            f" frames (per-frame jitter {metrics['off']['jitter']:.4f}, nme {metrics['off']['nme']:.4f});"
            f" exported (onnx diff {diff:.1e})")
        results[tag] = metrics
    (out / "metrics.json").write_text(json.dumps(results, indent=2))
    logf.close()
    return results
