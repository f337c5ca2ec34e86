"""Configuration of the temporal module's training: plain data, loaded from a YAML file (configs/temporal.yaml)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from facealign.data.sequences import SequenceConfig, SequenceSources


@dataclass
class NetConfig:
    past: int = 11  # causal window: 11 past frames + the current one
    offline_past: int = 6  # offline window: 6 past + current + 6 future
    offline_future: int = 6
    hidden: int = 64
    kernel: int = 5
    correction: bool = False  # a free per-point correction besides the filter (see net.py)


@dataclass
class TrainConfig:
    seed: int = 0
    steps: int = 2500
    batch_size: int = 128
    lr: float = 0.002
    weight_decay: float = 0.0001
    velocity_weight: float = 10.0  # loss on frame-to-frame motion error (what jitter is)
    threads: int = 1
    out: str = "runs/temporal"
    export_dir: str = "facealign/models"
    sequences: SequenceConfig = field(default_factory=SequenceConfig)
    data: SequenceSources = field(default_factory=SequenceSources)
    net: NetConfig = field(default_factory=NetConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def _build(cls, raw: dict):
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {', '.join(sorted(unknown))}")
    kw = {}
    for k, v in raw.items():
        sub = {"sequences": SequenceConfig, "data": DataConfig, "net": NetConfig}.get(k) if cls is TrainConfig else None
        kw[k] = _build(sub, v or {}) if sub else (tuple(v) if isinstance(v, list) and isinstance(getattr(cls(), k, None), tuple) else v)
    return cls(**kw)


def load_config(path: str | Path) -> TrainConfig:
    """Read a YAML config; missing keys take the defaults above, unknown keys are an error."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    return _build(TrainConfig, raw)
