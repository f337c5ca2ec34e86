"""Training configuration of the landmark network: plain data, loaded from a YAML file."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from facealign.training.common.config import from_dict
from facealign.training.common.config import load_config as _load


@dataclass
class NetConfig:
    """Network shape (see net.py)."""

    input_size: int = 112
    widths: list[int] = field(default_factory=lambda: [16, 24, 32, 64, 96])  # stem, strides 4, 8, 16, 32
    depths: list[int] = field(default_factory=lambda: [2, 3, 3, 2])  # inverted-residual blocks at strides 4..32
    expand: int = 4
    fpn_channels: int = 48
    head_blocks: int = 2
    feature_channels: int = 32  # a stride-4 `features` head (training only, never exported); kept so checkpoints load
    # top-down upsampling in the fusion: "nearest" is ~10% of the run time cheaper in onnxruntime than "bilinear"
    # (its bilinear Resize does not run in the blocked NCHWc layout); the 3x3 smoothing after it interpolates anyway
    upsample: str = "bilinear"
    # a second head of 68 heatmaps: the points in the 3D convention (exported as `landmarks3d`)
    points3d: bool = False


@dataclass
class AugConfig:
    """Random augmentation of a training face (see augment.py)."""

    rotate: float = 45.0
    rotate_large: float = 60.0
    p_rotate_large: float = 0.1
    p_rotate: float = 0.7
    shift: float = 0.12  # box centre jitter, fraction of the box side
    scale: float = 0.15  # box side jitter (log-uniform within +-)
    aspect: float = 0.08
    p_flip: float = 0.5
    p_blur: float = 0.2
    p_noise: float = 0.2
    p_colour: float = 0.8
    p_grey: float = 0.15
    p_occlude: float = 0.3
    p_jpeg: float = 0.2
    p_lowres: float = 0.15


@dataclass
class ConsistencyConfig:
    """Semi-supervised consistency (mean teacher, see consistency.py); ``weight`` 0 turns it off.

    The EMA model predicts the 68 points on a mildly transformed second view of a face (flip, rotation, scale,
    shift: the teacher's view), they are carried through the known transforms into the student's augmented crop
    and become its targets there, weighted by the teacher's per-point confidence."""

    weight: float = 0.0  # wing loss of the student's points to the carried teacher points
    heatmap_weight: float = 0.0  # cross-entropy of the student's heatmaps to Gaussians at the carried points
    min_score: float = 0.3  # teacher points with a lower confidence are left out; the rest weigh by confidence
    sets: list[str] = field(default_factory=list)  # which training sets; empty: the faces without 68 labels
    # 3D shape prior (shape_prior.py): each teacher point pulled towards the face3d fit's projection of the
    # teacher's points by shape_prior x (1 - its confidence); 0: off
    shape_prior: float = 0.0
    # the teacher's view of the cached face (its own box jitter and flip; no photometric damage)
    p_flip: float = 0.5
    rotate: float = 15.0
    shift: float = 0.03
    scale: float = 0.05


@dataclass
class DataConfig:
    """Which data sets (under the data root, facealign.paths.data_root) and how to mix them."""

    cache_dir: str = ""  # the crop cache; empty: facealign.paths.cache_dir("landmarks")
    cache_size: int = 176
    cache_scale: float = 2.52  # side of the cache crop / max box side (1.4 x 1.8: room for rotation and jitter)
    train: list[str] = field(default_factory=lambda: ["300w_train", "ytf68_train", "mtfl_train"])
    weights: dict[str, float] = field(
        default_factory=lambda: {"300w_train": 0.45, "ytf68_train": 0.3, "mtfl_train": 0.25}
    )  # share of each set in an epoch's samples
    val: list[str] = field(default_factory=lambda: ["300w_afw", "ytf68_val", "mtfl_val"])
    limit: int = 0  # >0: at most this many faces per set (smoke runs)


@dataclass
class TrainConfig:
    """Everything a run needs."""

    seed: int = 0
    epochs: int = 40
    samples_per_epoch: int = 8000
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    threads: int = 1
    wing_w: float = 10.0  # wing loss, in units of % of the crop side
    wing_eps: float = 2.0
    heatmap_weight: float = 0.05  # auxiliary cross-entropy to a Gaussian on the heatmaps
    heatmap_sigma: float = 1.0  # in heatmap cells
    score_weight: float = 0.1
    points3d_weight: float = 1.0  # the 3D-convention head's loss (when net.points3d)
    ema_decay: float = 0.998
    max_steps: int = 0  # >0: stop after this many steps per epoch (smoke runs)
    # distillation: a trained landmark checkpoint (its EMA weights) whose outputs on the same augmented crops are
    # extra targets: all 68 points for every face (MTFL faces have 5 labelled points) and its heatmap distributions
    teacher: str = ""
    distill_weight: float = 1.0  # wing loss to the teacher's 68 points
    distill_heatmap_weight: float = 0.0  # cross-entropy of the student's heatmaps to the teacher's (same size)
    consistency: ConsistencyConfig = field(default_factory=ConsistencyConfig)
    net: NetConfig = field(default_factory=NetConfig)
    aug: AugConfig = field(default_factory=AugConfig)
    data: DataConfig = field(default_factory=DataConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def net_config(values: dict) -> NetConfig:
    """A NetConfig from plain data (e.g. a checkpoint's saved config; missing keys keep their defaults)."""
    return from_dict(NetConfig, values, "net")


def load_config(path: str | Path | None) -> TrainConfig:
    """A TrainConfig from a YAML file (missing keys keep their defaults, unknown keys are an error); None gives
    the defaults."""
    return TrainConfig() if path is None else _load(path, TrainConfig)
