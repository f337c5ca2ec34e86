"""`facealign video INPUT --out DIR`: track faces through a video (or a folder of frames).

Writes DIR/landmarks.jsonl (one complete line per frame), DIR/overlay.mp4 and, with --crops, one aligned and
stabilised crop video per track, DIR/crops/track_<id>.mp4. Exit status: 0 ok, 1 the input was damaged or
unreadable (one-line error naming the file; frames before the damage are still written), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import sys

from facealign.alignment.templates import TEMPLATES
from facealign.io.inputs import printable
from facealign.cli.common import positive_float, positive_int, terminate_as_interrupt
from facealign.jobs.options import OptionsError
from facealign.jobs.video import TEMPORAL_MODES, VideoOptions, run_video


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "video",
        help="track faces through a video: landmarks.jsonl, overlay video, stabilised crop videos",
        description="Track faces through a video file or a folder of frames with temporal fusion of the landmarks.",
    )
    p.add_argument("input", metavar="INPUT", help="a video file (anything FFmpeg reads) or a folder of frames")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--temporal", default="causal", choices=list(TEMPORAL_MODES),
                   help="landmark fusion over time: causal (online, default), offline (looks ahead), oneeuro, off")
    p.add_argument("--key-interval", type=positive_int, default=10, help="run the detector every N frames (default 10)")
    p.add_argument("--max-lost", type=positive_int, default=15, help="keep a lost track this many frames (default 15)")
    p.add_argument("--crops", action="store_true", help="write one aligned, stabilised crop video per track")
    p.add_argument("--template", default="arcface112", choices=sorted(TEMPLATES), help="crop template (default arcface112)")
    p.add_argument("--size", type=positive_int, help="crop size in pixels (default: the template's)")
    p.add_argument("--3d", dest="fit3d", action="store_true", help="fit the 3D face model: pose per face")
    p.add_argument("--body", action="store_true",
                   help="also the 14 body joints below each tracked face, smoothed per track (docs/body.md)")
    p.add_argument("--no-overlay", action="store_true", help="do not write overlay.mp4")
    p.add_argument("--det-size", type=positive_int, help="cap the detector's working size (long side, pixels; default: the frame's own resolution, docs/detection.md)")
    p.add_argument("--det-threshold", type=float, help="minimum detection score (default: the model's calibrated one)")
    p.add_argument("--refine", action="store_true", help="second landmark pass per frame (slower)")
    p.add_argument("--landmarks-model", metavar="NAME", help="landmark network: a registered name (default stfan-lmk-112; stfan-lmk-112-fast: half the cost) or an .onnx file")
    p.add_argument("--max-frames", type=positive_int, help="stop after this many frames")
    p.add_argument("--fps", type=positive_float, default=25.0, help="frame rate of a folder of frames (default 25)")
    p.add_argument("--max-pixels", type=int, default=40_000_000,
                   help="largest frame image of a folder of frames (width x height; default 40000000): a larger "
                   "one is skipped and named, never decoded; a video file's frames are not limited")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="onnxruntime threads per model and OpenCV threads (default 1: the models are small and the "
                   "other core decodes and encodes video)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in DIR (same options) after the last frame in landmarks.jsonl")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary (errors still print)")
    p.set_defaults(func=run)


def options_from_args(args: argparse.Namespace) -> VideoOptions:
    """The video job's options of a command line, checked (``OptionsError`` when they cannot work)."""
    return VideoOptions(
        input=args.input, out=args.out, temporal=args.temporal, key_interval=args.key_interval,
        max_lost=args.max_lost, crops=args.crops, template=args.template, size=args.size, fit3d=args.fit3d,
        overlay=not args.no_overlay, det_size=args.det_size, det_threshold=args.det_threshold, refine=args.refine,
        landmarks_model=args.landmarks_model, max_frames=args.max_frames, fps=args.fps, threads=args.threads,
        resume=args.resume, max_pixels=args.max_pixels, body=args.body,
    ).validate()


def run(args: argparse.Namespace) -> int:
    from facealign.io.video import VideoError

    def on_error(message: str) -> None:
        sys.stderr.write(f"facealign: error: {printable(message)}\n")

    try:
        with terminate_as_interrupt():
            summary = run_video(options_from_args(args), progress=not args.quiet, on_error=on_error)
    except OptionsError as e:
        on_error(str(e))
        return 2
    except (VideoError, FileNotFoundError) as e:  # the input cannot be opened, or a model file is missing
        on_error(str(e))
        return 1
    if not args.quiet:
        secs = summary.seconds
        sys.stderr.write(
            f"facealign: {summary.frames} frames, {summary.faces} faces, {summary.tracks} tracks in {secs:.1f} s"
            f" ({summary.frames / secs if secs > 0 else 0:.1f} frames/s) -> {summary.landmarks}\n"
        )
    if summary.error:
        on_error(summary.error)
        return 1
    return 0
