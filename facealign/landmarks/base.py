"""The landmark model interface."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


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
