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
    # real-scene data (facealign/data/crowd_scenes.py, hard_negatives.py; docs/detection.md)
    init: str = ""  # a checkpoint whose network weights start a new run (fine-tuning); ignored by --resume
    crowd_fraction: float = 0.0  # share of the scenes of a batch that are crowd scenes
    hard_negative_p: float = 0.0  # chance that an ordinary scene gets hard negatives pasted (and noise / JPEG)
    self_labels: str = ""  # pickle of scripts/self_label_faces.py ("auto": the cache's self_labels_v1.pkl)
    profile_boost: float = 1.0  # turned faces drawn this many times as often in crowd scenes
    val_hard_scenes: int = 0  # face-free validation scenes with hard negatives (false detections reported)
    export_every_epoch: bool = False  # also write epochN.onnx each epoch


def load_config(path: str | Path) -> DetectorConfig:
    """A DetectorConfig from a YAML file (missing keys keep their defaults, unknown keys are an error)."""
    return _load(path, DetectorConfig)
