"""`facealign models`: the shipped models (registry name, kind, file, size) and what each is."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "models",
        help="list the shipped models (names for --landmarks-model)",
        description="List the registered models: name, kind, input size, file size and description.",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign.runtime import registry

    for s in registry.list_models():
        size = f"{s.path.stat().st_size / 1e6:.1f} MB" if s.available else "missing"
        print(f"{s.name:22s} {s.kind:10s} input {s.input_size:<4d} {size:8s} {s.description}")
    return 0
