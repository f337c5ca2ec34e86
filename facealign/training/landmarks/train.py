"""The landmark training loop: seeded, resumable, logs train/val loss and val NME per epoch, exports the best
epoch's EMA weights to ONNX in the run folder."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from facealign.alignment.points import FLIP68
from facealign.alignment.transforms import apply
from facealign.data.landmark_crops import FaceSet, load_set
from facealign.evaluation.metrics import nme_batch
from facealign.paths import cache_dir, data_root
from facealign.training.common import checkpoint
from facealign.training.common.config import to_dict
from facealign.training.common.ema import EMA
from facealign.training.common.run import RunOptions, TimeBudget
from facealign.training.common.runlog import RunLog
from facealign.training.common.schedule import WarmupCosine
from facealign.training.landmarks.augment import augment_view
from facealign.training.landmarks.config import TrainConfig, net_config
from facealign.training.landmarks.consistency import batch_consistency
from facealign.training.landmarks.export import export_onnx
from facealign.training.landmarks.losses import distill_loss, landmark_loss
from facealign.training.landmarks.net import LandmarkNet, adopt_weights, count_params
from facealign.training.landmarks.points3d import with_points3d

ONNX_NAME = "best.onnx"


def load_sets(cfg: TrainConfig) -> tuple[list[FaceSet], list[FaceSet]]:
    """(training sets with the cache margin, validation sets cropped exactly as at inference)."""
    d = cfg.data
    root = data_root()
    cache = Path(d.cache_dir) if d.cache_dir else cache_dir("landmarks")
    train = [load_set(n, root, cache, d.cache_size, d.cache_scale, d.limit) for n in d.train]
    val = [load_set(n, root, cache, cfg.net.input_size, 1.4, d.limit) for n in d.val]
    if cfg.net.points3d:  # 3D-convention targets for the labelled photos (validation keeps only true ones)
        train = [with_points3d(s, cache) for s in train]
    return train, val


def epoch_plan(sets: list[FaceSet], weights: dict[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) array of (set index, face index): each set gets its weight's share of the epoch's samples."""
    w = np.array([weights.get(s.name, 1.0) for s in sets], np.float64)
    which = rng.choice(len(sets), size=n, p=w / w.sum())
    face = np.array([rng.integers(len(sets[k])) for k in which])
    return np.stack([which, face], 1)


def make_batch(
    sets: list[FaceSet], plan: np.ndarray, cfg: TrainConfig, rng: np.random.Generator
) -> dict[str, torch.Tensor]:
    """Augmented uint8 crops and their targets: 68 points where known, else 5 points, and the 3D-convention points
    where the set has them (``pts3d``, ``mask3d``); each crop's image -> crop transform (``matrix``) and mirror
    flag (``flipped``)."""
    size = cfg.net.input_size
    n = len(plan)
    imgs = np.zeros((n, size, size, 3), np.uint8)
    p68 = np.zeros((n, 68, 2), np.float32)
    p5 = np.zeros((n, 5, 2), np.float32)
    m68 = np.zeros(n, bool)
    p3d = np.zeros((n, 68, 2), np.float32)
    m3d = np.zeros(n, bool)
    mats = np.zeros((n, 2, 3), np.float64)
    flipped = np.zeros(n, bool)
    for i, (k, j) in enumerate(plan):
        s = sets[k]
        imgs[i], pts, mats[i], flipped[i] = augment_view(s.images[j], s.points[j], size, cfg.aug, rng)
        if len(pts) == 68:
            p68[i], m68[i] = pts, True
        else:
            p5[i] = pts
        if s.points3d is not None:  # the crop's warp and mirror order, as for the 2D points
            p3d[i], m3d[i] = apply(mats[i], s.points3d[j][FLIP68] if flipped[i] else s.points3d[j]), True
    return {
        "image": torch.from_numpy(imgs),
        "pts68": torch.from_numpy(p68),
        "mask68": torch.from_numpy(m68),
        "pts5": torch.from_numpy(p5),
        "mask5": torch.from_numpy(~m68),
        "pts3d": torch.from_numpy(p3d),
        "mask3d": torch.from_numpy(m3d),
        "matrix": torch.from_numpy(mats),
        "flipped": torch.from_numpy(flipped),
    }


