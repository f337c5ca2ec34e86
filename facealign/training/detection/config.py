"""Detector training configuration: a dataclass filled from a YAML file (configs/detector.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from facealign.training.common.config import load_config as _load


@dataclass
class DetectorConfig:
    """Everything a detector run needs; the data comes from facealign.paths.data_root()."""

    cache_dir: str = ""  # the face crop cache; empty: facealign.paths.cache_dir("detector")
    seed: int = 0
    canvas: int = 320
    batch: int = 16
    epochs: int = 100
    steps_per_epoch: int = 400
    lr: float = 0.004
    weight_decay: float = 5e-4
    warmup_steps: int = 300
    lr_floor: float = 0.02  # the cosine decays to this fraction of lr
    widths: list[int] = field(default_factory=lambda: [16, 32, 64, 96, 128])
    fpn: int = 48
    val_scenes: int = 300
    val_canvas: int = 416
    min_face: float = 10.0
    threads: int = 1
    synthetic: bool = False  # smoke tests: generated faces instead of the real data


def load_config(path: str | Path) -> DetectorConfig:
    """A DetectorConfig from a YAML file (missing keys keep their defaults, unknown keys are an error)."""
    return _load(path, DetectorConfig)
