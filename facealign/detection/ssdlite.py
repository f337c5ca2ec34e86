"""The project's SSD-lite face detector at run time (onnxruntime + numpy + OpenCV; no torch).

Pre-processing: the image is scaled so its long side is ``det_size`` (default 640) when it is larger; smaller images
are not upscaled (upscaling makes their faces bigger than they need to be and costs time; faces of 10 px and more
are found at scale 1). The scaled image is padded (bottom/right, black) to a multiple of 32. Images whose shorter
side is below ``MIN_SIDE`` px cannot hold a detectable face: they return an empty list without running the network.
Post-processing: decode the anchors (facealign.detection.anchors), keep scores >= ``score_threshold``, greedy NMS,
map boxes and the 5 points back to the original pixels (0-based pixel centres).
"""
from __future__ import annotations

import cv2
import numpy as np

from facealign.detection.anchors import decode, priors
from facealign.detection.base import Detector
from facealign.detection.nms import nms
from facealign.runtime import registry
from facealign.runtime.session import create_session
from facealign.types import Face

MIN_SIDE = 8
PAD = 32
MAX_CANDIDATES = 1000


def preprocess(image: np.ndarray, det_size: int) -> tuple[np.ndarray, float]:
    """(1, H, W, 3) uint8 network input with H, W multiples of 32, and the scale factor input/original."""
    h, w = image.shape[:2]
    scale = min(1.0, det_size / max(h, w))
    if scale < 1.0:
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    else:
        nh, nw = h, w
    ph, pw = -(-nh // PAD) * PAD, -(-nw // PAD) * PAD
    x = np.zeros((1, ph, pw, 3), np.uint8)
    x[0, :nh, :nw] = image
    # the exact resize factor per axis can differ from ``scale`` by rounding; use the mean of both
    return x, (nw / w + nh / h) / 2


def postprocess(scores: np.ndarray, t_box: np.ndarray, t_kps: np.ndarray, pri: np.ndarray, score_threshold: float,
                nms_iou: float, max_faces: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes (n, 4), scores (n,), points (n, 5, 2)) in network-input pixels from one image's raw outputs."""
    keep = np.nonzero(scores >= score_threshold)[0]
    if keep.size > MAX_CANDIDATES:  # bound the NMS work (quadratic) on pathological inputs or low thresholds
        keep = keep[np.argsort(-scores[keep])[:MAX_CANDIDATES]]
    boxes, kps = decode(pri[keep], t_box[keep], t_kps[keep])
    sel = nms(boxes, scores[keep], nms_iou, max_faces)
    return boxes[sel], scores[keep][sel], kps[sel]


class SSDLiteDetector(Detector):
    """Finds faces with the shipped SSD-lite model ("ssdlite-det"); see the module docstring for the rules."""

    name = "ssdlite"

    def __init__(self, model: str = "ssdlite-det", det_size: int | None = None, score_threshold: float | None = None,
                 nms_iou: float = 0.4, max_faces: int = 1000, threads: int | None = None, path: str | None = None) -> None:
        spec = registry.get(model)
        self.det_size = int(det_size or spec.input_size)
        if self.det_size < PAD:
            raise ValueError(f"det_size must be >= {PAD}, got {self.det_size}")
        # the shipped threshold (registry option) is the one chosen for <= 0.05 false detections per face-free image
        self.score_threshold = float(spec.options.get("score_threshold", 0.5) if score_threshold is None else score_threshold)
        self.nms_iou = nms_iou
        self.max_faces = max_faces
        self.session = create_session(path or spec.path, threads)

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR uint8 image (grey H x W and BGRA are accepted), highest score first."""
        image = np.asarray(image)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.ndim == 3 and image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 BGR image, got shape {image.shape}")
        if image.dtype != np.uint8:
            raise ValueError(f"expected uint8 pixels, got {image.dtype}")
        if min(image.shape[:2]) < MIN_SIDE:
            return []
        x, scale = preprocess(image, self.det_size)
        scores, t_box, t_kps = self.session.run(["scores", "boxes", "kps"], {"input": x})
        pri = priors(x.shape[1], x.shape[2])
        boxes, sc, kps = postprocess(scores[0], t_box[0], t_kps[0], pri, self.score_threshold, self.nms_iou, self.max_faces)
        h, w = image.shape[:2]
        faces = []
        for b, s, k in zip(boxes, sc, kps):
            # input pixel centres map back by (x + 0.5) / scale - 0.5
            bo = (b.astype(np.float64) + 0.5) / scale - 0.5
            ko = (k.astype(np.float64) + 0.5) / scale - 0.5
            bo[[0, 2]] = np.clip(bo[[0, 2]], -0.5, w - 0.5)
            bo[[1, 3]] = np.clip(bo[[1, 3]], -0.5, h - 0.5)
            if bo[2] - bo[0] < 1 or bo[3] - bo[1] < 1:
                continue
            faces.append(Face(box=bo, score=float(s), landmarks5=ko))
        return faces
