"""The training loop: seeded, resumable, logs train/val loss and val NME per epoch, exports the best to ONNX."""
from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from facealign.data.landmark_crops import FaceSet, load_set
from facealign.evaluation.metrics import nme_batch
from facealign.training.landmarks.augment import augment
from facealign.training.landmarks.config import TrainConfig, net_config
from facealign.training.landmarks.export import export_onnx
from facealign.training.landmarks.losses import distill_loss, landmark_loss
from facealign.training.landmarks.net import LandmarkNet, count_params

REPO_ROOT = Path(__file__).resolve().parents[3]


def resolve(path: str) -> Path:
    """A config path: absolute, or relative to the repository root."""
    p = Path(path)
    return p if p.is_absolute() else REPO_ROOT / p


def load_sets(cfg: TrainConfig) -> tuple[list[FaceSet], list[FaceSet]]:
    """(training sets with the cache margin, validation sets cropped exactly as at inference)."""
    d = cfg.data
    root, cache = resolve(d.root), Path(d.cache_dir)
    train = [load_set(n, root, cache, d.cache_size, d.cache_scale, d.limit) for n in d.train]
    val = [load_set(n, root, cache, cfg.net.input_size, 1.4, d.limit) for n in d.val]
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
    """Augmented uint8 crops and their targets: 68 points where known, else 5 points."""
    size = cfg.net.input_size
    n = len(plan)
    imgs = np.zeros((n, size, size, 3), np.uint8)
    p68 = np.zeros((n, 68, 2), np.float32)
    p5 = np.zeros((n, 5, 2), np.float32)
    m68 = np.zeros(n, bool)
    for i, (k, j) in enumerate(plan):
        s = sets[k]
        imgs[i], pts = augment(s.images[j], s.points[j], size, cfg.aug, rng)
        if len(pts) == 68:
            p68[i], m68[i] = pts, True
        else:
            p5[i] = pts
    return {
        "image": torch.from_numpy(imgs),
        "pts68": torch.from_numpy(p68),
        "mask68": torch.from_numpy(m68),
        "pts5": torch.from_numpy(p5),
        "mask5": torch.from_numpy(~m68),
    }


@torch.no_grad()
def evaluate(net: LandmarkNet, sets: list[FaceSet], cfg: TrainConfig, batch: int = 128) -> dict[str, float]:
    """Val loss and NME (%) of every validation set from ground-truth boxes; MTFL also per pose bin 1..5."""
    from facealign.alignment.points import five_from_68

    net.eval()
    res: dict[str, float] = {}
    losses = []
    for s in sets:
        preds = []
        for a in range(0, len(s), batch):
            img = torch.from_numpy(s.images[a : a + batch])
            out = net(img)
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
        if s.pose.any():
            for b in range(1, 6):
                sel = s.pose == b
                if sel.any():
                    res[f"nme_{s.name}_pose{b}"] = float(e[sel].mean())
    res["val_loss"] = sum(losses) / max(1, sum(len(s) for s in sets))
    res["score"] = float(np.mean([res[f"nme_{s.name}"] for s in sets]))
    return res


def load_teacher(path: str | Path) -> LandmarkNet:
    """A frozen landmark network from a training checkpoint (its EMA weights when present), in eval mode."""
    ck = torch.load(resolve(str(path)), map_location="cpu", weights_only=False)
    net = LandmarkNet(net_config(ck["config"]["net"]))
    net.load_state_dict(ck["ema"] if "ema" in ck else ck["model"])
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


class EMA:
    """Exponential moving average of the weights (BN statistics copied): the evaluated and exported model."""

    def __init__(self, net: torch.nn.Module, decay: float):
        self.model = copy.deepcopy(net).eval()
        self.decay = decay
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, net: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))  # short memory early in training
        for pe, p in zip(self.model.parameters(), net.parameters()):
            pe.mul_(d).add_(p.detach(), alpha=1 - d)
        for be, b in zip(self.model.buffers(), net.buffers()):
            be.copy_(b)


