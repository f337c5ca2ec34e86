"""`facealign pose PATH... --out DIR`: like `align`, with the 3D fit (head pose, camera, 3D landmarks) in every face."""
from __future__ import annotations

import argparse

from facealign.cli.common import add_batch_options, run_and_report


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "pose",
        help="3D head pose, camera and 3D landmarks of every face",
        description="Same inputs and outputs as `facealign align`, plus the 3D fit in every face of results.jsonl.",
    )
    add_batch_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_and_report(args, fit3d=True)
