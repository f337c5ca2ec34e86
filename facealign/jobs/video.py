"""The video job behind `facealign video`: track faces through a video (or a folder of frames).

Writes DIR/landmarks.jsonl (one complete line per frame), DIR/overlay.mp4 and, with ``crops``, one aligned and
stabilised crop video per track, DIR/crops/track_<id>.mp4. A damaged input is read up to the damage: the frames
before it are written and ``VideoSummary.error`` says what happened.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

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
    fps: float = 25.0  # frame rate of a folder of frames
    threads: int = 1  # onnxruntime threads per model and OpenCV threads
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


def frame_record(index: int, t: float, faces: list, fit3d: bool) -> dict[str, Any]:
    """The landmarks.jsonl line of one frame: a selection of each face's results.jsonl object."""
    out = []
    for f in faces:
        full = f.to_json()
        r = {"track": int(f.track), **{k: full[k] for k in FACE_KEYS}}
        if fit3d:
            r["pose"] = full.get("pose")
        out.append(r)
    return {"frame": index, "time": round(t, 4), "faces": out}


def run_video(
    opts: VideoOptions, *, progress: bool = True, on_error: Callable[[str], None] | None = None
) -> VideoSummary:
    """Track the faces of ``opts.input`` and write the outputs under ``opts.out``.

    Raises ``OptionsError`` for bad options, ``VideoError`` when the input cannot be opened and
    ``FileNotFoundError`` when a model file is missing, all before any output is written. ``on_error`` gets
    errors met while finishing the outputs; the input's damage is in the summary's ``error``.
    """
    import cv2
    from tqdm import tqdm

    from facealign.io.video import VideoError, VideoWriter, open_frames
    from facealign.jobs.video_crops import CropVideos
    from facealign.temporal.run import track_frames

    opts.validate()
    # small per-frame warps and drawings: OpenCV's thread pool costs more than it gives while the other core
    # decodes and encodes (measured: +15% frames/s single-threaded); process-wide, fine for a command
    cv2.setNumThreads(opts.threads)
    out = Path(opts.out)
    src = open_frames(opts.input, max_frames=opts.max_frames, fps=opts.fps)
    try:
        fa = video_aligner(opts)
        fa.detector, fa.landmark_model  # load the models now: a missing file fails here, not mid-video
        frames_iter = track_frames(fa, src, temporal=opts.temporal, key_interval=opts.key_interval,
                                   max_lost=opts.max_lost, fps=src.fps)
    except (KeyError, ValueError) as e:
        src.close()
        raise OptionsError(str(e)) from None
    except BaseException:
        src.close()
        raise
    out.mkdir(parents=True, exist_ok=True)
    overlay = VideoWriter(out / "overlay.mp4", src.fps) if opts.overlay else None
    crops = CropVideos(out, src.fps, opts.template, opts.size) if opts.crops else None
    summary = VideoSummary(landmarks=str(out / "landmarks.jsonl"))
    jsonl = JsonLinesWriter(out / "landmarks.jsonl")
    bar = tqdm(total=src.frame_count, unit="frame", disable=not progress, dynamic_ncols=True, desc="video")
    tracks: set[int] = set()
    t0 = time.perf_counter()
    ok = False
    try:
        for tf in frames_iter:
            faces = tf.faces
            if opts.fit3d and faces:
                fa.fit3d(tf.image, faces)
            jsonl.write(frame_record(tf.index, tf.time, faces, opts.fit3d))
            if overlay is not None:
                from facealign.io.draw import draw_faces

                overlay.write(draw_faces(tf.image, faces), copy=False)
            if crops is not None:
                crops.write(tf, faces)
            summary.frames += 1
            summary.faces += len(faces)
            tracks.update(f.track for f in faces)
            bar.update(1)
        ok = True
    except FileNotFoundError as e:  # a model file is missing: nothing useful can be done
        if on_error:
            on_error(str(e))
        src.error = src.error or str(e)
        ok = True
    finally:
        bar.close()
        jsonl.close()
        writers = ([overlay] if overlay is not None else []) + (list(crops.writers.values()) if crops else [])
        for w in writers:
            if ok:
                try:
                    w.close()
                except VideoError as e:
                    if on_error:
                        on_error(str(e))
                    src.error = src.error or str(e)
            else:
                w.abort()
    summary.seconds = time.perf_counter() - t0
    summary.tracks = len(tracks)
    summary.error = src.error
    return summary
