"""`facealign train detector --config configs/detector.yaml [--resume] [--epochs N] [--out DIR]`."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("detector", help="Train the SSD-lite face detector on composed scenes and export ONNX.")
    p.add_argument("--config", required=True, help="YAML file (configs/detector.yaml)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--epochs", type=int, default=None, help="override the number of epochs")
    p.add_argument("--out", default=None, help="override the run folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.training.detection.config import DetectorConfig
    from facealign.training.detection.train import train

    cfg = DetectorConfig.from_yaml(args.config)
    if args.epochs is not None:
        cfg.epochs = args.epochs
    if args.out is not None:
        cfg.out = args.out

    def log(msg: str) -> None:
        print(msg, flush=True)

    log(f"config: {cfg}")
    train(cfg, resume=args.resume, log=log)
    return 0