@torch.no_grad()
def evaluate(net: LandmarkNet, sets: list[FaceSet], cfg: TrainConfig, batch: int = 128) -> dict[str, float]:
    """Val loss and NME (%) of every validation set from ground-truth boxes; MTFL also per pose bin 1..5. With the
    3D head, sets with 3D-convention points also get ``nme3d_<set>`` (box-normalised, as for large poses); the
    ``score`` (lower is better) is the mean of the 2D NME of the other sets and these."""
    from facealign.alignment.points import five_from_68
    from facealign.evaluation.metrics import nme

    net.eval()
    res: dict[str, float] = {}
    losses = []
    scored: list[str] = []
    for s in sets:
        preds, preds3d = [], []
        for a in range(0, len(s), batch):
            img = torch.from_numpy(s.images[a : a + batch])
            out = net(img)
            if "landmarks3d" in out:
                preds3d.append(out["landmarks3d"].numpy())
            gt = torch.from_numpy(s.points[a : a + batch])
            k = len(gt)
            is68 = s.n_points == 68
            zeros68, zeros5 = torch.zeros(k, 68, 2), torch.zeros(k, 5, 2)
            loss, _ = landmark_loss(
                out,
                gt if is68 else zeros68,
                torch.full((k,), is68),
                zeros5 if is68 else gt,
                torch.full((k,), not is68),
                cfg,
            )
            losses.append(float(loss) * k)
            preds.append(out["landmarks"].numpy())
        pred = np.concatenate(preds)
        if s.n_points == 5:
            pred = five_from_68(pred)
        e = nme_batch(pred, s.points) * 100
        res[f"nme_{s.name}"] = float(e.mean())
        scored.append(f"nme_{s.name}")
        if preds3d and s.points3d is not None:
            p3 = np.concatenate(preds3d)
            res[f"nme3d_{s.name}"] = float(np.mean([nme(p, g, "box") for p, g in zip(p3, s.points3d)]) * 100)
            scored[-1] = f"nme3d_{s.name}"
        if s.pose.any():
            for b in range(1, 6):
                sel = s.pose == b
                if sel.any():
                    res[f"nme_{s.name}_pose{b}"] = float(e[sel].mean())
    res["val_loss"] = sum(losses) / max(1, sum(len(s) for s in sets))
    res["score"] = float(np.mean([res[k] for k in scored]))
    return res


