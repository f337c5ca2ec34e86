"""The model-choice options every command spells the same way: ``--landmarks-model`` (old spellings hidden)."""
from __future__ import annotations

import argparse

LANDMARKS_HELP = ("landmark network: a registered name (stfan-lmk-112, the default; stfan-lmk-112-fast: half the "
                  "cost) or an .onnx file of the same contract (`facealign models`)")


def add_landmarks_model(p: argparse.ArgumentParser, help: str = LANDMARKS_HELP, old: tuple[str, ...] = ("--landmark-model",)) -> None:
    """``--landmarks-model NAME`` (dest ``landmarks_model``) plus hidden aliases ``old`` that older scripts use."""
    p.add_argument("--landmarks-model", dest="landmarks_model", metavar="NAME", help=help)
    for alias in old:
        p.add_argument(alias, dest="landmarks_model", metavar="NAME", help=argparse.SUPPRESS)
