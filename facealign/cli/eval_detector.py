"""`facealign eval detector`: recall at <= 0.05 false detections per face-free image, scene AP@0.5, latency.

    facealign eval detector [--detector-model NAME|PATH.onnx] [--det-size 640] [--draw DIR]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("detector", help="Recall / false detections / AP / latency of the face detector.",
                              description=__doc__)
    p.add_argument("--detector-model", dest="model", default=None, metavar="NAME",
                   help="a registered detector name or an ONNX file (default: the shipped ssdlite-det)")
    p.add_argument("--model", dest="model", help=argparse.SUPPRESS)  # the old spelling
    p.add_argument("--data-root", type=Path, default=None, help="the data folder (default: FACEALIGN_DATA, see facealign.paths)")
    p.add_argument("--cache-dir", type=Path, default=None, help="scene cache (default: the facealign cache folder, detector/)")
    p.add_argument("--det-size", type=int, default=640)
    p.add_argument("--fppi", type=float, default=0.05)
    p.add_argument("--limit", type=int, default=0, help="only the first N images of each labelled set")
    p.add_argument("--scenes", type=int, default=300)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--verify", type=float, default=0.0, metavar="T",
                   help="evaluate what `facealign align` runs: detections followed by the landmark network's check"
                   " (mean landmark confidence >= T, e.g. 0.4 as align); latency then includes the landmarks")
    p.add_argument("--draw", type=Path, default=None, help="also draw detections on the wild photos into DIR")
    p.add_argument("--out", type=Path, default=None, help="write metrics.json here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign import paths
    from facealign.evaluation.detector_run import DetectorEvalOptions, draw_wild, evaluate

    opts = DetectorEvalOptions(model=args.model, data_root=args.data_root, cache_dir=args.cache_dir,
                               det_size=args.det_size, fppi=args.fppi, limit=args.limit, scenes=args.scenes,
                               threads=args.threads, verify=args.verify)
    try:
        opts.check()
    except ValueError as e:
        sys.stderr.write(f"facealign eval detector: {e}\n")
        return 2
    det, res = evaluate(opts)
    print(json.dumps(res, indent=2))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "metrics.json").write_text(json.dumps(res, indent=2))
    if args.draw:
        draw_wild(det, args.data_root or paths.data_root(), args.draw, max(res["threshold_at_fppi"], 0.05))
    return 0
