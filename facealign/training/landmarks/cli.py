"""`facealign train landmarks --config FILE [--resume] [--epochs N] [--out DIR]`."""
from __future__ import annotations

import argparse

from facealign.training.landmarks.config import load_config


def run(args: argparse.Namespace) -> int:
    """Load the config, apply the command-line overrides, train."""
    from facealign.training.landmarks.train import train

    cfg = load_config(args.config)
    if args.epochs:
        cfg.epochs = args.epochs
    if args.out:
        cfg.out = args.out
    best = train(cfg, resume=args.resume)
    print("best:", {k: round(v, 3) for k, v in best.items() if isinstance(v, float)})
    return 0


def add_parser(subparsers) -> None:
    """Register the `landmarks` training sub-command."""
    p = subparsers.add_parser("landmarks", help="train the 68-point landmark network and export it to ONNX")
    p.add_argument("--config", required=True, help="YAML file (see configs/landmarks.yaml)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--epochs", type=int, default=0, help="override the number of epochs")
    p.add_argument("--out", default="", help="override the output folder of checkpoints and logs")
    p.set_defaults(func=run)
