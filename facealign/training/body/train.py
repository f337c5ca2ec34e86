"""The body keypoint training loop: seeded, resumable, one checkpoint per epoch, PCK on the validation sets every
epoch, the best (EMA) weights exported to ``RUN/best.onnx``. A time budget fits the learning-rate decay into it."""
from __future__ import annotations

import time

import cv2
import numpy as np
import torch

from facealign.alignment.transforms import apply, invert
from facealign.evaluation.body_metrics import pck_table
from facealign.training.body.augment import augment
from facealign.training.body.config import BodyTrainConfig
from facealign.training.body.data import BodySet, ValSet, load_body_set, make_val_set
from facealign.training.body.export import export_onnx
from facealign.training.body.losses import body_loss
from facealign.training.body.net import N_JOINTS, BodyNet, count_params
from facealign.training.common import checkpoint
from facealign.training.common.config import to_dict
from facealign.training.common.ema import EMA
from facealign.training.common.run import RunOptions, TimeBudget
from facealign.training.common.runlog import RunLog
from facealign.training.common.schedule import WarmupCosine

RUN_NAME = "body"


def load_sets(cfg: BodyTrainConfig) -> tuple[list[BodySet], list[ValSet]]:
    """(training sets with their photos, validation crops made as at run time)."""
    d = cfg.data
    train = [load_body_set(n, d.root or None, d.limit) for n in d.train]
    val = [make_val_set(load_body_set(n, d.root or None, d.limit), cfg.net.input_size) for n in d.val]
    return train, val


def make_batch(sets: list[BodySet], plan: np.ndarray, cfg: BodyTrainConfig, rng: np.random.Generator):
    """(uint8 crops (N, S, S, 3), joints (N, 14, 2) crop pixels, masks (N, 14)) as tensors."""
    size = cfg.net.input_size
    n = len(plan)
    imgs = np.zeros((n, size, size, 3), np.uint8)
    pts = np.zeros((n, N_JOINTS, 2), np.float32)
    mask = np.zeros((n, N_JOINTS), bool)
    for i, (k, j) in enumerate(plan):
        imgs[i], pts[i], mask[i] = augment(sets[k], int(j), size, cfg.aug, rng)
    return torch.from_numpy(imgs), torch.from_numpy(pts), torch.from_numpy(mask)


