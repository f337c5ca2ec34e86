"""Skeleton overlays: the bones of each body, the subject's right side in red, left in blue, the spine green;
joints with a low score are drawn thin and dashed-looking (small dots only)."""
from __future__ import annotations

import cv2
import numpy as np

from facealign.alignment.body_points import BONES
from facealign.types import Body

RIGHT = {0, 1, 2, 6, 7, 8}
LEFT = {3, 4, 5, 9, 10, 11}
COLOURS = {"right": (40, 40, 230), "left": (230, 120, 40), "centre": (60, 200, 60)}  # BGR


def _colour(a: int, b: int) -> tuple[int, int, int]:
    if a in RIGHT and b in RIGHT:
        return COLOURS["right"]
    if a in LEFT and b in LEFT:
        return COLOURS["left"]
    return COLOURS["centre"]


def draw_bodies(image: np.ndarray, bodies: list[Body], min_score: float = 0.2, thickness: int | None = None
                ) -> np.ndarray:
    """A copy of ``image`` with each body's box and skeleton; bones whose joints score below ``min_score`` are
    left out."""
    out = image.copy()
    t = thickness or max(1, round(max(image.shape[:2]) / 400))
    for body in bodies:
        x1, y1, x2, y2 = (int(round(v)) for v in body.box)
        cv2.rectangle(out, (x1, y1), (x2, y2), (200, 200, 200), max(1, t // 2))
        kp, sc = body.keypoints, body.keypoint_scores
        for a, b in BONES:
            if sc[a] >= min_score and sc[b] >= min_score:
                pa = tuple(int(round(v)) for v in kp[a])
                pb = tuple(int(round(v)) for v in kp[b])
                cv2.line(out, pa, pb, _colour(a, b), t, cv2.LINE_AA)
        for j, p in enumerate(kp):
            if sc[j] >= min_score:
                cv2.circle(out, tuple(int(round(v)) for v in p), t + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return out
