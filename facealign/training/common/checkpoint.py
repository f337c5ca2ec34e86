"""One checkpoint layout for every trainer, and a loader that also reads the older layouts (checkpoints/*.pt).

A checkpoint is a dict saved with torch.save: ``layout`` (1), ``model`` (state dict), ``ema`` (state dict or
None), ``optimizer``, ``scheduler`` (state dicts or None), ``epoch`` (epochs completed: the next one to run),
``step`` (optimiser steps completed), ``best`` (best validation metrics so far), ``config`` (the run's config as
plain data) and ``extra`` (trainer-specific state such as RNG state or training seconds).
``last.pt`` holds everything to continue; ``best.pt`` holds the weights that were evaluated best (``model``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

LAYOUT = 1


@dataclass
class Checkpoint:
    """The state of a run (see the module docstring)."""

    model: dict
    ema: dict | None = None
    optimizer: dict | None = None
    scheduler: dict | None = None
    epoch: int = 0
    step: int = 0
    best: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def weights(self) -> dict:
        """The weights to evaluate or export: the EMA weights when there are some, else the model's."""
        return self.ema if self.ema is not None else self.model


def save(path: str | Path, ck: Checkpoint) -> Path:
    """Write ``ck`` atomically (a crash mid-write leaves the previous file intact)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"layout": LAYOUT, **asdict(ck)}, tmp)
    tmp.replace(path)
    return path


def load(path: str | Path) -> Checkpoint:
    """Read a checkpoint of any layout this project has written; raises ValueError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    raw = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a training checkpoint")
    try:
        return from_raw(raw)
    except KeyError as e:
        raise ValueError(f"{path}: not a training checkpoint of a known layout (no {e})") from None


def from_raw(raw: dict[str, Any]) -> Checkpoint:
    """A Checkpoint from the dict of a saved file: layout 1, or the older landmark and detector layouts."""
    if raw.get("layout") == LAYOUT:
        return Checkpoint(**{k: v for k, v in raw.items() if k != "layout"})
    if "net" in raw:  # older detector files: net, opt, step, epoch (completed), train_s, rng, cfg, scene_version
        extra = {k: raw[k] for k in ("train_s", "rng", "scene_version", "metrics") if k in raw}
        best = raw.get("best") or ({**raw["metrics"], "epoch": raw["epoch"]} if "metrics" in raw else {})
        return Checkpoint(model=raw["net"], optimizer=raw.get("opt"), epoch=int(raw.get("epoch", 0)),
                          step=int(raw.get("step", 0)), best=best, config=raw.get("cfg", {}), extra=extra)
    # older landmark files: last.pt (model, ema, optimizer, epoch = last finished index, step, best, epochs,
    # config) and best.pt (model = the EMA weights, config, metrics)
    metrics = raw.get("metrics")
    if "epoch" in raw:
        epoch = int(raw["epoch"]) + 1
    else:
        epoch = int(metrics["epoch"]) + 1 if metrics and "epoch" in metrics else 0
    extra = {"epochs": raw["epochs"]} if "epochs" in raw else {}
    return Checkpoint(model=raw["model"], ema=raw.get("ema"), optimizer=raw.get("optimizer"), epoch=epoch,
                      step=int(raw.get("step", 0)), best=raw.get("best") or dict(metrics or {}),
                      config=raw.get("config", {}), extra=extra)
