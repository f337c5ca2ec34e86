"""`facealign align PATH... --out DIR`: detect, landmark and align every face; write crops, overlays, results.jsonl."""
from __future__ import annotations

import argparse

from facealign.cli.common import add_batch_options, run_and_report


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "align",
        help="align every face in photos (crops, overlays, results.jsonl)",
        description="Detect faces, predict 68 + 5 landmarks and write canonical crops, overlays and DIR/results.jsonl.",
    )
    add_batch_options(p)
    p.add_argument("--3d", dest="fit3d", action="store_true", help="also fit the 3D face model (pose, camera, 3D landmarks)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_and_report(args, fit3d=args.fit3d)