def epoch_plan(sets: list[BodySet], weights: dict[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) (set, person) pairs: each set gets its weight's share of the epoch."""
    w = np.array([weights.get(s.name, 1.0) for s in sets], np.float64)
    which = rng.choice(len(sets), size=n, p=w / w.sum())
    return np.stack([which, np.array([rng.integers(len(sets[k])) for k in which])], 1)


@torch.no_grad()
def predict(net: BodyNet, v: ValSet, batch: int = 64) -> np.ndarray:
    """(N, 14, 2) joints in image pixels of a validation set."""
    net.eval()
    out = np.zeros((len(v), N_JOINTS, 2))
    for a in range(0, len(v), batch):
        kp = net(torch.from_numpy(v.crops[a : a + batch]))["keypoints"].numpy()
        for i, p in enumerate(kp):
            out[a + i] = apply(invert(v.transforms[a + i]), p)
    return out


def evaluate(net: BodyNet, val: list[ValSet]) -> dict:
    """PCK@0.2 (full-body sets) / PCKh@0.5 and per-joint PCK of each validation set; ``score`` is the first
    set's PCK@0.2 (or PCKh@0.5 when it has no torso labels)."""
    res: dict = {}
    for v in val:
        pred = predict(net, v)
        pckh, _ = pck_table(pred, v.joints, v.mask, 0.5, "pckh")
        res[f"pckh_{v.name}"] = pckh
        if v.mask[:, 3].any():  # a torso diameter needs the left hip
            pck, per = pck_table(pred, v.joints, v.mask, 0.2, "pck")
            res[f"pck_{v.name}"] = pck
            res[f"pck_joints_{v.name}"] = [round(float(x), 4) for x in per]
    first = val[0].name if val else ""
    res["score"] = res.get(f"pck_{first}", res.get(f"pckh_{first}", 0.0))
    return res


def train(cfg: BodyTrainConfig, opts: RunOptions | None = None, log=print,
          sets: tuple[list[BodySet], list[ValSet]] | None = None, name: str = RUN_NAME) -> dict:
    """Run (or resume) a training into ``opts.folder(name)``; returns the best validation metrics.
    ``sets`` (train, val) replaces the named data sets (tests use tiny generated ones)."""
    opts = opts or RunOptions()
    torch.set_num_threads(cfg.threads)
    cv2.setNumThreads(1)
    out = opts.folder(name)
    say = RunLog(out, echo=log)
    budget = TimeBudget(opts.time_budget_min)
    epochs = opts.epochs or cfg.epochs
    spe = cfg.samples_per_epoch // cfg.batch_size
    if opts.steps:
        spe = min(spe, opts.steps)
    torch.manual_seed(cfg.seed)
    net = BodyNet(cfg.net)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ema = EMA(net, cfg.ema_decay)
    sched = WarmupCosine(cfg.lr, max(1, int(cfg.warmup_epochs * spe)), epochs * spe)
    start, step, best = 0, 0, {"score": -1.0}
    if opts.resume and (out / "last.pt").is_file():
        ck = checkpoint.load(out / "last.pt")
        net.load_state_dict(ck.model)
        ema.load_state_dict(ck.ema)
        opt.load_state_dict(ck.optimizer)
        sched.load_state_dict(ck.scheduler or {})
        start, step, best = ck.epoch, ck.step, ck.best or best
        if opts.restart:
            sched.restart(step, step + epochs * spe, warmup=sched.warmup)
            epochs += start
        say(f"resumed from {out / 'last.pt'} at epoch {start}")
    train_sets, val_sets = sets if sets is not None else load_sets(cfg)
    say(f"config {to_dict(cfg)}")
    say(f"params {count_params(net)}; train " + ", ".join(f"{s.name} {len(s)}" for s in train_sets)
        + "; val " + ", ".join(f"{v.name} {len(v)}" for v in val_sets))
    epoch_s: list[float] = []
    epoch = start
    while epoch < epochs:
        rng = np.random.default_rng([cfg.seed, epoch])
        torch.manual_seed(cfg.seed * 1000 + epoch)
        plan = epoch_plan(train_sets, cfg.data.weights, spe * cfg.batch_size, rng)
        net.train()
        t0 = time.time()
        sums: dict[str, float] = {}
        for i in range(spe):
            img, pts, mask = make_batch(train_sets, plan[i * cfg.batch_size : (i + 1) * cfg.batch_size], cfg, rng)
            lr = sched.apply(opt, step)
            loss, parts = body_loss(net(img), pts, mask, cfg.net.input_size, cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(net, step)
            step += 1
            parts["loss"] = float(loss.detach())
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
        train_s = time.time() - t0
        metrics = {f"train_{k}": v / max(1, spe) for k, v in sums.items()}
        metrics.update(evaluate(ema.model, val_sets))
        metrics.update(epoch=epoch, step=step, lr=lr, img_s=spe * cfg.batch_size / max(train_s, 1e-6))
        improved = metrics["score"] > best["score"]
        if improved:
            best = dict(metrics)
            checkpoint.save(out / "best.pt", checkpoint.Checkpoint(model=ema.state_dict(), epoch=epoch + 1,
                                                                  step=step, best=best, config=to_dict(cfg)))
            metrics["onnx_diff"] = export_onnx(ema.model, out / "best.onnx")
        checkpoint.save(out / "last.pt", checkpoint.Checkpoint(
            model=net.state_dict(), ema=ema.state_dict(), optimizer=opt.state_dict(),
            scheduler=sched.state_dict(), epoch=epoch + 1, step=step, best=best, config=to_dict(cfg)))
        say.metrics(metrics)
        pcks = " ".join(f"{k} {v:.3f}" for k, v in metrics.items() if k.startswith(("pck_", "pckh_"))
                        and not k.startswith("pck_joints"))
        say(f"epoch {epoch} loss {metrics['train_loss']:.3f} {pcks} lr {lr:.2e} {metrics['img_s']:.0f} img/s"
            + (" *best, exported best.onnx" if improved else ""))
        epoch_s.append(time.time() - t0)
        epoch += 1
        if budget.limited:
            per_epoch = float(np.mean(epoch_s[-3:]))
            left = budget.left_s()
            if left < per_epoch:
                say(f"time budget of {budget.minutes:g} min spent: stopping after epoch {epoch - 1}")
                break
            sched.fit(step, int(left / per_epoch) * spe, cap=epochs * spe)
    return best
