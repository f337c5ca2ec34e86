"""`facealign train temporal --config FILE [--steps N] [--out DIR] [--landmark-model FILE]`."""
from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from facealign.training.temporal.config import load_config
    from facealign.training.temporal.train import train

    cfg = load_config(args.config)
    if args.steps:
        cfg.steps = args.steps
    if args.out:
        cfg.out = args.out
    if args.landmark_model:
        cfg.data.landmark_model = args.landmark_model
    if args.export_dir:
        cfg.export_dir = args.export_dir
    results = train(cfg)
    for tag in ("causal", "offline"):
        print(tag, {k: round(float(v), 4) for k, v in results[tag][tag].items()})
    print("one euro (tuned on training sequences):", results["one_euro"]["best"])
    return 0


def add_parser(subparsers) -> None:
    """Register the `temporal` training sub-command."""
    p = subparsers.add_parser("temporal", help="train the temporal fusion module (causal + offline) and export ONNX")
    p.add_argument("--config", required=True, help="YAML file (see configs/temporal.yaml)")
    p.add_argument("--steps", type=int, default=0, help="override the number of training steps")
    p.add_argument("--out", default="", help="override the folder of logs and checkpoints")
    p.add_argument("--landmarks-model", "--landmark-model", dest="landmark_model", default="", metavar="NAME",
                   help="per-frame landmark network whose outputs the model learns from: registered name or ONNX file")
    p.add_argument("--export-dir", default="", help="override where the ONNX files go")
    p.set_defaults(func=run)
