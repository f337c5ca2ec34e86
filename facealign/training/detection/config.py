"""Detector training configuration: a dataclass filled from a YAML file."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]


@dataclass
class DetectorConfig:
    data_root: str = str(REPO.parent / "shared" / "data")
    cache_dir: str = "/work/cache/detector"
    out: str = "runs/detector"
    seed: int = 0
    canvas: int = 320
    batch: int = 16
    epochs: int = 100
    steps_per_epoch: int = 400
    time_budget_min: float = 0.0  # > 0: the learning-rate schedule follows wall-clock training time and stops there
    lr: float = 0.004
    weight_decay: float = 5e-4
    warmup_steps: int = 300
    widths: list[int] = field(default_factory=lambda: [16, 32, 64, 96, 128])
    fpn: int = 48
    val_scenes: int = 300
    val_canvas: int = 416
    min_face: float = 10.0
    threads: int = 1
    synthetic: bool = False  # smoke tests: random blobs instead of the real data

    @classmethod
    def from_yaml(cls, path: str | Path) -> "DetectorConfig":
        data = yaml.safe_load(Path(path).read_text()) or {}
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown detector config keys: {sorted(unknown)}")
        return cls(**data)
