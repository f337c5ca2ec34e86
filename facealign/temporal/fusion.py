"""Temporal fusion of per-frame landmarks: the learned temporal module's runtime, One Euro, or nothing.

The learned module is a small ONNX model (trained by facealign.training.temporal):

    input  `window`     float32 (N, T, 68, 3): per frame of the window, x and y in the face frame of the
                        *current* frame (facealign.temporal.normalise) and the per-point score
    output `landmarks`  float32 (N, 68, 2): the refined current-frame points in that face frame
    metadata            window=T, past=P, future=F (T = P + 1 + F; the current frame is at index P)

``causal`` models have F = 0 (online, no look-ahead: webcams); ``offline`` models look F frames ahead, so their
output for frame t is ready when frame t + F arrives (``TemporalFusion`` keeps a delay buffer for that).
Per track, the frames before the track appeared (or across a gap) repeat the nearest frame (edge padding),
exactly as in training and evaluation.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facealign.alignment.points import five_from_68, tight_box
from facealign.temporal.normalise import apply_batch, invert_batch, to_face_frame, window_indices
from facealign.temporal.one_euro import OneEuroFilter
from facealign.types import Face

MODES = ("off", "oneeuro", "causal", "offline")
MAX_SHIFT = 0.15  # face-frame units (the mean shape's box is 1 wide; its inter-ocular distance is 0.61)
MODEL_FOR_MODE = {"causal": "temporal-causal", "offline": "temporal-offline"}


class TemporalModel:
    """The temporal ONNX model: refines the current frame's landmarks from a window of predictions.

    ``model``: a registered temporal model name or an ONNX file of the same contract (None: the registry's
    default temporal model). Build it with ``facealign.stages.build_model(model, "temporal")``.
    """

    def __init__(self, model: str | Path | None = None, threads: int | None = 1) -> None:
        from facealign.runtime import registry
        from facealign.runtime.session import create_session

        spec, path = registry.resolve(model, "temporal")
        self.name = spec.name if path == spec.path else str(path)
        self.path = path
        # a tiny model: one thread avoids thread hand-off costs bigger than the work
        self.session = create_session(path, threads=threads or 1)
        meta = self.session.get_modelmeta().custom_metadata_map
        self.past = int(meta.get("past", 0))
        self.future = int(meta.get("future", 0))
        self.window = self.past + 1 + self.future
        shape = self.session.get_inputs()[0].shape
        if isinstance(shape[1], int) and shape[1] != self.window:
            raise ValueError(f"{path}: window metadata {self.window} does not match input length {shape[1]}")

    def refine(self, lm: np.ndarray, sc: np.ndarray) -> np.ndarray:
        """Refined current-frame landmarks (N, 68, 2) in pixels from windows ``lm`` (N, T, 68, 2) in pixels and
        ``sc`` (N, T, 68) scores; the current frame is index ``past`` of each window."""
        lm = np.asarray(lm, dtype=np.float64)
        if len(lm) == 0:
            return np.zeros((0, 68, 2))
        m = to_face_frame(lm[:, self.past])
        x = np.empty(lm.shape[:3] + (3,), np.float32)
        x[..., :2] = apply_batch(m, lm)
        x[..., 2] = sc
        (out,) = self.session.run(["landmarks"], {"window": x})
        out = out.astype(np.float64)
        # a guard for inputs unlike anything in training (a false detection, a face half out of the frame): the
        # learned filter may not move a point more than MAX_SHIFT (face-frame units, ~1/4 of the inter-ocular
        # distance) away from its per-frame prediction; real corrections are a few percent of that
        d = out - x[:, self.past, :, :2]
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        out = x[:, self.past, :, :2] + d * np.minimum(1.0, MAX_SHIFT / np.maximum(n, 1e-12))
        return apply_batch(invert_batch(m), out)

    def refine_sequence(self, lm: np.ndarray, sc: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
        """Refine every frame of one track (T, 68, 2) at once, as the online runtime would (evaluation)."""
        n = len(lm)
        present = np.ones(n, bool) if present is None else present
        idx = np.stack([window_indices(present, t, self.past, self.future) for t in range(n)])
        out = np.empty((n, 68, 2))
        for s in range(0, n, 512):
            out[s : s + 512] = self.refine(lm[idx[s : s + 512]], sc[idx[s : s + 512]])
        return out


@dataclass
class _TrackState:
    lm: dict[int, np.ndarray] = field(default_factory=dict)  # frame index -> raw (68, 2)
    sc: dict[int, np.ndarray] = field(default_factory=dict)
    last_seen: int = -1
    one_euro: OneEuroFilter | None = None


class TemporalFusion:
    """Per-track temporal state for one video; push frames in order, get frames back (after ``delay`` frames).

    ``push(index, time, faces, payload)`` takes the raw per-frame faces (with ``Face.track`` set) and returns the
    frames now final as ``(index, time, faces, payload)`` with fused landmarks; ``flush()`` returns the rest at
    the end. ``payload`` (e.g. the image) travels with its frame through the delay buffer.
    """

    def __init__(
        self,
        mode: str = "causal",
        model: TemporalModel | None = None,
        one_euro: dict[str, float] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"temporal mode {mode!r}: expected one of {', '.join(MODES)}")
        self.mode = mode
        self.model: TemporalModel | None = None
        if mode in MODEL_FOR_MODE:
            if not isinstance(model, TemporalModel):  # built by the caller: facealign.stages.build_model
                raise ValueError(f"temporal mode {mode!r} needs a TemporalModel (facealign.stages.build_model)")
            self.model = model
        self.one_euro_params = dict(one_euro or {})
        self.past = self.model.past if self.model else 0
        self.delay = self.model.future if self.model else 0
        self._tracks: dict[int, _TrackState] = {}
        self._pending: deque = deque()

    def push(self, index: int, time: float, faces: list[Face], payload: Any = None) -> list[tuple]:
        for f in faces:
            if f.track is None or f.landmarks is None:
                continue
            st = self._tracks.setdefault(f.track, _TrackState())
            st.lm[index] = np.asarray(f.landmarks, np.float64)
            st.sc[index] = np.ones(68) if f.landmark_scores is None else np.asarray(f.landmark_scores, np.float64)
            st.last_seen = index
        self._pending.append((index, time, faces, payload))
        ready = []
        while self._pending and self._pending[0][0] <= index - self.delay:
            ready.append(self._finish(*self._pending.popleft()))
        self._prune(index)
        return ready

    def flush(self) -> list[tuple]:
        """The frames still in the delay buffer (end of the video: the future is padded by the last frame)."""
        out = [self._finish(*p) for p in self._pending]
        self._pending.clear()
        return out

    def _finish(self, index: int, time: float, faces: list[Face], payload: Any) -> tuple:
        tracked = [f for f in faces if f.track is not None and f.landmarks is not None and f.track in self._tracks]
        if self.mode == "off" or not tracked:
            return index, time, faces, payload
        if self.mode == "oneeuro":
            for f in tracked:
                st = self._tracks[f.track]
                if st.one_euro is None or (index - 1) not in st.lm:  # new track or back after a gap: restart
                    st.one_euro = OneEuroFilter(**self.one_euro_params)
                scale = float(np.linalg.norm(f.landmarks[36] - f.landmarks[45])) or 1.0
                _set_landmarks(f, st.one_euro(f.landmarks, time, scale))
            return index, time, faces, payload
        lms, scs = [], []
        for f in tracked:
            st = self._tracks[f.track]
            lo, hi = index - self.past, index + self.delay
            present = np.array([j in st.lm for j in range(lo, hi + 1)])
            idx = window_indices(present, self.past, self.past, self.delay) + lo
            lms.append(np.stack([st.lm[j] for j in idx]))
            scs.append(np.stack([st.sc[j] for j in idx]))
        out = self.model.refine(np.stack(lms), np.stack(scs))
        for f, p in zip(tracked, out):
            _set_landmarks(f, p)
        return index, time, faces, payload

    def _prune(self, index: int) -> None:
        """Drop history no window can reach any more (memory stays flat on long videos)."""
        oldest = index - self.delay - self.past - 1
        for tid in list(self._tracks):
            st = self._tracks[tid]
            if st.last_seen < oldest:
                del self._tracks[tid]
                continue
            for j in [j for j in st.lm if j < oldest]:
                del st.lm[j], st.sc[j]


def _set_landmarks(f: Face, lm: np.ndarray) -> None:
    """Replace a face's landmarks by the fused ones; the box and 5 points follow (box = tight box, as always), and
    the 3D-convention points move by the same per-point correction."""
    lm = np.asarray(lm, np.float64)
    if f.landmarks3d_xy is not None and f.landmarks is not None:
        f.landmarks3d_xy = f.landmarks3d_xy + (lm - f.landmarks)
    f.landmarks = lm
    f.landmarks5 = five_from_68(f.landmarks)
    f.box = tight_box(f.landmarks)
