"""The landmark model interface."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass
class LandmarkOutput:
    """What a landmark model found for N boxes, in image pixels."""

    landmarks: np.ndarray  # (N, 68, 2): the 2D (300-W) convention, the jaw on the visible outline
    scores: np.ndarray  # (N, 68) per-point confidence in [0, 1]
    landmarks3d: np.ndarray | None = None  # (N, 68, 2): x, y of the 3D convention, from models with that head


class LandmarkModel(ABC):
    """Predicts 68 iBUG points for faces given by boxes (tight-68 convention) in a BGR uint8 image."""

    name: str = "landmarks"

    @abstractmethod
    def predict(
        self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(landmarks (N, 68, 2) in image pixels, scores (N, 68) in [0, 1]) for N boxes (N, 4).

        ``angles`` (degrees, one per box) rotate the crop so the face is upright when its roll is known.
        """

    def predict_all(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None) -> LandmarkOutput:
        """:meth:`predict` as a LandmarkOutput, with the 3D-convention points when the model has them."""
        landmarks, scores = self.predict(image, boxes, angles)
        return LandmarkOutput(landmarks, scores)
