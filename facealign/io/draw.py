"""Overlay pictures: boxes, scores, 68 and 5 landmarks drawn on a copy of the image."""
from __future__ import annotations

import cv2
import numpy as np

from facealign.types import Face

# iBUG 68 contour groups, drawn as polylines: (start, end, closed)
_GROUPS = [(0, 17, False), (17, 22, False), (22, 27, False), (27, 31, False), (31, 36, False),
           (36, 42, True), (42, 48, True), (48, 60, True), (60, 68, True)]
_COLOURS5 = [(255, 128, 0), (0, 128, 255), (0, 255, 0), (255, 0, 255), (0, 255, 255)]


def draw_faces(image: np.ndarray, faces: list[Face], thickness: int | None = None) -> np.ndarray:
    """A copy of ``image`` (BGR) with each face's box, score, 68-point contours and 5 points."""
    out = image.copy()
    h, w = out.shape[:2]
    t = thickness or max(1, round(max(h, w) / 600))
    for f in faces:
        size = float(max(f.box[2] - f.box[0], f.box[3] - f.box[1]))
        r = max(1, min(t + 1, round(size / 60)))
        x1, y1, x2, y2 = (int(round(v)) for v in f.box)
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 0), t, cv2.LINE_AA)
        label = f"{f.score:.2f}" if f.track is None else f"#{f.track} {f.score:.2f}"
        cv2.putText(out, label, (x1, max(0, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * t, (0, 255, 0), t, cv2.LINE_AA)
        if f.landmarks is not None:
            p = np.round(f.landmarks * 16).astype(np.int32)  # 4 bits of sub-pixel precision for anti-aliasing
            for a, b, closed in _GROUPS:
                cv2.polylines(out, [p[a:b]], closed, (255, 255, 255), max(1, t // 2), cv2.LINE_AA, shift=4)
            for q in p:
                cv2.circle(out, tuple(int(v) for v in q), r * 16, (0, 0, 255), -1, cv2.LINE_AA, shift=4)
        if f.landmarks5 is not None:
            for q, c in zip(np.round(f.landmarks5 * 16).astype(np.int32), _COLOURS5):
                cv2.circle(out, tuple(int(v) for v in q), (r + 1) * 16, c, max(1, t // 2), cv2.LINE_AA, shift=4)
    return out
