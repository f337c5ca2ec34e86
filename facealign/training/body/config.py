"""Training configuration of the body keypoint network: plain data, loaded from a YAML file (configs/body.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field

from facealign.training.body.net import BodyNetConfig


@dataclass
class BodyAugConfig:
    """Random augmentation of a training person (see augment.py). The photometric fields are the landmark
    trainer's (facealign.training.landmarks.augment.photometric is shared)."""

    rotate: float = 40.0  # degrees, uniform within +-
    p_rotate: float = 0.7
    p_whole_image: float = 0.35  # full-body sets: use the whole photo as the person box (as in evaluation)
    box_scale: tuple[float, float] = (1.0, 1.7)  # person box side / tight joint box side, log-uniform
    shift: float = 0.1  # box centre jitter, fraction of the box side
    aspect: float = 0.15
    p_flip: float = 0.5
    p_blur: float = 0.2
    p_noise: float = 0.15
    p_colour: float = 0.8
    p_grey: float = 0.1
    p_occlude: float = 0.3
    p_jpeg: float = 0.15
    p_lowres: float = 0.1


@dataclass
class BodyDataConfig:
    """Which named sets (facealign.data.body.BODY_SETS) to train and validate on, under the data root."""

    root: str = ""  # "" = facealign.paths.data_root()
    train: list[str] = field(default_factory=lambda: ["lsp_train", "parse_train", "buffy_train"])
    weights: dict[str, float] = field(
        default_factory=lambda: {"lsp_train": 0.6, "parse_train": 0.12, "buffy_train": 0.28}
    )
    val: list[str] = field(default_factory=lambda: ["lsp_val", "buffy_val"])
    limit: int = 0  # >0: at most this many people per set (smoke runs)


@dataclass
class BodyTrainConfig:
    """Everything a run needs."""

    seed: int = 0
    epochs: int = 60  # a cap: a time budget (command line) shortens the run and its schedule
    samples_per_epoch: int = 3200
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 0.01
    warmup_epochs: float = 1.0
    threads: int = 1
    wing_w: float = 5.0  # wing loss on coordinates, in % of the crop side
    wing_eps: float = 1.0
    heatmap_weight: float = 0.5
    heatmap_sigma: float = 1.5  # heatmap cells
    score_weight: float = 0.1
    score_radius: float = 0.03  # confidence target exp(-(d / r)^2), d and r as fractions of the crop side
    ema_decay: float = 0.995
    net: BodyNetConfig = field(default_factory=BodyNetConfig)
    aug: BodyAugConfig = field(default_factory=BodyAugConfig)
    data: BodyDataConfig = field(default_factory=BodyDataConfig)


def load_config(path) -> BodyTrainConfig:
    """A BodyTrainConfig from a YAML file (missing keys keep their defaults; unknown keys are an error)."""
    from facealign.training.common.config import load_config as load

    return load(path, BodyTrainConfig)
