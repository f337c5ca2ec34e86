"""The video job behind `facealign video`: track faces through a video (or a folder of frames).

Writes DIR/landmarks.jsonl (one complete line per frame), DIR/overlay.mp4 and, with ``crops``, one aligned and
stabilised crop video per track, DIR/crops/track_<id>.mp4; with ``body``, each face's body joints too
(facealign.jobs.video_bodies). A damaged input is read up to the damage: the frames
before it are written and ``VideoSummary.error`` says what happened.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from facealign.io.images import DEFAULT_MAX_PIXELS
from facealign.io.results import JsonLinesWriter
from facealign.jobs.aligner import make_aligner
from facealign.temporal.fusion import MODES as TEMPORAL_MODES
from facealign.jobs.options import (
    MAX_CROP_SIZE, MIN_DET_SIZE, OptionsError, check_choice, check_float, check_int, check_model,
)

FACE_KEYS = ("box", "score", "landmarks", "landmarks5")  # a landmarks.jsonl face: track, these, pose with 3D


@dataclass
class VideoOptions:
    """Everything a video job needs; ``validate()`` raises ``OptionsError`` before any frame is read."""

    input: str  # a video file (anything FFmpeg reads) or a folder of frames
    out: str
    temporal: str = "causal"  # landmark fusion over time: causal, offline, oneeuro, off
    key_interval: int = 10  # run the detector every N frames
    max_lost: int = 15  # keep a lost track this many frames
    crops: bool = False  # one aligned, stabilised crop video per track
    template: str = "arcface112"
    size: int | None = None  # crop size (None: the template's)
    fit3d: bool = False  # pose per face
    overlay: bool = True  # write overlay.mp4
    det_size: int | None = None
    det_threshold: float | None = None
    refine: bool = False
    landmarks_model: str | None = None
    max_frames: int | None = None  # stop after this many frames
    resume: bool = False  # continue an interrupted run in ``out`` (same options) after its last complete frame
    fps: float = 25.0  # frame rate of a folder of frames
    max_pixels: int = DEFAULT_MAX_PIXELS  # a folder's frame images above this are skipped and named (as align's limit)
    threads: int = 1  # onnxruntime threads per model and OpenCV threads
    body: bool = False  # the 14 body joints below each tracked face, smoothed per track (jobs/video_bodies.py)
    extra: dict[str, Any] = field(default_factory=dict)  # "aligner_factory": "module:function" (tests)

    def validate(self) -> "VideoOptions":
        """Raise ``OptionsError`` for the first broken rule; return self."""
        from facealign.alignment.templates import TEMPLATES

        if not self.input:
            raise OptionsError("input: expected a video file or a folder of frames")
        if not self.out:
            raise OptionsError("out: expected an output folder")
        check_choice("temporal", self.temporal, TEMPORAL_MODES)
        check_int("key_interval", self.key_interval, 1, 100_000, optional=False)
        check_int("max_lost", self.max_lost, 1, 100_000, optional=False)
        check_choice("template", self.template, sorted(TEMPLATES))
        check_int("size", self.size, 8, MAX_CROP_SIZE)
        check_int("det_size", self.det_size, MIN_DET_SIZE, 8192)
        check_float("det_threshold", self.det_threshold, 0.0, 1.0)
        check_int("max_frames", self.max_frames, 1)
        check_float("fps", self.fps, 0.0, 1000.0, optional=False, open_low=True)
        check_int("max_pixels", self.max_pixels, 1, optional=False)
        check_int("threads", self.threads, 1, 256, optional=False)
        check_model("landmarks_model", self.landmarks_model, "landmarks")
        return self


@dataclass
class VideoSummary:
    """What a video job did; ``error`` is the input's damage (or an output that could not be finished)."""

    frames: int = 0
    faces: int = 0
    tracks: int = 0
    seconds: float = 0.0
    landmarks: str = ""  # the landmarks.jsonl written
    error: str | None = None


def video_aligner(opts: VideoOptions):
    """The FaceAligner of a video job (tracking turns the mirrored pass off: temporal fusion does more)."""
    return make_aligner(opts, factory=opts.extra.get("aligner_factory"), tta=False)


