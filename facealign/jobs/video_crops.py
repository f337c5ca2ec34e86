"""Stabilised crop videos of a video job: one aligned clip per track.

The crop transform of each track is smoothed over time (``CropStabiliser``), so the talking-head clip does not
shake with the landmarks; ``CropVideos`` writes each track's crops to DIR/crops/track_<id>.mp4.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.templates import fit_template, get_template
from facealign.alignment.transforms import apply, invert
from facealign.io.video import VideoWriter
from facealign.temporal.one_euro import OneEuroFilter


class CropStabiliser:
    """Per-track crop transforms smoothed over time: the image positions of three crop corners go through a
    One Euro filter (slow: min cut-off 0.5 Hz)."""

    def __init__(self, template: str, size: int | None) -> None:
        self.template = template
        self.size = int(size or get_template(template).default_size)
        self._filters: dict[int, OneEuroFilter] = {}
        self._last: dict[int, int] = {}

    def transform(self, track: int, index: int, t: float, face) -> np.ndarray:
        """The (2, 3) image -> crop transform of ``face`` (track ``track``) in frame ``index`` at time ``t``."""
        m = fit_template(self.template, self.size, landmarks68=face.landmarks, landmarks5=face.landmarks5)
        s = self.size - 1
        corners = np.array([[0.0, 0.0], [s, 0.0], [0.0, s]])
        pts = apply(invert(m), corners)
        if track not in self._filters or self._last.get(track) != index - 1:
            self._filters[track] = OneEuroFilter(min_cutoff=0.5, beta=0.8)
        self._last[track] = index
        scale = float(np.linalg.norm(pts[1] - pts[0])) or 1.0
        smooth = self._filters[track](pts, t, scale)
        return cv2.getAffineTransform(smooth.astype(np.float32), corners.astype(np.float32))


class CropVideos:
    """The crop videos of one run, under ``out``/crops."""

    def __init__(self, out: Path, fps: float, template: str, size: int | None) -> None:
        self.dir = Path(out) / "crops"
        self.fps = fps
        self.stab = CropStabiliser(template, size)
        self.writers: dict[int, VideoWriter] = {}

    def write(self, frame, faces) -> None:
        """Add this frame's crop of every face to its track's video."""
        size = self.stab.size
        for f in faces:
            m = self.stab.transform(f.track, frame.index, frame.time, f)
            crop = cv2.warpAffine(frame.image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            w = self.writers.get(f.track)
            if w is None:
                w = self.writers[f.track] = VideoWriter(self.dir / f"track_{f.track}.mp4", self.fps)
            w.write(crop, copy=False)
