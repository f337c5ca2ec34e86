"""`facealign eval video`: temporal stability, accuracy, lag and speed of the video pipeline.

    facealign eval video --out out/eval_video

Synthetic val sequences (jitter, NME, lag for off / oneeuro / causal / offline), real videos side by side, and
frames/second of the `facealign video` command (facealign.evaluation.video_run).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facealign.cli.model_options import add_landmarks_model


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("video", help="jitter, accuracy, lag and speed of video tracking and temporal fusion",
                              description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="write metrics.json, report.md and plots here")
    p.add_argument("--data", type=Path, help="the data folder (default: FACEALIGN_DATA, see facealign.paths)")
    p.add_argument("--videos", type=Path, help="folder of real videos (default DATA/videos)")
    p.add_argument("--sequences", type=int, default=200, help="synthetic val sequences (default 200, as training)")
    p.add_argument("--config", type=Path, help="temporal training config: the synthetic sequences are made as its val "
                   "set, same cache (default: configs/temporal.yaml of the checkout)")
    add_landmarks_model(p, "per-frame landmark network: registered name or ONNX file (default stfan-lmk-112)")
    p.add_argument("--causal-model", metavar="NAME", help="temporal causal model: registered name or ONNX file (default: shipped)")
    p.add_argument("--offline-model", metavar="NAME", help="temporal offline model: registered name or ONNX file (default: shipped)")
    p.add_argument("--one-euro", default="", metavar="MIN_CUTOFF,BETA", help="One Euro parameters (default: the module's)")
    p.add_argument("--parts", default="synthetic,real,speed", help="comma list of synthetic, real, speed")
    p.add_argument("--max-frames", type=int, help="at most this many frames per real video")
    p.add_argument("--key-interval", type=int, default=10)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.evaluation.video_run import VideoEvalOptions, evaluate_video

    try:
        one_euro = {}
        if args.one_euro:
            a, b = (float(x) for x in args.one_euro.split(","))
            one_euro = {"min_cutoff": a, "beta": b}
        opts = VideoEvalOptions(
            out=args.out, data=args.data, videos=args.videos, sequences=args.sequences, config=args.config,
            landmarks_model=args.landmarks_model, causal_model=args.causal_model, offline_model=args.offline_model,
            one_euro=one_euro, parts=tuple(p for p in args.parts.split(",") if p), max_frames=args.max_frames,
            key_interval=args.key_interval, quiet=args.quiet,
        ).check()
    except ValueError as e:
        sys.stderr.write(f"facealign eval video: {e}\n")
        return 2
    _, text = evaluate_video(opts)
    print(text)
    return 0
