"""The detector interface: every detector (ours, or a peer wrapped for benchmarks) implements it."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from facealign.types import Face


class Detector(ABC):
    """Finds faces in a BGR uint8 image.

    Returned faces have ``box`` in the tight-68-point convention, ``score`` in [0, 1] and, where the detector
    predicts them, ``landmarks5``; all in 0-based pixels of the given image.
    """

    name: str = "detector"

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in ``image`` (H x W x 3 uint8 BGR), highest score first."""
