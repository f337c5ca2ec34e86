"""The registry of shipped models: file, input size, crop rule and version of each.

Every registered model is run through the same contract tests (tests/test_model_contracts.py).
Training code registers nothing here: a model ships when its ONNX file is committed under
facealign/models/ and an entry below names it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True)
class ModelSpec:
    """What the runtime needs to know about one shipped model."""

    name: str
    kind: str  # "detector" | "landmarks" | "temporal"
    file: str  # relative to facealign/models
    input_size: int  # landmarks: crop side; detector: default working size (long side)
    version: str
    description: str
    options: dict = field(default_factory=dict)  # e.g. crop_scale for landmark models

    @property
    def path(self) -> Path:
        return MODELS_DIR / self.file

    @property
    def available(self) -> bool:
        return self.path.is_file()


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"model {spec.name!r} registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def get(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(sorted(_REGISTRY))}") from None


def resolve(model: str | Path, kind: str) -> tuple[ModelSpec, Path]:
    """(spec, file) for a registered model name, or for an ONNX file of that kind (described by the default spec
    of the kind: input size and crop rule), e.g. a training export being evaluated before it ships."""
    text = str(model)
    spec = _REGISTRY.get(text)
    if spec is not None:
        if spec.kind != kind:
            raise ValueError(f"model {text!r} is a {spec.kind} model, not a {kind} model")
        return spec, spec.path
    path = Path(text)
    if path.suffix == ".onnx" or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        return default(kind), path
    names = ", ".join(s.name for s in list_models(kind))
    raise ValueError(f"unknown {kind} model {text!r}: give a registered name ({names}) or an .onnx file")


def list_models(kind: str | None = None) -> list[ModelSpec]:
    return [s for s in _REGISTRY.values() if kind is None or s.kind == kind]


def default(kind: str) -> ModelSpec:
    """The default model of a kind: the first registered one whose file is present."""
    for s in _REGISTRY.values():
        if s.kind == kind and s.available:
            return s
    raise FileNotFoundError(f"no shipped {kind} model found in {MODELS_DIR}")


# The shipped models. Keep this list in step with facealign/models/README.md.
register(
    ModelSpec(
        name="stfan-lmk-112",
        kind="landmarks",
        file="landmarks_stfan112.onnx",
        input_size=112,
        version="1",
        description="FCN heatmap landmark network, multi-scale fused, 68 points, 112x112 crop",
        options={"crop_scale": 1.4},
    )
)
register(
    ModelSpec(
        name="stfan-lmk-112-fast",
        kind="landmarks",
        file="landmarks_stfan112_fast.onnx",
        input_size=112,
        version="1",
        description="the same FCN at about half the cost (narrower, one head block, nearest upsampling), "
        "distilled from stfan-lmk-112; 68 points, 112x112 crop",
        options={"crop_scale": 1.4},
    )
)
register(
    ModelSpec(
        name="ssdlite-det",
        kind="detector",
        file="detector_ssdlite.onnx",
        input_size=640,
        version="1",
        description="SSD-lite face detector (depthwise, multi-scale anchors), box + score + 5 points",
        # score threshold from `facealign eval detector` (about 0.05 false detections per face-free image)
        options={"score_threshold": 0.65},
    )
)
register(
    ModelSpec(
        name="temporal-causal",
        kind="temporal",
        file="temporal_causal.onnx",
        input_size=12,
        version="1",
        description="temporal convolution over the last 12 frames' landmarks (face frame) + scores; online",
        options={"past": 11, "future": 0},
    )
)
register(
    ModelSpec(
        name="temporal-offline",
        kind="temporal",
        file="temporal_offline.onnx",
        input_size=13,
        version="1",
        description="temporal convolution over 6 past + current + 6 future frames' landmarks + scores",
        options={"past": 6, "future": 6},
    )
)
