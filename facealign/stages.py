"""Build ready runtime objects (detector, landmark model, temporal model, ...) from the model registry.

    build_model("stfan-lmk-112-fast", "landmarks", flip_tta=True)   # a registered name
    build_model(None, "detector", det_size=320)                      # the default model of the kind
    build_model("runs/lmk/best.onnx", "landmarks")                   # an ONNX file of the same contract

The registry (facealign.runtime.registry) holds plain specs; this module is the one place that maps a kind to
its runtime class. FaceAligner, the commands and the trainers' export checks all build their models here, so a
training export runs exactly as a shipped model would.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from facealign.runtime import registry
from facealign.runtime.registry import ModelSpec


def _detector(spec: ModelSpec, path: Path, **options: Any):
    from facealign.detection.ssdlite import SSDLiteDetector

    # options: det_size, score_threshold, nms_iou, max_faces, threads, large_faces
    return SSDLiteDetector(spec.name, path=str(path), **options)


def _landmarks(spec: ModelSpec, path: Path, **options: Any):
    from facealign.landmarks.onnx_landmarks import ONNXLandmarks

    # options: threads, flip_tta
    return ONNXLandmarks(spec.name if path == spec.path else path, **options)


def _temporal(spec: ModelSpec, path: Path, **options: Any):
    from facealign.temporal.fusion import TemporalModel

    # options: threads
    return TemporalModel(spec.name if path == spec.path else path, **options)


def _body(spec: ModelSpec, path: Path, **options: Any):
    from facealign.body.onnx_body import ONNXBody

    # options: threads, flip_tta
    return ONNXBody(spec.name if path == spec.path else path, **options)


# kind -> builder(spec, file, **options); a new kind adds its builder here
BUILDERS: dict[str, Callable[..., Any]] = {
    "detector": _detector, "landmarks": _landmarks, "temporal": _temporal, "body": _body,
}


def check_model(model: str | Path | None, kind: str, option: str = "") -> ModelSpec:
    """The spec describing ``model`` (a registered name, None for the default, or an ONNX file) of ``kind``.

    The one validation of a model choice (commands and option objects call it up front): raises ValueError
    with a one-line reason (unknown name, wrong kind, missing file) instead of failing later per input; the
    reason starts with ``option`` (e.g. "--landmarks-model: ") when one is given.
    """
    if kind not in BUILDERS:
        raise ValueError(f"unknown model kind {kind!r}: expected one of {', '.join(BUILDERS)}")
    try:
        return registry.resolve(model, kind)[0]
    except (FileNotFoundError, ValueError) as e:
        raise ValueError(f"{option}: {e}" if option else str(e)) from None


def build_model(model: str | Path | None, kind: str, **options: Any) -> Any:
    """A ready runtime object for ``model`` of ``kind`` ("detector", "landmarks", "temporal").

    ``model``: a registered name, None (the default model of the kind) or an ONNX file of the same contract
    (described by the default spec of the kind: input size, crop rule). ``options`` go to the runtime class
    (detector: det_size, score_threshold, threads, ...; landmarks: threads, flip_tta; temporal: threads).
    Errors: ValueError (unknown name or kind, wrong kind), FileNotFoundError (missing model file).
    """
    if kind not in BUILDERS:
        raise ValueError(f"unknown model kind {kind!r}: expected one of {', '.join(BUILDERS)}")
    spec, path = registry.resolve(model, kind)
    return BUILDERS[kind](spec, path, **options)
