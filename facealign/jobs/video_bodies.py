"""Body joints per face track in `facealign video --body`: the body below each tracked face, smoothed over time.

Each frame, the tracked faces give their person boxes (the face-to-body rule of facealign.body.people, then the
runtime's refinement passes, as `facealign body` does for a photo's faces); the 14 joints of each track are smoothed
by a One Euro filter (facealign.temporal.one_euro, the face points' ``--temporal oneeuro`` filter with its
parameters), its speeds in units of the person's own size (the longer side of the joints' box), as the face
points' are in units of the face's eye distance, so one setting fits near and far people. (In eye distances the
body network's jitter, a few % of the person's height, reads as fast motion and passes unfiltered.)
``--temporal off`` leaves them raw; the learned temporal models (causal, offline) are for the 68 face
points, so the body joints get the One Euro filter under every other mode. Scores are not smoothed.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from facealign.temporal.one_euro import OneEuroFilter
from facealign.types import Body, Face


def person_size(joints: np.ndarray) -> float:
    """The longer side of the joints' tight box in pixels (at least 1): the unit of the filter's speeds."""
    j = np.asarray(joints, np.float64).reshape(-1, 2)
    return max(float((j.max(0) - j.min(0)).max()), 1.0)


class VideoBodies:
    """One body per tracked face and frame, its joints smoothed per track (``smooth``)."""

    def __init__(self, aligner: Any, smooth: bool = True) -> None:
        """``aligner``: a BodyAligner (its ``detect(image, faces=...)`` gives one body per face)."""
        self.aligner = aligner
        self.smooth = smooth
        self.filters: dict[int, OneEuroFilter] = {}

    def step(self, image: np.ndarray, faces: list[Face], t: float) -> list[Body | None]:
        """The body of each face of this frame (same order; None where no body was found), smoothed per track;
        ``t``: the frame's time in seconds. Filters of tracks not in this frame are dropped (a track that comes
        back starts afresh)."""
        out: list[Body | None] = [None] * len(faces)
        if faces:
            _, bodies = self.aligner.detect(image, faces=faces)
            for b in bodies:
                if b.face is not None and 0 <= b.face < len(faces):
                    out[b.face] = b
        seen = set()
        for f, b in zip(faces, out):
            if b is None or f.track is None:
                continue
            seen.add(f.track)
            if self.smooth:
                filt = self.filters.setdefault(f.track, OneEuroFilter())
                b.keypoints = filt(b.keypoints, t, person_size(b.keypoints)).astype(np.float32)
        for k in [k for k in self.filters if k not in seen]:
            del self.filters[k]
        return out


def body_json(body: Body | None) -> dict[str, Any] | None:
    """The ``body`` of a landmarks.jsonl face: box, score, keypoints ([x, y, score] x 14), or None."""
    if body is None:
        return None
    r = body.to_json()
    return {k: r[k] for k in ("box", "score", "keypoints")}


def body_from_json(r: dict[str, Any] | None) -> Body | None:
    """A Body from its landmarks.jsonl object (enough to draw it again), or None."""
    if not r:
        return None
    kp = np.asarray(r["keypoints"], np.float64).reshape(-1, 3)
    return Body(np.asarray(r["box"], np.float64), float(r["score"]), kp[:, :2], kp[:, 2])
