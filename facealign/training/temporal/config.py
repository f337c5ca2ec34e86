"""Configuration of the temporal module's training: plain data, loaded from a YAML file (configs/temporal.yaml)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml


@dataclass
class SequenceConfig:
    """How synthetic sequences are made from labelled stills (see sequences.py)."""

    frames: int = 40  # frames per sequence
    frame_size: int = 192  # square frames, pixels
    face_size: tuple[float, float] = (70.0, 120.0)  # max side of the face's tight box in the frame (range)
    p_still: float = 0.35  # share of still sequences (the image does not move, only noise changes)
    p_fast: float = 0.3  # share of fast-moving sequences among the moving ones
    slow_hz: float = 0.5  # highest frequency of slow trajectories
    fast_hz: float = 1.2  # highest frequency of fast ones (peak speeds ~2 face sizes per second)
    shift: float = 0.25  # trajectory amplitude: translation, fraction of the face size
    rotate: float = 12.0  # degrees
    scale: float = 0.12  # log scale
    perspective: float = 0.0006  # projective terms (1 / pixels)
    fps: float = 30.0
    noise: tuple[float, float] = (1.0, 8.0)  # per-frame Gaussian noise sigma range (grey levels)
    p_blur: float = 0.4
    blur: tuple[float, float] = (0.3, 1.5)  # Gaussian blur sigma range
    brightness: float = 0.25  # per-sequence gain range (+-), with a slow per-frame drift of a fifth of it
    jpeg: tuple[int, int] = (35, 95)  # per-sequence JPEG quality range (each frame compressed separately)
    p_jpeg: float = 0.7
    det_jitter: float = 0.06  # first frame's box = ground-truth box jittered by this fraction (a detector)


@dataclass
class DataConfig:
    root: str = "../shared/data"  # relative to the repo root unless absolute
    cache_dir: str = "/work/cache/temporal"
    train: list[str] = field(default_factory=lambda: ["300w/lfpw_train", "300w/helen_train", "ytf68/train"])
    val: list[str] = field(default_factory=lambda: ["ytf68/val", "300w/afw"])
    train_sequences: int = 800
    val_sequences: int = 200
    landmark_model: str = "facealign/models/landmarks_stfan112.onnx"  # the per-frame model whose output is fused


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
    data: DataConfig = field(default_factory=DataConfig)
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
