"""Configuration of the temporal module's training: plain data, loaded from a YAML file (configs/temporal.yaml)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from facealign.data.sequences import SequenceConfig, SequenceSources
from facealign.training.common.config import load_config as _load


@dataclass
class NetConfig:
    """Window lengths and width of the causal and offline networks (see net.py)."""

    past: int = 11  # causal window: 11 past frames + the current one
    offline_past: int = 6  # offline window: 6 past + current + 6 future
    offline_future: int = 6
    hidden: int = 64
    kernel: int = 5
    correction: bool = False  # a free per-point correction besides the filter (see net.py)


@dataclass
class TrainConfig:
    """Everything a temporal run needs: the causal and the offline network are trained one after the other."""

    seed: int = 0
    steps: int = 2500
    batch_size: int = 128
    lr: float = 0.002
    warmup_steps: int = 100
    weight_decay: float = 0.0001
    velocity_weight: float = 10.0  # loss on frame-to-frame motion error (what jitter is)
    threads: int = 1
    sequences: SequenceConfig = field(default_factory=SequenceConfig)
    data: SequenceSources = field(default_factory=SequenceSources)
    net: NetConfig = field(default_factory=NetConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def load_config(path: str | Path) -> TrainConfig:
    """Read a YAML config; missing keys take the defaults above, unknown keys are an error."""
    return _load(path, TrainConfig)
