"""Fakes and generated fixtures for the video tests (no shared data, no real models)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.templates import MEAN68
from facealign.landmarks.base import LandmarkModel


class SquareLandmarks(LandmarkModel):
    """Puts the mean face on the white square found near each box (so tracks follow moving squares between
    detections); per-point scores are 0 when no square is there (the face is hidden)."""

    name = "square-landmarks"

    def predict(self, image, boxes, angles=None):
        boxes = np.asarray(boxes, float).reshape(-1, 4)
        g = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) > 200
        h, w = g.shape
        lms, scores = [], []
        for x1, y1, x2, y2 in boxes:
            cx, cy, s = (x1 + x2) / 2, (y1 + y2) / 2, 0.7 * max(x2 - x1, y2 - y1)
            a, b = int(max(0, cx - s)), int(max(0, cy - s))
            c, d = int(min(w, cx + s + 1)), int(min(h, cy + s + 1))
            ys, xs = np.nonzero(g[b:d, a:c])
            if len(xs) < 16:
                lms.append(MEAN68 * max(x2 - x1, 1) + [cx, cy])
                scores.append(np.zeros(68))
                continue
            bx = np.array([xs.min() + a, ys.min() + b, xs.max() + a, ys.max() + b], float)
            side = (bx[2:] - bx[:2]).max()
            lms.append(MEAN68 * side + (bx[:2] + bx[2:]) / 2)
            scores.append(np.ones(68))
        return np.array(lms).reshape(-1, 68, 2), np.array(scores).reshape(-1, 68)


def square_frames(n: int = 30, hide: tuple[int, int] = (12, 16), size=(120, 160)) -> list[np.ndarray]:
    """Frames with a square moving right 2 px a frame (hidden in frames ``hide``) and a still square."""
    frames = []
    for i in range(n):
        img = np.full((*size, 3), 30, np.uint8)
        img[20:60, 10 + 2 * i : 50 + 2 * i] = 255
        if not (hide[0] <= i < hide[1]):
            img[70:100, 120:150] = 255
        frames.append(img)
    return frames


def write_video(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    from facealign.io.video import VideoWriter

    with VideoWriter(path, fps) as w:
        for f in frames:
            w.write(f)
    return path
