"""`facealign eval detector` as an API: the detector (optionally with the landmark check) through
facealign.evaluation.detector_eval, and pictures of its detections on the wild photos."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from facealign.detection.base import Detector


@dataclass
class DetectorEvalOptions:
    model: str | None = None  # registered detector name or ONNX file (None: the shipped one)
    data_root: Path | None = None  # None: facealign.paths.data_root()
    cache_dir: Path | None = None  # None: facealign.paths.cache_dir("detector")
    det_size: int = 640
    fppi: float = 0.05
    limit: int = 0
    scenes: int = 300
    threads: int | None = None
    verify: float = 0.0  # > 0: the landmark check after the detector, as `align` runs it

    def check(self) -> "DetectorEvalOptions":
        """Raise ValueError with a one-line reason for a bad option, before any work."""
        from facealign.stages import check_model

        if self.det_size < 1 or self.fppi <= 0 or self.limit < 0 or self.scenes < 0:
            raise ValueError("det-size must be >= 1, fppi > 0, limit and scenes >= 0")
        check_model(self.model, "detector", "--model")
        from facealign import paths
        from facealign.data.face_crops import VAL_SOURCES, check_sources
        from facealign.evaluation.detector_eval import RECALL_SOURCES

        try:  # every labelled set the evaluation reads, before the detector is built
            check_sources(self.data_root or paths.data_root(), dict.fromkeys([*RECALL_SOURCES.values(), *VAL_SOURCES]))
        except FileNotFoundError as e:
            raise ValueError(str(e)) from None
        return self


def build_detector(opts: DetectorEvalOptions) -> Detector:
    """The detector under test, at a low score threshold (0.05) so every operating point can be read off."""
    from facealign.stages import build_model

    det = build_model(opts.model, "detector", det_size=opts.det_size, score_threshold=0.05, threads=opts.threads)
    if opts.verify > 0:
        from facealign.evaluation.detector_eval import VerifiedDetector

        det = VerifiedDetector(det, opts.verify, threads=opts.threads)
    return det


def evaluate(opts: DetectorEvalOptions, log: Callable[[str], None] = print) -> tuple[Detector, dict]:
    """(the detector, all metrics of facealign.evaluation.detector_eval.evaluate_detector)."""
    from facealign import paths
    from facealign.evaluation.detector_eval import evaluate_detector

    opts.check()
    det = build_detector(opts)
    data_root = opts.data_root or paths.data_root()
    cache_dir = opts.cache_dir or paths.cache_dir("detector")
    return det, evaluate_detector(det, data_root, cache_dir, opts.fppi, opts.limit, opts.scenes, log=log)


def draw_wild(det: Detector, data_root: Path, out: Path, thr: float, log: Callable[[str], None] = print) -> None:
    """Detections at ``thr`` drawn on every wild photo (for checking by eye; the photos have no labels)."""
    import cv2

    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((data_root / "wild").glob("*.jpg")):
        img = cv2.imread(str(path))
        faces = [f for f in det.detect(img) if f.score >= thr]
        for f in faces:
            b = f.box.round().astype(int)
            cv2.rectangle(img, (b[0], b[1]), (b[2], b[3]), (0, 255, 0), 1)
            for q in f.landmarks5:
                cv2.circle(img, (int(round(q[0])), int(round(q[1]))), 1, (0, 0, 255), -1)
        cv2.imwrite(str(out / (path.stem + ".png")), img)
        log(f"{path.name}: {len(faces)} faces")