def frame_record(index: int, t: float, faces: list, fit3d: bool, bodies: list | None = None) -> dict[str, Any]:
    """The landmarks.jsonl line of one frame: a selection of each face's results.jsonl object (and its ``body``
    when ``bodies``, one per face, are given)."""
    from facealign.jobs.video_bodies import body_json

    out = []
    for i, f in enumerate(faces):
        full = f.to_json()
        r = {"track": int(f.track), **{k: full[k] for k in FACE_KEYS}}
        if fit3d:
            r["pose"] = full.get("pose")
        if bodies is not None:
            r["body"] = body_json(bodies[i])
        out.append(r)
    return {"frame": index, "time": round(t, 4), "faces": out}


# options that change what a video run writes: --resume refuses to continue a run made with other values
OUTPUT_SETTINGS = ("temporal", "key_interval", "max_lost", "crops", "template", "size", "fit3d", "overlay", "det_size",
                   "det_threshold", "refine", "landmarks_model", "fps", "max_pixels")
OUTPUT_PATTERNS = ["overlay.mp4", "crops/track_*.mp4"]  # an earlier run's videos, cleared by a fresh run


def run_video(
    opts: VideoOptions, *, progress: bool = True, on_error: Callable[[str], None] | None = None
) -> VideoSummary:
    """Track the faces of ``opts.input`` and write the outputs under ``opts.out``.

    Raises, before any output is written: ``OptionsError`` for bad options (``OutputError`` when the output folder
    cannot be written or another run holds it), ``VideoError`` when the input cannot be opened,
    ``FileNotFoundError`` when a model file is missing. ``on_error`` gets errors met while writing the outputs;
    the input's damage is in the summary's ``error``. On an error or an interrupt (KeyboardInterrupt, re-raised)
    every output written so far is finished and kept: landmarks.jsonl holds complete lines, the videos play up
    to the last frame written, and ``opts.resume`` continues from there.

    A resumed run re-draws the overlay and crops of the frames already in landmarks.jsonl from their lines, then
    tracks the rest with fresh tracks (their ids continue after the earlier ones).
    """
    from facealign.io.video import open_frames
    from facealign.jobs.output import claim_folder, clear_previous_outputs, is_run_folder
    from facealign.jobs.run_record import check_run_settings

    opts.validate()
    out = Path(opts.out)
    ours = is_run_folder(out, "landmarks.jsonl")
    lock = claim_folder(out)
    try:
        if not opts.resume:
            clear_previous_outputs(out, OUTPUT_PATTERNS, ours)
        settings = {k: getattr(opts, k) for k in OUTPUT_SETTINGS}
        settings["input"] = os.path.abspath(opts.input)
        if opts.body:  # recorded only when on: runs from before --body existed still resume
            settings["body"] = True
        check_run_settings(out, "video", settings, opts.resume)
        earlier = _earlier_frames(out / "landmarks.jsonl") if opts.resume else {}
        src = open_frames(opts.input, max_frames=opts.max_frames, fps=opts.fps, max_pixels=opts.max_pixels)
        try:
            return _track(opts, out, src, earlier, progress, on_error)
        finally:
            src.close()
    finally:
        lock.release()


