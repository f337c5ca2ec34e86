"""Stabilised crop videos of a video job: one aligned clip per track.

The crop transform of each track is smoothed over time (``CropStabiliser``), so the talking-head clip does not
shake with the landmarks; ``CropVideos`` writes each track's crops to DIR/crops/track_<id>.mp4 through a bounded
number of encoders (hundreds of tracks cost neither hundreds of encoders nor hundreds of open files).
"""
from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from facealign.alignment.templates import fit_template, get_template
from facealign.alignment.transforms import apply, invert
from facealign.io.video import VideoError, VideoWriter
from facealign.temporal.one_euro import OneEuroFilter

MAX_OPEN_ENCODERS = 8  # crop videos encoded at once; more tracks alive at once wait in spool files


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
    """The crop videos of one run, under ``out``/crops, written through at most ``max_open`` encoders.

    The first ``max_open`` tracks alive at once are encoded as they come; a track beyond that goes to a spool file
    of JPEG frames and is encoded when it ends. A track ends when it has been absent for ``end_after`` frames (the
    tracker has dropped it by then); its encoder is closed at once, which frees the slot and puts the finished
    track_<id>.mp4 in place. ``close()`` finishes every track; ``stop()`` (an interrupt) finishes the open
    encoders only and drops the spools: what is finished stays, nothing half-written is left.
    """

    def __init__(self, out: Path, fps: float, template: str, size: int | None, end_after: int = 32,
                 max_open: int | None = None) -> None:
        self.dir = Path(out) / "crops"
        self.fps = fps
        self.stab = CropStabiliser(template, size)
        self.end_after = end_after
        self.max_open = max_open or MAX_OPEN_ENCODERS
        self.open: dict[int, VideoWriter] = {}
        self.spools: dict[int, Path] = {}
        self.last_seen: dict[int, int] = {}
        self.parts: dict[int, int] = {}  # tracks finished so far, by id (a track seen again gets a _partN file)
        self.written: list[Path] = []
        self.errors: list[str] = []
        self._pos = 0

    def write(self, frame, faces) -> None:
        """Add this frame's crop of every face to its track's video."""
        size = self.stab.size
        for f in faces:
            m = self.stab.transform(f.track, frame.index, frame.time, f)
            crop = cv2.warpAffine(frame.image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            self._put(int(f.track), crop)
        self._pos += 1
        for track, last in list(self.last_seen.items()):
            if self._pos - last > self.end_after:
                self._finish(track)

    def _path(self, track: int) -> Path:
        part = self.parts.get(track, 0)
        return self.dir / (f"track_{track}.mp4" if part == 0 else f"track_{track}_part{part + 1}.mp4")

    def _put(self, track: int, crop: np.ndarray) -> None:
        self.last_seen[track] = self._pos
        w = self.open.get(track)
        if w is None and track not in self.spools and len(self.open) < self.max_open:
            w = self.open[track] = VideoWriter(self._path(track), self.fps, threads=1)
        if w is not None:
            try:
                w.write(crop, copy=False)
            except VideoError as e:
                self.errors.append(str(e))
                self.open.pop(track).abort()
            return
        spool = self.spools.get(track)
        if spool is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".track_{track}.", suffix=".tmp", dir=self.dir)
            os.close(fd)
            spool = self.spools[track] = Path(name)
        ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
        with open(spool, "ab") as f:  # opened per frame: the open files stay bounded too
            f.write(struct.pack("<I", len(buf)) + buf.tobytes())

    def _finish(self, track: int) -> None:
        self.last_seen.pop(track, None)
        path = self._path(track)
        self.parts[track] = self.parts.get(track, 0) + 1
        w = self.open.pop(track, None)
        spool = self.spools.pop(track, None)
        try:
            if spool is not None:
                w = VideoWriter(path, self.fps, threads=1)
                for crop in _read_spool(spool):
                    w.write(crop, copy=False)
            if w is not None:
                w.close()
                self.written.append(path)
        except (VideoError, OSError) as e:
            self.errors.append(f"{path}: {e}" if isinstance(e, OSError) else str(e))
            if w is not None:
                w.abort()
        finally:
            if spool is not None:
                spool.unlink(missing_ok=True)

    def close(self) -> None:
        """Finish every track (the end of the video)."""
        for track in list(self.open) + list(self.spools):
            self._finish(track)

    def stop(self) -> None:
        """An interrupt: finish the open encoders (quick), drop the spooled tracks."""
        for track in list(self.spools):
            self.spools.pop(track).unlink(missing_ok=True)
        for track in list(self.open):
            self._finish(track)


def _read_spool(path: Path) -> Iterator[np.ndarray]:
    with open(path, "rb") as f:
        while head := f.read(4):
            (n,) = struct.unpack("<I", head)
            yield cv2.imdecode(np.frombuffer(f.read(n), np.uint8), cv2.IMREAD_COLOR)
