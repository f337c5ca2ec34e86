"""Tiny generated faces (a skin ellipse with dark eyes and mouth) for smoke tests that must not need the data."""
from __future__ import annotations

import cv2
import numpy as np

from facealign.alignment.points import five_from_68
from facealign.alignment.templates import MEAN68
from facealign.alignment.transforms import apply, estimate_similarity
from facealign.data.face_crops import FaceRecord


def synthetic_split(n: int = 32, seed: int = 0) -> tuple[list[FaceRecord], list[np.ndarray]]:
    """``n`` generated face crops and ``n`` noise patches."""
    rng = np.random.default_rng(seed)
    faces, negs = [], []
    for _ in range(n):
        img = rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)
        box = np.array([28.0, 28.0, 68.0, 68.0])
        src = MEAN68 - MEAN68.min(0)
        src = src / src.max()
        pts68 = box[:2] + src * 40
        cv2.ellipse(img, (48, 48), (22, 26), 0, 0, 360, (120, 160, 210), -1)
        p5 = five_from_68(pts68)
        for q in p5[:2]:
            cv2.circle(img, (int(q[0]), int(q[1])), 3, (20, 20, 20), -1)
        cv2.line(img, tuple(int(v) for v in p5[3]), tuple(int(v) for v in p5[4]), (40, 40, 150), 2)
        faces.append(FaceRecord(img, pts68.astype(np.float32), p5.astype(np.float32), "synthetic"))
        negs.append(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    return faces, negs