def _track(opts: VideoOptions, out: Path, src, earlier: dict[int, dict], progress: bool, on_error) -> VideoSummary:
    import cv2
    from tqdm import tqdm

    from facealign.io.draw import draw_faces
    from facealign.io.video import VideoError, VideoWriter
    from facealign.jobs.video_crops import CropVideos
    from facealign.temporal.run import track_frames

    # small per-frame warps and drawings: OpenCV's thread pool costs more than it gives while the other core
    # decodes and encodes (measured: +15% frames/s single-threaded); process-wide, fine for a command
    cv2.setNumThreads(opts.threads)
    last = max(earlier, default=-1)
    offset = 1 + max((f["track"] for r in earlier.values() for f in r["faces"]), default=-1)
    try:
        fa = video_aligner(opts)
        fa.detector, fa.landmark_model  # load the models now: a missing file fails here, not mid-video
    except (KeyError, ValueError) as e:
        raise OptionsError(str(e)) from None
    body_tracks = None
    if opts.body:
        from facealign.body_pipeline import BodyAligner
        from facealign.jobs.video_bodies import VideoBodies

        body_tracks = VideoBodies(BodyAligner(faces=False, threads=opts.threads), smooth=opts.temporal != "off")
        body_tracks.aligner.model  # load the body network now, as the face models above
    summary = VideoSummary(landmarks=str(out / "landmarks.jsonl"))
    overlay = VideoWriter(out / "overlay.mp4", src.fps) if opts.overlay else None
    crops = CropVideos(out, src.fps, opts.template, opts.size, end_after=opts.max_lost + 16) if opts.crops else None
    jsonl = JsonLinesWriter(out / "landmarks.jsonl", append=bool(earlier))
    bar = tqdm(total=src.frame_count, unit="frame", disable=not progress, dynamic_ncols=True, desc="video")
    tracks: set[int] = set()

    def emit(frame, faces, bodies=None) -> None:
        if overlay is not None:
            picture = draw_faces(frame.image, faces)
            if bodies:
                from facealign.body.draw import draw_bodies

                picture = draw_bodies(picture, [b for b in bodies if b is not None])
            overlay.write(picture, copy=False)
        if crops is not None:
            crops.write(frame, faces)
        summary.frames += 1
        summary.faces += len(faces)
        tracks.update(f.track for f in faces)
        bar.update(1)

    def replayed_then_rest():
        """Frames already in landmarks.jsonl are re-drawn from their lines; the others go on to the tracker."""
        for frame in src:
            if frame.index > last:
                yield frame
            elif frame.index in earlier:
                from facealign.jobs.video_bodies import body_from_json

                done = earlier[frame.index]["faces"]
                emit(frame, [_face(f) for f in done], [body_from_json(f.get("body")) for f in done])
            else:
                bar.update(1)

    t0 = time.perf_counter()
    finished = False
    try:
        for tf in track_frames(fa, replayed_then_rest(), temporal=opts.temporal, key_interval=opts.key_interval,
                               max_lost=opts.max_lost, fps=src.fps):
            faces = tf.faces
            for f in faces:
                f.track += offset
            if opts.fit3d and faces:
                fa.fit3d(tf.image, faces)
            bodies = body_tracks.step(tf.image, faces, tf.time) if body_tracks is not None else None
            jsonl.write(frame_record(tf.index, tf.time, faces, opts.fit3d, bodies))
            emit(tf, faces, bodies)
        finished = True
    except FileNotFoundError as e:  # a model file went missing: what was written stays
        src.error = src.error or str(e)
    except (OSError, VideoError) as e:  # an output could not be written (disk full, say): what was written stays
        src.error = src.error or f"{out}: cannot write the outputs ({getattr(e, 'strerror', None) or e})"
    finally:
        bar.close()
        jsonl.close()
        errors = _finish(overlay, crops, complete=finished)
        for message in errors:
            if on_error:
                on_error(message)
        src.error = src.error or (errors[0] if errors else None)
    summary.seconds = time.perf_counter() - t0
    summary.tracks = len(tracks)
    summary.error = src.error
    return summary


def _finish(overlay, crops, complete: bool) -> list[str]:
    """Close the video outputs (every track when ``complete``; after an error or interrupt only the encoders that
    are open: their files play up to the last frame written). Returns the errors."""
    from facealign.io.video import VideoError

    errors: list[str] = []
    if overlay is not None:
        try:
            overlay.close()
        except VideoError as e:
            errors.append(str(e))
    if crops is not None:
        crops.close() if complete else crops.stop()
        errors += crops.errors
    return errors


def _earlier_frames(path: Path) -> dict[int, dict]:
    """The complete lines of an earlier run's landmarks.jsonl, by frame index."""
    from facealign.io.results import read_results

    if not path.is_file():
        return {}
    try:
        return {int(r["frame"]): r for r in read_results(path)}
    except (ValueError, KeyError, TypeError) as e:
        raise OptionsError(f"--resume: {path} is damaged ({e}); start over without --resume") from None


def _face(r: dict):
    """A Face from its landmarks.jsonl object (enough to draw it and crop it again)."""
    import numpy as np

    from facealign.types import Face

    return Face(box=np.asarray(r["box"], float), score=float(r["score"]), landmarks=np.asarray(r["landmarks"], float),
                landmarks5=np.asarray(r["landmarks5"], float), track=int(r["track"]))
