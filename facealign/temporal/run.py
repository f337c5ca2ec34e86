"""The video loop behind ``FaceAligner.track``: tracking, then temporal fusion, one frame at a time."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from facealign.alignment.points import tight_box
from facealign.temporal.fusion import MODES, TemporalFusion, TemporalModel
from facealign.temporal.tracker import FaceTracker, TrackerOptions
from facealign.types import Face


@dataclass
class TrackedFrame:
    """One output frame. Unpacks as ``index, time, faces``; ``image`` is the frame itself (BGR)."""

    index: int
    time: float
    faces: list[Face]
    image: np.ndarray | None = field(default=None, repr=False)

    def __iter__(self):
        return iter((self.index, self.time, self.faces))


def _frames(frames: Any, fps: float) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, time, image) from a path, an iterable of images, or an iterable of (index, time, image)."""
    if isinstance(frames, (str, Path)):
        from facealign.io.video import open_frames

        src = open_frames(frames)
        yield from src
        if src.error:
            from facealign.io.video import VideoError

            raise VideoError(src.error)
        return
    for i, item in enumerate(frames):
        if isinstance(item, np.ndarray):
            yield i, i / fps, item
        else:
            idx, t, img = item
            yield int(idx), float(t), img


def track_frames(
    aligner,
    frames: Iterable | str | Path,
    temporal: str = "causal",
    key_interval: int = 10,
    max_lost: int = 15,
    min_score: float = 0.05,
    fps: float = 30.0,
    temporal_model: TemporalModel | str | Path | None = None,
    one_euro: dict[str, float] | None = None,
) -> Iterator[TrackedFrame]:
    """Track faces through ``frames`` and yield a TrackedFrame per input frame, in order.

    ``temporal``: ``causal`` (learned, online), ``offline`` (learned, looks a few frames ahead: output lags the
    input by that many frames), ``oneeuro`` (One Euro filter) or ``off`` (per-frame landmarks).
    ``temporal_model``: a TemporalModel, or a registered temporal name / ONNX file that ``aligner.build_temporal``
    builds (default: the mode's shipped model).
    """
    # built here, not in the generator, so a bad mode or a missing model fails at the call
    tracker = FaceTracker(aligner, TrackerOptions(key_interval=key_interval, max_lost=max_lost, min_score=min_score))
    if temporal not in MODES:
        raise ValueError(f"temporal mode {temporal!r}: expected one of {', '.join(MODES)}")
    if not isinstance(temporal_model, TemporalModel):  # a name, a file or None: the aligner builds it (registry)
        temporal_model = aligner.build_temporal(temporal, temporal_model)
    fusion = TemporalFusion(temporal, model=temporal_model, one_euro=one_euro)
    return _loop(tracker, fusion, _frames(frames, fps))


def _loop(tracker: FaceTracker, fusion: TemporalFusion, frames) -> Iterator[TrackedFrame]:
    for index, time, image in frames:
        faces = tracker.step(image, index)
        for f in faces:
            f.box = tight_box(f.landmarks)
        for idx, t, fs, img in fusion.push(index, time, faces, image):
            yield TrackedFrame(idx, t, fs, img)
    for idx, t, fs, img in fusion.flush():
        yield TrackedFrame(idx, t, fs, img)
