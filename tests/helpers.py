"""Test doubles and generated fixtures (no shared data needed)."""
from __future__ import annotations

import cv2
import numpy as np

from facealign.alignment.templates import MEAN68
from facealign.detection.base import Detector
from facealign.landmarks.base import LandmarkModel
from facealign.samples import sample_path
from facealign.types import Face

SAMPLE = sample_path()  # the photo shipped in the package (facealign/samples)


class BrightSquareDetector(Detector):
    """Finds white squares on a dark background: a deterministic stand-in for the face detector."""

    name = "bright-squares"

    def detect(self, image: np.ndarray) -> list[Face]:
        g = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        n, _, stats, _ = cv2.connectedComponentsWithStats((g > 200).astype(np.uint8))
        faces = []
        for x, y, w, h, area in stats[1:]:
            if w >= 8 and h >= 8:
                box = np.array([x, y, x + w - 1, y + h - 1], float)
                faces.append(Face(box=box, score=0.9))
        return sorted(faces, key=lambda f: -f.box[2])


class MeanShapeLandmarks(LandmarkModel):
    """Puts the mean face into every box."""

    name = "mean-shape"

    def predict(self, image, boxes, angles=None):
        boxes = np.asarray(boxes, float).reshape(-1, 4)
        c = (boxes[:, :2] + boxes[:, 2:]) / 2
        s = (boxes[:, 2:] - boxes[:, :2]).max(1)
        lm = MEAN68[None] * s[:, None, None] + c[:, None, :]
        return lm, np.ones(lm.shape[:2])


def squares_image(boxes: list[tuple[int, int, int]], size=(200, 300)) -> np.ndarray:
    """A dark image with white squares (x, y, side)."""
    img = np.full((*size, 3), 30, np.uint8)
    for x, y, s in boxes:
        img[y : y + s, x : x + s] = 255
    return img
