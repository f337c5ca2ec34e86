"""stages.build_model / check_model and the one FaceAligner factory (pipeline.build_aligner, AlignerOptions)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from facealign.detection.ssdlite import SSDLiteDetector
from facealign.landmarks.onnx_landmarks import ONNXLandmarks
from facealign.pipeline import AlignerOptions, FaceAligner, build_aligner
from facealign.runtime import registry
from facealign.stages import build_model, check_model
from facealign.temporal.fusion import TemporalModel
from helpers import BrightSquareDetector, MeanShapeLandmarks, squares_image


def test_build_model_by_name_default_and_file():
    fast = build_model("stfan-lmk-112-fast", "landmarks", threads=1, flip_tta=True)
    assert isinstance(fast, ONNXLandmarks) and fast.name == "stfan-lmk-112-fast" and fast.flip_tta
    assert build_model(None, "landmarks", threads=1).name == registry.default("landmarks").name
    path = registry.get("stfan-lmk-112-fast").path
    assert build_model(path, "landmarks", threads=1).name == str(path)
    det = build_model(None, "detector", threads=1, det_size=320, score_threshold=0.3)
    assert isinstance(det, SSDLiteDetector) and det.det_size == 320 and det.score_threshold == 0.3
    offline = build_model("temporal-offline", "temporal")
    assert isinstance(offline, TemporalModel) and offline.future > 0


def test_build_model_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="not a landmarks model"):
        build_model("ssdlite-det", "landmarks")
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model(None, "hands")
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        build_model(tmp_path / "missing.onnx", "temporal")


def test_check_model_is_one_validation_with_one_line_errors(tmp_path):
    assert check_model("stfan-lmk-112-fast", "landmarks").name == "stfan-lmk-112-fast"
    assert check_model(None, "detector").kind == "detector"
    for bad, kind, message in [("nope", "landmarks", "unknown landmarks model"),
                               ("temporal-causal", "landmarks", "not a landmarks model"),
                               (str(tmp_path / "missing.onnx"), "landmarks", "model file not found")]:
        with pytest.raises(ValueError, match=message) as e:
            check_model(bad, kind)
        assert "\n" not in str(e.value)


def test_aligner_options_check_up_front():
    with pytest.raises(ValueError, match="--fast skips the landmark network"):
        AlignerOptions(fast=True, landmarks_model="stfan-lmk-112-fast").check()
    with pytest.raises(ValueError, match="--landmarks-model: unknown landmarks model"):
        build_aligner(AlignerOptions(landmarks_model="nope"))
    with pytest.raises(ValueError, match="--detector-model"):
        AlignerOptions(detector_model="stfan-lmk-112").check()


def test_build_aligner_makes_the_aligner_the_options_describe():
    fa = build_aligner(AlignerOptions(landmarks_model="stfan-lmk-112-fast", det_size=320, verify=0.3, tta=False,
                                      threads=1, shared_pool=False))
    assert isinstance(fa, FaceAligner) and fa.det_size == 320 and fa.verify == 0.3 and not fa.tta
    assert fa.landmark_model.name == "stfan-lmk-112-fast" and not fa.landmark_model.flip_tta
    assert build_aligner(AlignerOptions(fast=True, shared_pool=False)).landmark_model is None

    @dataclass
    class JobOptions:  # any options object with the same field names (e.g. the batch options)
        out: str
        fast: bool = True
        threads: int = 1

    o = AlignerOptions.of(JobOptions("x"), shared_pool=False)
    assert o.fast and o.threads == 1 and not o.shared_pool


def test_detect_reports_the_stage_split_and_applies_the_landmark_check():
    img = squares_image([(20, 20, 40), (120, 30, 50)])

    class Unsure(MeanShapeLandmarks):
        def predict(self, image, boxes, angles=None):
            lm, sc = super().predict(image, boxes, angles)
            return lm, np.full(sc.shape, 0.1)

    times: dict[str, float] = {}
    assert FaceAligner(BrightSquareDetector(), Unsure()).detect(img, timings=times) == []
    assert set(times) == {"detect", "landmarks"} and min(times.values()) >= 0


def test_landmark_check_drops_small_faces_with_several_unsure_points_despite_a_high_mean():
    img = squares_image([(20, 20, 20), (70, 20, 30), (150, 30, 60)])  # two small "faces" and a large one (boxes 1 px less)

    def with_weak(values):
        class Weak(MeanShapeLandmarks):
            def predict(self, image, boxes, angles=None):
                lm, sc = super().predict(image, boxes, angles)
                sc = np.full(sc.shape, 0.9)
                sc[:, : len(values)] = values  # the mean stays ~0.85, far above verify
                return lm, sc
        return Weak()

    def widths(faces):
        return sorted(round(f.detector_box[2] - f.detector_box[0]) for f in faces)

    # five points at 0.1 (below 0.375 x 0.4 = 0.15): the small ones are not faces; the large one keeps the mean
    # rule alone (hidden points of a big profile are unsure for good reason)
    assert widths(FaceAligner(BrightSquareDetector(), with_weak([0.1] * 5), verify=0.4).detect(img)) == [59]
    assert len(FaceAligner(BrightSquareDetector(), with_weak([0.2] * 5), verify=0.4).detect(img)) == 3
    assert len(FaceAligner(BrightSquareDetector(), with_weak([0.1] * 4), verify=0.4).detect(img)) == 3
    assert len(FaceAligner(BrightSquareDetector(), with_weak([0.0] * 5), verify=0.0).detect(img)) == 3


def test_track_builds_the_temporal_model_of_the_mode_through_the_registry():
    fa = FaceAligner(BrightSquareDetector(), MeanShapeLandmarks())
    assert fa.build_temporal("oneeuro") is None
    assert fa.build_temporal("offline").future > 0
    frames = [squares_image([(40, 40, 60)]) for _ in range(3)]
    out = list(fa.track(frames, temporal="causal", temporal_model="temporal-causal"))
    assert len(out) == 3 and all(len(f.faces) == 1 for f in out)
    with pytest.raises(ValueError, match="not a temporal model"):
        fa.track(frames, temporal="causal", temporal_model="stfan-lmk-112")
