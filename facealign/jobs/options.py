"""Checks shared by the job options: every option is range-checked before any input is read.

A job's options dataclass calls these in its ``validate()``; the first broken rule raises ``OptionsError`` with a
one-line message naming the option, so an API caller gets one clear error up front (the commands turn it into
exit status 2) instead of one failure per input.
"""
from __future__ import annotations

import math
from typing import Iterable

MAX_CROP_SIZE = 4096  # a crop larger than this is a typo, not a face (and costs size^2 memory per face)
MIN_DET_SIZE = 32  # the detector pads its input to a multiple of 32 pixels


class OptionsError(ValueError):
    """A job option is out of range or two options do not go together; the message is one line."""


def check_int(name: str, value: int | None, lo: int, hi: int | None = None, optional: bool = True) -> None:
    """``value`` is a whole number in [lo, hi] (None allowed when ``optional``)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionsError(f"{name}: expected a whole number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise OptionsError(f"{name}: expected a number {rng}, got {value}")


def check_float(name: str, value: float | None, lo: float, hi: float | None = None, optional: bool = True,
                open_low: bool = False) -> None:
    """``value`` is a finite number in [lo, hi] ((lo, hi] when ``open_low``; None allowed when ``optional``)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OptionsError(f"{name}: expected a number, got {value!r}")
    v = float(value)
    low_ok = v > lo if open_low else v >= lo
    if not math.isfinite(v) or not low_ok or (hi is not None and v > hi):
        lo_text = f"> {lo}" if open_low else f">= {lo}"
        rng = lo_text if hi is None else f"{lo_text} and <= {hi}"
        raise OptionsError(f"{name}: expected a number {rng}, got {value}")


def check_choice(name: str, value: str, choices: Iterable[str]) -> None:
    """``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise OptionsError(f"{name}: {value!r} is not one of {', '.join(choices)}")


def check_model(name: str, value: str | None, kind: str) -> None:
    """``value`` is None, a registered model name of ``kind`` or an .onnx file that exists."""
    if value is None:
        return
    from facealign.stages import check_model as check

    try:
        check(value, kind)
    except ValueError as e:
        raise OptionsError(f"{name}: {e}") from None
