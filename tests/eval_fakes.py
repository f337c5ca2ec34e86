"""Fakes for evaluation tests: a landmark model that is exact under any affine warp (reads coloured markers)."""
from __future__ import annotations

import numpy as np

from facealign.alignment.points import five_from_68
from facealign.alignment.templates import MEAN68
from facealign.alignment.transforms import apply, estimate_affine
from facealign.detection.base import Detector
from facealign.landmarks.base import LandmarkModel
from facealign.types import Face

REF = MEAN68 * 100 + 150.0  # the face in a reference frame
MARKERS_REF = np.stack([five_from_68(REF)[0], five_from_68(REF)[1], (REF[48] + REF[54]) / 2])


def face_image(m: np.ndarray, size: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """(image, gt 68 points): the reference face moved by the 2x3 transform ``m``, drawn as three Gaussian
    blobs, one per colour channel, at the eye centres and the mouth centre."""
    gt = apply(m, REF)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    img = np.zeros((size, size, 3), np.float64)
    for c, p in enumerate(apply(m, MARKERS_REF)):
        img[..., c] = 255 * np.exp(-((xx - p[0]) ** 2 + (yy - p[1]) ** 2) / (2 * 3.0**2))
    return img.round().astype(np.uint8), gt


class MarkerLandmarks(LandmarkModel):
    """Exact up to interpolation under any affine warp: finds the markers' centroids, maps REF through them."""

    name = "markers"

    def predict(self, image, boxes, angles=None):
        yy, xx = np.mgrid[0 : image.shape[0], 0 : image.shape[1]].astype(np.float64)
        cents = []
        for c in range(3):
            w = image[..., c].astype(np.float64)
            w[w < 8] = 0
            cents.append([(w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()])
        lm = apply(estimate_affine(MARKERS_REF, np.array(cents)), REF)
        n = len(np.asarray(boxes).reshape(-1, 4))
        return np.repeat(lm[None], n, 0), np.ones((n, 68))


class BoxDetector(Detector):
    def __init__(self, boxes):
        self.boxes = boxes

    def detect(self, image):
        return [Face(box=np.asarray(b, float), score=0.9) for b in self.boxes]


def similarity(scale, angle_deg, tx, ty):
    a = np.radians(angle_deg)
    return np.array([[scale * np.cos(a), -scale * np.sin(a), tx], [scale * np.sin(a), scale * np.cos(a), ty]])


