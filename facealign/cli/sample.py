"""`facealign sample`: print the path of the sample photo shipped in the package.

    facealign align "$(facealign sample)" --out out
"""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "sample",
        help="print the path of the packaged sample photo (for a first try: facealign align \"$(facealign sample)\" --out out)",
        description="Print the path of the public-domain sample photo shipped inside the package.",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.samples import sample_path

    print(sample_path())
    return 0
