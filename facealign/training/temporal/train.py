"""Training loop of the temporal module: windows of cached per-frame predictions -> refined current frame.

Loss (in inter-ocular units, in image pixels, so both terms are scale-free):
    |out_t - g_t| + velocity_weight * |(out_t - out_{t-1}) - (g_t - g_{t-1})|
The second term is frame-to-frame motion error: on a still face it is exactly the jitter; on a moving face it
penalises lag. out_{t-1} comes from its own window and its own face frame, as at run time.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from facealign.evaluation.video_eval import iod, synthetic_metrics
from facealign.temporal.normalise import apply_batch, invert_batch, to_face_frame, window_indices
from facealign.paths import cache_dir, data_root
from facealign.training.common import checkpoint
from facealign.training.common.run import RunOptions, TimeBudget
from facealign.training.common.runlog import RunLog
from facealign.training.common.schedule import WarmupCosine
from facealign.training.temporal.config import TrainConfig
from facealign.training.temporal.export import export_onnx
from facealign.training.temporal.net import TemporalNet


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


def train_one(
    cfg: TrainConfig, past: int, future: int, train: dict, val: dict, log, tag: str,
    state: checkpoint.Checkpoint | None = None, save: Callable[[checkpoint.Checkpoint], None] | None = None,
    budget: TimeBudget | None = None,
) -> tuple[TemporalNet, dict, bool]:
    """Train one variant (causal: future = 0; offline: future > 0) from scratch or from ``state``; returns the
    net, its val metrics and whether it finished its steps (False: ``budget`` ran out first). ``save`` gets a
    checkpoint every 250 steps and at the end."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    net = TemporalNet(past, future, cfg.net.hidden, cfg.net.kernel, cfg.net.correction)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = WarmupCosine(cfg.lr, cfg.warmup_steps, cfg.steps, floor=0.0)
    first = 1
    if state is not None:
        net.load_state_dict(state.model)
        opt.load_state_dict(state.optimizer)
        sched.load_state_dict(state.scheduler or {})
        first = state.step + 1
        if "rng" in state.extra:
            rng.bit_generator.state = state.extra["rng"]
    pred, scores, gt = train["pred"], train["scores"], train["gt"].astype(np.float64)
    s, n = pred.shape[:2]
    table = window_table(n, past, future)
    t0 = time.time()

    def snapshot(step: int) -> checkpoint.Checkpoint:
        return checkpoint.Checkpoint(model=net.state_dict(), optimizer=opt.state_dict(), scheduler=sched.state_dict(),
                                     step=step, config=cfg.to_dict(),
                                     extra={"tag": tag, "rng": rng.bit_generator.state})

    step, finished = first - 1, True
    for step in range(first, cfg.steps + 1):
        sched.apply(opt, step - 1)
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
        spent = budget is not None and budget.spent()
        if step % 250 == 0 or step == cfg.steps or spent:
            log(f"{tag} step {step}/{cfg.steps} loss {loss.item():.5f} pos {pos.item():.5f} vel {vel.item():.5f}"
                f" lr {sched(step - 1):.2e} ({time.time() - t0:.0f} s)")
            if save is not None:
                save(snapshot(step))
            if budget is not None and budget.limited and not spent:
                # the decay ends when the budget does, at the pace so far
                left = budget.steps_left((time.time() - t0) / max(1, step - first + 1))
                sched.fit(step, left, cap=sched.end)
        if spent:
            finished = step >= cfg.steps
            break
    fused = {"off": val["pred"].astype(np.float64), tag: fuse_all(net, val)}
    metrics = synthetic_metrics(val, fused)
    return net, metrics, finished


def train(cfg: TrainConfig, opts: RunOptions | None = None, name: str = "temporal",
          echo: Callable[[str], None] | None = print, progress: bool = True) -> dict:
    """Make (or load) the cached sequences, train the causal and offline nets, export both to ONNX in the run
    folder (``temporal_causal.onnx``, ``temporal_offline.onnx``). With a time budget the causal net gets half of
    it and the offline net what is left; ``--resume`` continues an unfinished variant from its checkpoint."""
    from facealign.runtime import registry
    from facealign.evaluation.tracked_sequences import cached_sequences

    opts = opts or RunOptions()
    budget = TimeBudget(opts.time_budget_min)
    if opts.steps:
        cfg.steps = opts.steps
    torch.set_num_threads(cfg.threads)
    out = opts.folder(name)
    log = RunLog(out, echo)
    _, model_path = registry.resolve(cfg.data.landmark_model, "landmarks")
    cache = Path(cfg.data.cache_dir) if cfg.data.cache_dir else cache_dir("temporal")
    log(f"config {json.dumps(cfg.to_dict(), default=str)}")
    log(f"per-frame model {model_path}")
    sq = cfg.sequences
    root = data_root()
    train_data = cached_sequences("train", root, cfg.data.train, cfg.data.train_sequences, sq, model_path,
                                  cache, cfg.seed, progress)
    val_data = cached_sequences("val", root, cfg.data.val, cfg.data.val_sequences, sq, model_path,
                                cache, cfg.seed + 1, progress)
    log(f"sequences: train {train_data['pred'].shape}, val {val_data['pred'].shape}")
    # the One Euro baseline, tuned on the same training sequences (the runtime defaults live in
    # facealign/temporal/one_euro.py; compare with the result logged here when the per-frame model changes)
    from facealign.evaluation.video_eval import tune_one_euro

    sub = {k: (v[:300] if getattr(v, "ndim", 0) else v) for k, v in train_data.items()}
    best, rows = tune_one_euro(sub, cutoffs=(0.1, 0.3, 1.0), betas=(3.0, 10.0, 20.0, 40.0))
    log(f"one euro tuned on 300 training sequences: {best} (rows: min_cutoff, beta, jitter ratio, nme ratio, lag): "
        + "; ".join(" ".join(f"{x:.3g}" for x in r) for r in rows))
    results: dict = {"one_euro": {"best": best}}
    variants = (("causal", cfg.net.past, 0), ("offline", cfg.net.offline_past, cfg.net.offline_future))
    for i, (tag, past, future) in enumerate(variants):
        last = out / f"last_{tag}.pt"
        state = checkpoint.load(last) if opts.resume and last.is_file() else None
        if state is not None:
            log(f"{tag}: resumed at step {state.step}")
        # a budget is shared: this variant may use its share of what is left
        share = TimeBudget(max(budget.left_s(), 1e-3) / 60 / (len(variants) - i)) if budget.limited else None
        net, metrics, finished = train_one(cfg, past, future, train_data, val_data, log, tag, state=state,
                                           save=lambda ck, p=last: checkpoint.save(p, ck), budget=share)
        diff = export_onnx(net, out / f"temporal_{tag}.onnx")
        m = metrics[tag]
        log(f"{tag}: val jitter ratio {m['jitter_ratio']:.3f}, nme ratio {m['nme_ratio']:.3f}, lag {m['lag']:.2f}"
            f" frames (per-frame jitter {metrics['off']['jitter']:.4f}, nme {metrics['off']['nme']:.4f});"
            f" exported temporal_{tag}.onnx (onnx diff {diff:.1e})"
            + ("" if finished else "; stopped by the time budget, continue with --resume"))
        log.metrics({"variant": tag, "finished": finished, **metrics})
        results[tag] = metrics
    return results
