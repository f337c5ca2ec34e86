"""`facealign eval landmarks`: score the landmark model on labelled data sets and print one table.

    facealign eval landmarks --data pts:DATA/300w/afw --data mtfl:DATA/mtfl/val.txt --out out/eval
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facealign.alignment.templates import TEMPLATES
from facealign.cli.model_options import add_landmarks_model


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "landmarks",
        help="NME / AUC / failure rate of the 68-point model on labelled data sets.",
        description="Score the landmark model on labelled data sets: NME (inter-ocular, inter-pupil, box), "
        "AUC and failure rate at 0.08 and 0.10, per-pose bins (MTFL), optional closed-loop consistency. "
        "Data sets are KIND:PATH with KIND one of pts, mtfl, wflw, coco, dlib, ljson (see docs/evaluation.md).",
    )
    p.add_argument("--data", action="append", required=True, metavar="[NAME=]KIND:PATH",
                   help="a labelled data set (repeatable), e.g. pts:DATA/300w/afw or mtfl:DATA/mtfl/val.txt")
    p.add_argument("--boxes", choices=("gt", "detector"), default="gt",
                   help="gt: the ground truth's tight box (5-point data: box_from_five); detector: run the detector "
                   "and match its faces to the ground truth (misses are failures)")
    p.add_argument("--out", type=Path, help="write metrics.json, predictions_*.json, ced*.png and results.txt here")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="only the first N faces of each data set")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--closed-loop", action="store_true", help="also measure closed-loop consistency of aligned crops")
    p.add_argument("--template", default="arcface112", choices=sorted(TEMPLATES), help="template for --closed-loop")
    p.add_argument("--compare", action="append", default=[], metavar="LABEL=FILE",
                   help="another method's predictions file (same JSON format) to score and plot alongside (repeatable)")
    p.add_argument("--method", default="facealign", help="label of our method in tables and plots")
    p.add_argument("--no-tta", action="store_true", help="one landmark pass per face (no mirrored second pass)")
    add_landmarks_model(p, "evaluate this landmark network: a registered name (e.g. stfan-lmk-112-fast) or an ONNX "
                        "file (e.g. a training run's export); default stfan-lmk-112", old=("--model", "--landmark-model"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.evaluation.landmarks_run import LandmarksEvalOptions, evaluate_landmarks

    opts = LandmarksEvalOptions(
        data=args.data, boxes=args.boxes, out=args.out, limit=args.limit, closed_loop=args.closed_loop,
        template=args.template, compare=args.compare, method=args.method, tta=not args.no_tta,
        landmarks_model=args.landmarks_model, progress=not args.quiet,
    )
    say = lambda m: print(m, file=sys.stderr)  # noqa: E731
    try:
        opts.check()
        res = evaluate_landmarks(opts, warn=say)
    except FileNotFoundError as e:  # a model file is missing: say which, not a traceback
        say(f"facealign eval landmarks: {e}")
        return 1
    except (ValueError, OSError) as e:
        say(f"facealign eval landmarks: {e}")
        return 2
    if not res.text:
        return 1
    print(res.text)
    if args.out:
        print(f"wrote {args.out}/metrics.json, results.txt, predictions_*.json, ced*.png")
    return 0