def lr_at(step: int, total: int, warmup: int, base: float) -> float:
    """Linear warm-up then cosine decay to 1% of the base rate."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def fit_deadline(cfg: TrainConfig, cap: int, epoch: int, epoch_seconds: float, now: float | None = None) -> int:
    """The epoch count (at most ``cap``) that still ends by cfg.deadline ("HH:MM" UTC) at the measured seconds
    per epoch, after epoch ``epoch``; ``cap`` when there is no deadline. ``epoch + 1`` (stop now) once the
    deadline leaves no time for another epoch."""
    if not cfg.deadline:
        return cap
    now = time.time() if now is None else now
    hh, mm = (int(v) for v in cfg.deadline.split(":"))
    day = now - now % 86400
    end = day + hh * 3600 + mm * 60
    if end < now - 3600:  # a deadline just passed stays passed; one far behind means tomorrow
        end += 86400
    left = int((end - now) // max(epoch_seconds, 1e-6))
    return max(epoch + 1, min(cap, epoch + 1 + left))


def train(
    cfg: TrainConfig,
    resume: bool = False,
    log=print,
    sets: tuple[list[FaceSet], list[FaceSet]] | None = None,
) -> dict[str, float]:
    """Run (or resume) a training; returns the best validation metrics.

    ``sets`` (train, val) replaces the cached data sets (tests use tiny generated ones).
    """
    torch.set_num_threads(cfg.threads)
    out = resolve(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    logfile = open(out / "log.txt", "a")

    def say(msg: str) -> None:
        log(msg)
        logfile.write(msg + "\n")
        logfile.flush()

    torch.manual_seed(cfg.seed)
    net = LandmarkNet(cfg.net)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ema = EMA(net, cfg.ema_decay)
    start, best, step = 0, {"score": float("inf")}, 0
    last = out / "last.pt"
    if resume and last.is_file():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        net.load_state_dict(ck["model"])
        ema.model.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["optimizer"])
        start, best, step = ck["epoch"] + 1, ck["best"], ck["step"]
        say(f"resumed from {last} at epoch {start}")
    train_sets, val_sets = sets if sets is not None else load_sets(cfg)
    teacher = load_teacher(cfg.teacher) if cfg.teacher else None
    if teacher is not None:
        say(f"distilling from {cfg.teacher} ({count_params(teacher)} params)")
    steps_per_epoch = cfg.samples_per_epoch // cfg.batch_size
    if cfg.max_steps:
        steps_per_epoch = min(steps_per_epoch, cfg.max_steps)
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    say(
        f"config {json.dumps(cfg.to_dict())}\nparams {count_params(net)}; train "
        + ", ".join(f"{s.name} {len(s)}" for s in train_sets)
        + "; val "
        + ", ".join(f"{s.name} {len(s)}" for s in val_sets)
    )
    durations: list[float] = []
    cap = cfg.epochs  # the deadline may shorten (or re-lengthen up to this) the run
    epoch = start
    while epoch < cfg.epochs:
        total = cfg.epochs * steps_per_epoch
        rng = np.random.default_rng([cfg.seed, epoch])
        torch.manual_seed(cfg.seed * 1000 + epoch)
        plan = epoch_plan(train_sets, cfg.data.weights, steps_per_epoch * cfg.batch_size, rng)
        net.train()
        t0 = time.time()
        sums: dict[str, float] = {}
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}", mininterval=30, leave=False)
        for i in bar:
            batch = make_batch(train_sets, plan[i * cfg.batch_size : (i + 1) * cfg.batch_size], cfg, rng)
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, warmup, cfg.lr)
            o = net(batch["image"])
            loss, parts = landmark_loss(o, batch["pts68"], batch["mask68"], batch["pts5"], batch["mask5"], cfg)
            if teacher is not None:
                with torch.no_grad():
                    t_out = teacher(batch["image"])
                kd, kd_parts = distill_loss(o, t_out, cfg)
                loss = loss + kd
                parts.update(kd_parts)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(net, step)
            step += 1
            parts["loss"] = float(loss.detach())
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.set_postfix(loss=f"{sums['loss'] / (i + 1):.3f}", refresh=False)
        n = max(1, steps_per_epoch)
        train_time = time.time() - t0
        metrics = {f"train_{k}": v / n for k, v in sums.items()}
        metrics.update(evaluate(ema.model, val_sets, cfg))
        metrics.update(epoch=epoch, lr=lr_at(step, total, warmup, cfg.lr), img_s=n * cfg.batch_size / train_time)
        improved = metrics["score"] < best["score"]
        if improved:
            best = dict(metrics)
            torch.save({"model": ema.model.state_dict(), "config": cfg.to_dict(), "metrics": metrics}, out / "best.pt")
            if cfg.export_path:
                metrics["onnx_diff"] = export_onnx(ema.model, resolve(cfg.export_path))
        torch.save(
            {
                "model": net.state_dict(),
                "ema": ema.model.state_dict(),
                "optimizer": opt.state_dict(),
                "epoch": epoch,
                "step": step,
                "best": best,
                "epochs": cfg.epochs,
                "config": cfg.to_dict(),
            },
            out / "last.pt.tmp",
        )
        (out / "last.pt.tmp").replace(last)
        with open(out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(metrics) + "\n")
        nm = " ".join(f"{k[4:]} {v:.2f}" for k, v in metrics.items() if k.startswith("nme_") and "pose" not in k)
        poses = " ".join(f"{metrics[k]:.1f}" for k in sorted(metrics) if "pose" in k)
        say(
            f"epoch {epoch} train_loss {metrics['train_loss']:.3f} val_loss {metrics['val_loss']:.3f} NME% {nm}"
            f" mtfl_pose1-5 [{poses}] lr {metrics['lr']:.2e} {metrics['img_s']:.0f} img/s"
            + (" *best, exported" if improved and cfg.export_path else (" *best" if improved else ""))
        )
        durations.append(time.time() - t0)
        epochs = fit_deadline(cfg, cap, epoch, float(np.mean(durations[-3:])))
        if epochs != cfg.epochs:
            say(f"deadline {cfg.deadline} UTC: epochs {cfg.epochs} -> {epochs}")
            cfg.epochs = epochs
        epoch += 1
    logfile.close()
    return best
