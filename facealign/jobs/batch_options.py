"""The options of the photo batch (`align`, `pose`): plain data, checked as a whole before any image is read."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from facealign.io.images import DEFAULT_MAX_PIXELS
from facealign.jobs.options import (
    MAX_CROP_SIZE, MIN_DET_SIZE, OptionsError, check_choice, check_float, check_int, check_model,
)

CAMERAS = ("weak_perspective", "perspective")
CROP_FORMATS = ("png", "jpg", "webp")
ENGINES = ("local", "ray")
MAX_JOBS = 256
MAX_THREADS = 256


@dataclass
class BatchOptions:
    """Everything a photo batch needs; plain data so it can be sent to worker processes and Ray actors.

    ``validate()`` (run by ``run_batch`` before anything is read or written) raises ``OptionsError`` for an
    option out of range or a combination that cannot work.
    """

    out: str
    template: str = "arcface112"
    size: int | None = None  # crop size (None: the template's)
    boxes: dict[str, list[list[float]]] | None = None  # --boxes: path as given -> tight-68 boxes
    det_size: int | None = None
    det_threshold: float | None = None
    fast: bool = False  # no 68-point network: align on the detector's 5 points
    landmarks_model: str | None = None  # registered name or .onnx file (None: the default model)
    refine: bool = False
    verify: float = 0.4  # second-stage check of detections by the landmark confidence (0: off)
    tta: bool = True  # mirrored second landmark pass, averaged
    fit3d: bool = False
    camera: str = "weak_perspective"
    focal: float | None = None
    crops: bool = True
    overlays: bool = True
    meshes: bool = False  # write the fitted mesh (OBJ) per face when fit3d
    crop_format: str = "png"
    max_pixels: int = DEFAULT_MAX_PIXELS
    threads: int | None = None  # onnxruntime threads per process (None: the cores shared between the jobs)
    jobs: int = 1  # worker processes (local engine) or actors (Ray)
    resume: bool = False  # skip the inputs already done in out/results.jsonl
    engine: str = "local"
    address: str | None = None  # Ray cluster address (engine "ray" only; None: a local Ray instance)
    extra: dict[str, Any] = field(default_factory=dict)  # "aligner_factory": "module:function" (tests)

    def validate(self) -> "BatchOptions":
        """Raise ``OptionsError`` for the first broken rule; return self."""
        from facealign.alignment.templates import TEMPLATES

        if not isinstance(self.out, str) or not self.out:
            raise OptionsError("out: expected an output folder")
        check_choice("template", self.template, sorted(TEMPLATES))
        check_int("size", self.size, 8, MAX_CROP_SIZE)
        check_int("det_size", self.det_size, MIN_DET_SIZE, 8192)
        check_float("det_threshold", self.det_threshold, 0.0, 1.0)
        check_float("verify", self.verify, 0.0, 1.0, optional=False)
        check_choice("camera", self.camera, CAMERAS)
        check_float("focal", self.focal, 0.0, open_low=True)
        check_choice("crop_format", self.crop_format, CROP_FORMATS)
        check_int("max_pixels", self.max_pixels, 1, optional=False)
        check_int("threads", self.threads, 1, MAX_THREADS)
        check_int("jobs", self.jobs, 1, MAX_JOBS, optional=False)
        check_choice("engine", self.engine, ENGINES)
        if self.address and self.engine != "ray":
            raise OptionsError("--address needs --engine ray")
        if self.fast and self.landmarks_model:
            raise OptionsError("--fast skips the landmark network; --landmarks-model has no effect with it")
        if self.fast and (self.template.startswith("mean68") or self.fit3d):
            what = "the 3D fit" if self.fit3d else f"template {self.template}"
            raise OptionsError(f"--fast gives 5 points only; {what} needs the 68 landmarks")
        if self.boxes is not None and not isinstance(self.boxes, dict):
            raise OptionsError("boxes: expected {image path: [[x1, y1, x2, y2], ...]}")
        check_model("landmarks_model", self.landmarks_model, "landmarks")
        return self


def load_boxes_file(path: str) -> dict[str, list[list[float]]]:
    """Read a --boxes JSON file: {image path as given: [[x1, y1, x2, y2], ...]}; ``OptionsError`` if unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise OptionsError(f"{path}: cannot read boxes file ({e.strerror or e})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        msg = f"{e.msg} at line {e.lineno}" if isinstance(e, json.JSONDecodeError) else "not UTF-8 text"
        raise OptionsError(f"{path}: not valid JSON ({msg})") from None
    if not isinstance(data, dict):
        raise OptionsError(f"{path}: expected an object {{image path: [[x1, y1, x2, y2], ...]}}")
    return data
