"""FaceAligner: the one place that knows the order of the stages.

    detect (boxes, scores, 5 points) -> landmarks (68 points in a roll-aware crop) -> [3D fit] -> align (crops)

Every stage takes arrays and returns arrays or Faces; nothing here reads files or prints. Models are built by
facealign.stages.build_model; ``build_aligner(AlignerOptions(...))`` is the one factory the commands, jobs and the
benchmark use, so they all run the same pipeline.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any

import cv2
import numpy as np

from facealign.alignment.crop import roll_from_five, upright_box
from facealign.alignment.points import five_from_68, tight_box
from facealign.alignment.templates import fit_template, get_template
from facealign.alignment.transforms import invert
from facealign.detection.base import Detector
from facealign.landmarks.base import LandmarkModel
from facealign.stages import build_model, check_model
from facealign.types import AlignedFace, Face


# the landmark network's intra-op threads in a pipeline without the shared pool (see FaceAligner's landmark_threads)
LANDMARK_THREADS = 1
# the landmark check's second rule, for faces narrower than FULL_CHECK_WIDTH px (where the mean rule is relaxed):
# the mean confidence of a face's WEAK_POINTS least sure points must reach WEAK_RATIO x verify. Small real faces are
# fairly sure of all but a few points; small letters, badges and textures that pass the relaxed mean rule leave
# several points unsure. Larger faces keep the full mean rule alone: on big profile faces the hidden points are
# unsure for good reason (docs/runtime.md)
FULL_CHECK_WIDTH = 40.0
WEAK_POINTS = 5
WEAK_RATIO = 0.375


class FaceAligner:
    """Detect faces, predict 68 + 5 landmarks, fit 3D and warp canonical crops.

    Args:
        detector: a registered detector name or ONNX file, a ``Detector`` object, or None for the default
            shipped detector (built by facealign.stages.build_model).
        landmarks: a registered landmark model name or ONNX file, a ``LandmarkModel``, None for the default, or
            ``False`` for the fast path (the detector's 5 points only, no 68-point stage).
        det_size: cap on the detector's working size (long side in pixels); None searches the photo at its own
            resolution with a pyramid and tiles (facealign.detection.resolution).
        det_threshold: minimum detection score; None uses the detector's calibrated default.
        refine: run the landmark network a second time on a crop re-centred and de-rotated from the first
            pass's points (doubles landmark cost; no better with good boxes, see docs/runtime.md).
        verify: drop detections whose mean landmark confidence is below this (0 keeps all). The landmark
            network's per-point confidence is low on non-faces, so it acts as a second-stage verifier (as in
            cascaded detectors; the measurements behind the default are in docs/runtime.md). Halved for faces
            under 24 px (see _verify_at); under 40 px the WEAK_POINTS least sure points must also reach
            WEAK_RATIO x verify (see _passes_check). Not applied to given boxes.
        tta: average the landmark network over the crop and its mirror image (lower error for twice the
            landmark time; video tracking turns it off, its temporal fusion does more for less).
        threads: onnxruntime threads (default: FACEALIGN_THREADS or the core count, at most 4): the shared pool's
            size, or the detector's own pool without it.
        landmark_threads: intra-op threads of the landmark network without the shared pool (default
            LANDMARK_THREADS = 1: a second spinning pool next to the detector's competes with it for the cores).
        shared_pool: how the networks get their threads (decided in facealign.runtime.session.use_shared_pool).
            None (default): when the first model loads, facealign turns on onnxruntime's process-wide pool, as the
            commands do, so both networks run on one pool of all cores (faster: docs/runtime.md) -- unless
            onnxruntime sessions of other code are alive in the process then (per-session threads, one logged
            warning), FACEALIGN_SHARED_POOL=0 is set, or ``threads`` is 1. True: turn it on regardless. False:
            leave the process as it is (per-session threads, as before this default).
            The one catch: once the pool is on, onnxruntime refuses every NEW session made by other code with
            default options (``RuntimeError: ... use_per_session_threads must be false when using a global
            thread pool``). Fixes: ``FaceAligner(shared_pool=False)`` (or FACEALIGN_SHARED_POOL=0), make those
            sessions before the first FaceAligner loads a model, or give them
            ``SessionOptions.use_per_session_threads = False`` (they then share the pool).

    Models are loaded on first use, so e.g. landmark-only use never loads the detector.
    """

    def __init__(
        self,
        detector: str | Detector | None = None,
        landmarks: str | LandmarkModel | bool | None = None,
        *,
        det_size: int | None = None,
        det_threshold: float | None = None,
        refine: bool = False,
        verify: float = 0.4,
        tta: bool = True,
        threads: int | None = None,
        landmark_threads: int = LANDMARK_THREADS,
        shared_pool: bool | None = None,
    ) -> None:
        self._detector_arg = detector
        self._landmarks_arg = landmarks
        self.det_size = det_size
        self.det_threshold = det_threshold
        self.refine = refine
        self.verify = verify
        self.tta = tta
        self.threads = threads
        self.landmark_threads = landmark_threads
        self.shared_pool = shared_pool
        self._threads_decided = False
        self._detector: Detector | None = detector if isinstance(detector, Detector) else None
        self._landmarks: LandmarkModel | None = landmarks if isinstance(landmarks, LandmarkModel) else None
        self._fitter = None

    @classmethod
    def from_options(cls, options: "AlignerOptions") -> "FaceAligner":
        """The FaceAligner of ``options`` (see build_aligner, which also sets up the shared thread pool)."""
        o = options
        return cls(
            o.detector_model,
            False if o.fast else o.landmarks_model,
            det_size=o.det_size,
            det_threshold=o.det_threshold,
            refine=o.refine,
            verify=o.verify,
            tta=o.tta,
            threads=o.threads,
            shared_pool=o.shared_pool,
        )

    # -- stages, loaded lazily -------------------------------------------------------------------
    @property
    def detector(self) -> Detector:
        if self._detector is None:
            opts: dict[str, Any] = {"threads": self.threads}
            if self.det_size:
                opts["det_size"] = self.det_size
            if self.det_threshold is not None:
                opts["score_threshold"] = self.det_threshold
            self._decide_threads()
            self._detector = build_model(self._detector_arg, "detector", **opts)
        return self._detector

    @property
    def landmark_model(self) -> LandmarkModel | None:
        if self._landmarks_arg is False:
            return None
        if self._landmarks is None:
            # on the shared pool the thread count is the pool's; else one thread of its own
            self._decide_threads()
            self._landmarks = build_model(
                self._landmarks_arg, "landmarks", threads=self.landmark_threads, flip_tta=self.tta
            )
        return self._landmarks

    def build_temporal(self, mode: str, model: str | None = None):
        """The learned temporal model for ``mode`` ("causal" / "offline"): ``model`` (registered name or ONNX
        file) or the mode's shipped one; None for modes without a model ("off", "oneeuro")."""
        from facealign.temporal.fusion import MODEL_FOR_MODE

        if mode not in MODEL_FOR_MODE:
            return None
        self._decide_threads()
        return build_model(model or MODEL_FOR_MODE[mode], "temporal")

    # -- public API ------------------------------------------------------------------------------
    def detect(self, image: np.ndarray, timings: dict[str, float] | None = None) -> list[Face]:
        """All faces in a BGR uint8 image with box, score, 68 landmarks and 5 landmarks (highest score first).

        The stage order: detector -> landmark crops made upright by the detector's eye line -> landmarks ->
        the landmark confidence check (``verify``) -> 5 points from the 68. ``box`` is then the tight box of the
        68 points (docs/conventions.md), ``detector_box`` the detector's own box (the fast path without 68
        points: both the detector's). ``timings``, when given, receives
        the seconds of the "detect" and "landmarks" (including the check) stages of this call (the benchmark).
        """
        image = _check_image(image)
        t0 = time.perf_counter()
        faces = self.detector.detect(image)
        t1 = time.perf_counter()
        for f in faces:  # the detector's own box stays with the face; ``box`` follows the 68 points below
            f.detector_box = np.array(f.box, dtype=np.float64)
        if faces and self.landmark_model is not None:
            boxes = np.array([f.box for f in faces], dtype=np.float64)
            self._landmarks_into(image, faces, boxes, detector_rolls(faces))
            if self.verify > 0:
                faces = [f for f in faces if self._passes_check(f)]
        if timings is not None:
            timings["detect"] = t1 - t0
            timings["landmarks"] = time.perf_counter() - t1
        return faces

    def landmarks_for_boxes(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None) -> list[Face]:
        """Faces for given boxes (N, 4) in the tight-68-point convention, skipping detection; same order. Each
        face's ``box`` is then the tight box of its predicted 68 points (the given box without a landmark model)."""
        image = _check_image(image)
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if not np.isfinite(boxes).all() or (boxes[:, 2:] <= boxes[:, :2]).any():
            raise ValueError("boxes must be finite [x1, y1, x2, y2] with x2 > x1 and y2 > y1")
        faces = [Face(box=b.copy(), score=1.0) for b in boxes]
        if len(faces) and self.landmark_model is not None:
            self._landmarks_into(image, faces, boxes, angles)
        return faces

    def align(
        self, image: np.ndarray, faces: list[Face], template: str = "arcface112", size: int | None = None
    ) -> list[AlignedFace]:
        """Warp each face into the template frame; returns crops with their 2x3 transforms and inverses."""
        image = _check_image(image)
        size = int(size or get_template(template).default_size)
        if not 1 <= size <= 8192:
            raise ValueError(f"crop size must be 1..8192 pixels, got {size}")
        out = []
        for f in faces:
            m = fit_template(template, size, landmarks68=f.landmarks, landmarks5=f.landmarks5)
            crop = cv2.warpAffine(
                image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
            )
            out.append(AlignedFace(image=crop, transform=m, inverse=invert(m), template=template))
        return out

    @property
    def fitter(self):
        """The 3D face model fitter (facealign.face3d.Face3DFitter), loaded on first use."""
        if self._fitter is None:
            from facealign.face3d.fit import Face3DFitter

            self._fitter = Face3DFitter()
        return self._fitter

    def fit3d(
        self,
        image: np.ndarray | tuple[int, int],
        faces: list[Face],
        camera: str = "weak_perspective",
        focal: float | None = None,
    ) -> list[Face]:
        """Fit the 3D face model to each face's 68 landmarks; fills ``Face.fit`` and ``Face.pose`` in place.

        ``image`` is the image the landmarks refer to, or just its size (width, height): the principal point is
        its centre. ``camera``: "weak_perspective" or "perspective" (focal in pixels estimated unless given).
        Faces whose landmark network gave the 3D convention (``Face.landmarks3d_xy``) keep those points as the x, y
        of ``landmarks3d`` (the depth and the pose come from the fit to ``landmarks``; docs/conventions.md).
        """
        from facealign.face3d.pose import pose_from_rotation

        w, h = (image.shape[1], image.shape[0]) if isinstance(image, np.ndarray) else image
        for f in faces:
            if f.landmarks is None:
                continue
            f.fit = self.fitter.fit(f.landmarks, (int(w), int(h)), camera=camera, focal=focal)
            if f.landmarks3d_xy is not None:  # the network's own 3D-convention points beat the fit's projection
                f.fit.landmarks3d[:, :2] = f.landmarks3d_xy
            f.pose = pose_from_rotation(f.fit.rotation)
        return faces

    def track(self, frames, temporal: str = "causal", key_interval: int = 10, max_lost: int = 15, **kwargs):
        """Iterate over a video with state: ``for index, time, faces in fa.track(frames): ...``.

        ``frames``: a video file or folder path, an iterable of BGR images, or of (index, time, image).
        Faces carry ``Face.track`` ids; the detector runs every ``key_interval`` frames (or when a track is
        lost); ``temporal`` is ``causal``, ``offline``, ``oneeuro`` or ``off`` (see facealign.temporal).
        Each item is a TrackedFrame (also has ``.image``). Other options: facealign.temporal.run.track_frames
        (``temporal_model``: a registered temporal model name or ONNX file instead of the mode's shipped one).
        """
        from facealign.temporal.run import track_frames

        return track_frames(self, frames, temporal=temporal, key_interval=key_interval, max_lost=max_lost, **kwargs)

    # -- internals -------------------------------------------------------------------------------
    def _decide_threads(self) -> None:
        """Before the first model of this aligner is built: the shared pool or not (runtime.session decides)."""
        if not self._threads_decided:
            from facealign.runtime.session import use_shared_pool

            use_shared_pool(self.shared_pool, self.threads)
            self._threads_decided = True

    def _passes_check(self, face: Face) -> bool:
        """The landmark check of a detected face: its mean point confidence reaches the size-dependent threshold
        (_verify_at) and, under FULL_CHECK_WIDTH px, the mean of its WEAK_POINTS least sure points reaches
        WEAK_RATIO x ``verify``."""
        sc = face.landmark_scores
        if sc is None:
            return True
        box = face.detector_box if face.detector_box is not None else face.box
        if sc.mean() < self._verify_at(box):
            return False
        return bool(box[2] - box[0] >= FULL_CHECK_WIDTH or weak_points_confidence(sc) >= WEAK_RATIO * self.verify)

    def _verify_at(self, box: np.ndarray) -> float:
        """The mean-confidence threshold for a face of this box: ``verify`` from FULL_CHECK_WIDTH (40) px wide, half
        of it at 24 px and below.

        Tiny faces are blurry in the upscaled crop, so the network is less sure of them even when they are real
        (the measurements are in docs/runtime.md).
        """
        w = float(box[2] - box[0])
        return self.verify * min(1.0, max(0.5, (w - 8.0) / (FULL_CHECK_WIDTH - 8.0)))

    def _landmarks_into(self, image: np.ndarray, faces: list[Face], boxes: np.ndarray, angles) -> None:
        model = self.landmark_model
        out = model.predict_all(image, boxes, angles)
        if self.refine:
            ref = [upright_box(p) for p in out.landmarks]
            out = model.predict_all(image, np.array([b for b, _ in ref]), np.array([a for _, a in ref]))
        lm = out.landmarks
        five = five_from_68(lm)  # all faces at once
        for i, (f, p, s, p5) in enumerate(zip(faces, lm, out.scores, five)):
            f.landmarks = p
            f.landmark_scores = s
            f.landmarks5 = p5
            f.box = tight_box(p)  # the box convention: the tight box of the 68 points
            f.landmarks3d_xy = None if out.landmarks3d is None else out.landmarks3d[i]


@dataclass
class AlignerOptions:
    """The choices that make a FaceAligner (plain data: it goes to worker processes). ``check()`` validates them
    up front; ``build_aligner`` makes the aligner. Field names match the batch options, so ``of(obj)`` copies
    them from any object that has them."""

    detector_model: str | None = None  # registered name or .onnx file (None: the default detector)
    landmarks_model: str | None = None  # registered name or .onnx file (None: the default landmark model)
    fast: bool = False  # no 68-point network: the detector's 5 points only
    det_size: int | None = None
    det_threshold: float | None = None
    refine: bool = False
    verify: float = 0.4  # second-stage check of detections by the landmark confidence (0: off)
    tta: bool = True  # mirrored second landmark pass, averaged
    threads: int | None = None
    shared_pool: bool = True  # detector and landmark network on one onnxruntime pool (as the commands run)

    @classmethod
    def of(cls, obj: Any, **overrides: Any) -> "AlignerOptions":
        """AlignerOptions from the same-named attributes of ``obj`` (e.g. batch options), then ``overrides``."""
        values = {f.name: getattr(obj, f.name) for f in fields(cls) if hasattr(obj, f.name)}
        return cls(**{**values, **overrides})

    def check(self) -> "AlignerOptions":
        """Raise ValueError with a one-line reason for a bad choice or combination; returns self."""
        if self.fast and self.landmarks_model:
            raise ValueError("--fast skips the landmark network; --landmarks-model has no effect with it")
        if self.det_size is not None and self.det_size < 1:
            raise ValueError(f"det_size must be >= 1, got {self.det_size}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.detector_model:
            check_model(self.detector_model, "detector", "--detector-model")
        if self.landmarks_model and not self.fast:
            check_model(self.landmarks_model, "landmarks", "--landmarks-model")
        return self


def build_aligner(options: AlignerOptions | None = None, **overrides: Any) -> FaceAligner:
    """The one FaceAligner factory of the commands, jobs and benchmark: ``options`` (then ``overrides``) checked,
    the shared onnxruntime pool enabled when ``options.shared_pool`` (one thread: no pool), the aligner made.

    Models load on first use; touch ``fa.detector`` / ``fa.landmark_model`` to fail early on a missing file.
    """
    o = options or AlignerOptions()
    if overrides:
        o = AlignerOptions.of(o, **overrides)
    o.check()
    if o.shared_pool:
        from facealign.runtime.session import enable_shared_pool

        enable_shared_pool(o.threads)
    return FaceAligner.from_options(o)


def weak_points_confidence(scores: np.ndarray) -> float:
    """The mean confidence of a face's WEAK_POINTS least sure landmarks (1.0 when it has no more points)."""
    sc = np.asarray(scores, dtype=np.float64).ravel()
    if sc.size <= WEAK_POINTS:
        return 1.0
    return float(np.partition(sc, WEAK_POINTS - 1)[:WEAK_POINTS].mean())


def detector_rolls(faces: list[Face]) -> np.ndarray:
    """The roll (degrees) of each detected face from its eye points (0 without 5 points): the landmark crop is
    rotated by it so the face comes out upright."""
    if all(f.landmarks5 is not None for f in faces):  # all faces at once
        return np.asarray(roll_from_five(np.array([f.landmarks5 for f in faces]).reshape(-1, 5, 2)))
    return np.array([roll_from_five(f.landmarks5) if f.landmarks5 is not None else 0.0 for f in faces])


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("expected an H x W x 3 uint8 BGR image")
    return image
