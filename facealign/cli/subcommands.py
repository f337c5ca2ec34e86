"""Helper for commands with sub-commands (`facealign eval X`, `facealign train X`) provided by other modules.

Each provider module defines ``add_parser(subparsers)`` that registers its sub-command and sets ``func``.
A provider whose optional dependencies are missing (e.g. torch for training) is still listed, and says so when run.
"""
from __future__ import annotations

import argparse
import importlib


def add_group(subparsers, name: str, help_text: str, providers: dict[str, str]) -> None:
    """Register `facealign NAME SUB ...` with one sub-command per provider module."""
    p = subparsers.add_parser(name, help=help_text, description=help_text)
    sub = p.add_subparsers(dest=f"{name}_command", required=True, parser_class=type(p))
    for sub_name, module in providers.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module or (e.name or "").startswith("facealign"):
                raise  # a broken import of our own, not a missing optional package
            missing = e.name

            def _missing(args: argparse.Namespace, _m: str = missing, _n: str = sub_name) -> int:
                raise SystemExit(
                    f"facealign {name} {_n}: needs the '{_m}' package (pip install 'facealign[train]')"
                )

            q = sub.add_parser(sub_name, help=f"(needs {missing})", add_help=False)
            q.set_defaults(func=_missing)
            continue
        mod.add_parser(sub)