def load_teacher(path: str | Path) -> LandmarkNet:
    """A frozen landmark network from a training checkpoint (its EMA weights when present), in eval mode."""
    ck = checkpoint.load(path)
    net = LandmarkNet(net_config(ck.config["net"]))
    net.load_state_dict(ck.weights)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def train(
    cfg: TrainConfig,
    opts: RunOptions | None = None,
    name: str = "landmarks",
    echo: Callable[[str], None] | None = print,
    sets: tuple[list[FaceSet], list[FaceSet]] | None = None,
) -> dict[str, float]:
    """Run (or resume) a training in its run folder (``opts.folder(name)``); returns the best validation metrics.

    The run folder gets ``log.txt``, ``metrics.jsonl``, ``last.pt`` (everything to continue), ``best.pt`` and
    ``best.onnx`` (the best epoch's EMA weights). ``sets`` (train, val) replaces the cached data sets (tests use
    tiny generated ones).
    """
    opts = opts or RunOptions()
    budget = TimeBudget(opts.time_budget_min)
    if opts.epochs:
        cfg.epochs = opts.epochs
    torch.set_num_threads(cfg.threads)
    out = opts.folder(name)
    log = RunLog(out, echo)
    torch.manual_seed(cfg.seed)
    net = LandmarkNet(cfg.net)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ema = EMA(net, cfg.ema_decay)
    steps_per_epoch = cfg.samples_per_epoch // cfg.batch_size
    if cfg.max_steps:
        steps_per_epoch = min(steps_per_epoch, cfg.max_steps)
    total = cfg.epochs * steps_per_epoch
    sched = WarmupCosine(cfg.lr, int(cfg.warmup_epochs * steps_per_epoch), total, floor=0.01)
    start, best, step = 0, {"score": float("inf")}, 0
    last = out / "last.pt"
    if opts.resume and last.is_file():
        ck = checkpoint.load(last)
        new_head = adopt_weights(net, ck.model)
        adopt_weights(ema.model, ck.ema if ck.ema is not None else ck.model)
        if new_head:  # the optimiser state has no slot for the new head, and the score now counts it: both anew
            log("the 3D-convention head starts as a copy of the 2D heatmap layer (new optimiser state and best score)")
        elif ck.optimizer is not None:
            opt.load_state_dict(ck.optimizer)
        start, best, step = ck.epoch, (best if new_head else ck.best or best), ck.step
        if opts.restart:
            if total <= step:
                raise ValueError(f"a warm restart at step {step} needs more epochs than {cfg.epochs} (--epochs)")
            sched.restart(step, total)
        elif ck.scheduler:  # the same cycle goes on (older checkpoints: the cycle of this config)
            sched.load_state_dict(ck.scheduler)
        log(f"resumed from {last} at epoch {start}" + (" (new learning-rate cycle)" if opts.restart else ""))
    elif opts.resume:
        log(f"nothing to resume in {out}: starting a new run")
    train_sets, val_sets = sets if sets is not None else load_sets(cfg)
    teacher = load_teacher(cfg.teacher) if cfg.teacher else None
    if teacher is not None:
        log(f"distilling from {cfg.teacher} ({count_params(teacher)} params)")
    log(
        f"config {json.dumps(to_dict(cfg))}\nparams {count_params(net)}; train "
        + ", ".join(f"{s.name} {len(s)}" for s in train_sets)
        + "; val "
        + ", ".join(f"{s.name} {len(s)}" for s in val_sets)
    )
    epochs = cfg.epochs  # a time budget may end the run (and its learning-rate decay) earlier
    epoch = start
    stopped = ""
    while epoch < epochs and not stopped:
        rng = np.random.default_rng([cfg.seed, epoch])
        crng = np.random.default_rng([cfg.seed, epoch, 1])  # the teacher's views: apart from the sample stream
        torch.manual_seed(cfg.seed * 1000 + epoch)
        plan = epoch_plan(train_sets, cfg.data.weights, steps_per_epoch * cfg.batch_size, rng)
        net.train()
        t0 = time.time()
        sums: dict[str, float] = {}
        n = 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}", mininterval=30, leave=False, disable=echo is None)
        for i in bar:
            rows = plan[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            batch = make_batch(train_sets, rows, cfg, rng)
            sched.apply(opt, step)
            o = net(batch["image"])
            loss, parts = landmark_loss(o, batch["pts68"], batch["mask68"], batch["pts5"], batch["mask5"], cfg)
            if "landmarks3d" in o:  # 5-point faces supervise the 3D head's 5 points too (same in both conventions)
                l3, p3 = landmark_loss(o, batch["pts3d"], batch["mask3d"], batch["pts5"], batch["mask5"], cfg, "3d")
                loss = loss + cfg.points3d_weight * l3
                parts.update(p3)
            if teacher is not None:
                with torch.no_grad():
                    t_out = teacher(batch["image"])
                kd, kd_parts = distill_loss(o, t_out, cfg)
                loss = loss + kd
                parts.update(kd_parts)
            if cfg.consistency.weight > 0 or cfg.consistency.heatmap_weight > 0:
                cons, c_parts = batch_consistency(ema.model, o, train_sets, rows, batch, cfg, crng)
                if cons is not None:
                    loss = loss + cons
                    parts.update(c_parts)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(net, step)
            step += 1
            n += 1
            parts["loss"] = float(loss.detach())
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.set_postfix(loss=f"{sums['loss'] / n:.3f}", refresh=False)
            if budget.spent():
                stopped = f"time budget of {opts.time_budget_min:g} min spent"
                break
        train_time = time.time() - t0
        metrics = {f"train_{k}": v / max(1, n) for k, v in sums.items()}
        metrics.update(evaluate(ema.model, val_sets, cfg))
        metrics.update(epoch=epoch, step=step, lr=sched(step), img_s=n * cfg.batch_size / max(train_time, 1e-9))
        improved = metrics["score"] < best["score"]
        if improved:
            best = dict(metrics)
            checkpoint.save(out / "best.pt", checkpoint.Checkpoint(model=ema.state_dict(), epoch=epoch + 1,
                                                                  step=step, best=best, config=to_dict(cfg)))
            metrics["onnx_diff"] = export_onnx(ema.model, out / ONNX_NAME)
        checkpoint.save(last, checkpoint.Checkpoint(
            model=net.state_dict(), ema=ema.state_dict(), optimizer=opt.state_dict(), scheduler=sched.state_dict(),
            epoch=epoch + 1, step=step, best=best, config=to_dict(cfg)))
        log.metrics(metrics)
        nm = " ".join(f"{k[4:] if k.startswith('nme_') else '3d ' + k[6:]} {v:.2f}" for k, v in metrics.items()
                      if k.startswith(("nme_", "nme3d_")) and "pose" not in k)
        poses = " ".join(f"{metrics[k]:.1f}" for k in sorted(metrics) if "pose" in k)
        log(
            f"epoch {epoch} train_loss {metrics['train_loss']:.3f} val_loss {metrics['val_loss']:.3f} NME% {nm}"
            f" mtfl_pose1-5 [{poses}] lr {metrics['lr']:.2e} {metrics['img_s']:.0f} img/s"
            + (f" *best, exported {ONNX_NAME}" if improved else "")
        )
        epoch += 1
        if budget.limited and not stopped:
            fit = budget.epochs_that_fit(epoch, start, epochs)  # the decay ends with the epochs that fit
            if fit < epochs:
                log(f"time budget: {fit} epochs instead of {epochs}")
                epochs = fit
                sched.fit(step, (epochs - epoch) * steps_per_epoch, cap=sched.end)
    if stopped or epoch < cfg.epochs:
        log(f"stopped after epoch {epoch - 1}: {stopped or 'time budget'}; continue with --resume")
    return best
