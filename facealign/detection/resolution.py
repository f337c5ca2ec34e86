"""The resolution policy of the detector: which images the network runs on for a photo of any size.

The network finds faces of about 10 to 288 px of its input (its anchors span 14-256 px). So that every face from
about 12 px up is found in a photo of any size, the photo is searched at its own resolution (the "working image";
an explicit ``det_size`` shrinks it first, the old fast setting) and on a pyramid below it:

- Level k is the working image reduced by 3**k (exact block means). Level 0 reports faces up to ``LARGE_MAX`` px,
  each further level those from ``LARGE_MIN / 3`` px of its own pixels (``LARGE_MIN`` of the level above) and, but
  for the last, up to ``LARGE_MAX``; the ranges overlap so no face falls between two levels. A level is added while
  the one above it is longer than ``2 * LARGE_MIN`` (a smaller image cannot hold a face the next level would
  report). Cost: 1 + 1/9 + 1/81 + ... of the working image, i.e. linear in its pixels.
- A level longer than ``TILE_SIDE`` on a side runs as overlapping tiles of at most that side (memory per run is
  bounded, so peak memory does not grow with the photo). Tiles overlap by ``TILE_OVERLAP`` >= the largest face the
  level reports plus two ``EDGE_MARGIN``: a face touching a tile's inner edge lies whole in the neighbouring tile,
  so detections within ``EDGE_MARGIN`` of an inner edge are dropped instead of merged as fragments.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVEL_FACTOR = 3
# a level reports faces up to LARGE_MAX px; the next one takes over from LARGE_MIN px of this level's pixels
LARGE_MAX, LARGE_MIN = 288.0, 192.0
TILE_SIDE = 2048
EDGE_MARGIN = 8
TILE_OVERLAP = 320  # >= LARGE_MAX + 2 * EDGE_MARGIN, a multiple of 32
PAD = 32


@dataclass(frozen=True)
class Level:
    """One pyramid level: the working image reduced by ``factor``; faces of ``min_size`` to ``max_size`` px (of
    this level) are reported from it."""

    factor: int
    min_size: float
    max_size: float


def levels(height: int, width: int, large_faces: bool = True) -> list[Level]:
    """The pyramid for a working image of ``height`` x ``width`` (see the module docstring)."""
    out = [Level(1, 0.0, math.inf)]
    side = max(height, width)
    while large_faces and side > 2 * LARGE_MIN:
        prev = out[-1]
        out[-1] = Level(prev.factor, prev.min_size, LARGE_MAX)
        out.append(Level(prev.factor * LEVEL_FACTOR, LARGE_MIN / LEVEL_FACTOR, math.inf))
        side //= LEVEL_FACTOR
    return out


def _spans(n: int, side: int, overlap: int) -> list[tuple[int, int]]:
    """Start/end of the fewest tiles of at most ``side`` covering 0..n with >= ``overlap`` between neighbours."""
    if n <= side:
        return [(0, n)]
    count = math.ceil((n - overlap) / (side - overlap))
    length = min(side, -(-(math.ceil((n - overlap) / count) + overlap) // PAD) * PAD)
    starts = np.linspace(0, n - length, count).round().astype(int)
    return [(int(s), int(s) + length) for s in starts]


def tiles(height: int, width: int, side: int = TILE_SIDE, overlap: int = TILE_OVERLAP) -> list[tuple[int, int, int, int]]:
    """(y0, x0, y1, x1) of the tiles a ``height`` x ``width`` level runs as (one tile when it fits ``side``)."""
    return [(y0, x0, y1, x1) for y0, y1 in _spans(height, side, overlap) for x0, x1 in _spans(width, side, overlap)]


def inner_edge_mask(boxes: np.ndarray, tile: tuple[int, int, int, int], height: int, width: int,
                    margin: float = EDGE_MARGIN) -> np.ndarray:
    """True for boxes (tile pixels) that keep clear of the tile's inner edges (edges that are not the image's)."""
    y0, x0, y1, x1 = tile
    ok = np.ones(len(boxes), bool)
    if x0 > 0:
        ok &= boxes[:, 0] >= margin
    if y0 > 0:
        ok &= boxes[:, 1] >= margin
    if x1 < width:
        ok &= boxes[:, 2] <= (x1 - x0) - 1 - margin
    if y1 < height:
        ok &= boxes[:, 3] <= (y1 - y0) - 1 - margin
    return ok
