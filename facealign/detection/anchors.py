"""Anchors (priors) of the SSD-lite detector and the SSD box/point encoding shared by training and runtime.

Each level (stride 8, 16, 32) has two square anchors per cell, sizes growing geometrically from 14 to 256 px
(ratio ~1.8) so that tight-68 face boxes from ~10 px to ~350 px overlap one anchor well. Anchor order: levels in
STRIDES order, cells row-major, anchors inner (the network's output order).

Encoding (variances 0.1 / 0.2 as in SSD): box = (dx, dy, log-w, log-h) relative to the anchor centre and size;
each of the 5 points = (dx, dy) relative to the anchor centre in units of 0.1 * anchor size.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

STRIDES = (8, 16, 32)
ANCHOR_SIZES = ((14.0, 25.0), (45.0, 80.0), (143.0, 256.0))
VAR_XY, VAR_WH = 0.1, 0.2


@lru_cache(maxsize=16)
def priors(height: int, width: int) -> np.ndarray:
    """(N, 3) float32 anchors (cx, cy, size) in input pixels for an input of ``height`` x ``width`` (multiples of 32).

    Cached per input size; the returned array is read-only.
    """
    out = []
    for stride, sizes in zip(STRIDES, ANCHOR_SIZES):
        gh, gw = -(-height // stride), -(-width // stride)
        ys, xs = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
        # 0-based pixel centres: cell j covers pixels [j*stride, (j+1)*stride - 1]
        cx = xs * stride + (stride - 1) / 2.0
        cy = ys * stride + (stride - 1) / 2.0
        grid = np.stack([cx.ravel(), cy.ravel()], 1)
        per = [np.concatenate([grid, np.full((len(grid), 1), s)], 1) for s in sizes]
        out.append(np.stack(per, 1).reshape(-1, 3))
    p = np.concatenate(out, 0).astype(np.float32)
    p.setflags(write=False)
    return p


def anchor_boxes(pri: np.ndarray) -> np.ndarray:
    """(N, 4) x1, y1, x2, y2 of square anchors."""
    h = pri[:, 2:3] / 2
    return np.concatenate([pri[:, :2] - h, pri[:, :2] + h], 1)


def encode(pri: np.ndarray, boxes: np.ndarray, kps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Box (N, 4) and points (N, 5, 2) -> targets (N, 4), (N, 10) relative to matched anchors ``pri`` (N, 3)."""
    s = pri[:, 2:3]
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    wh = np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-3)
    t_box = np.concatenate([(c - pri[:, :2]) / (VAR_XY * s), np.log(wh / s) / VAR_WH], 1)
    t_kps = ((kps - pri[:, None, :2]) / (VAR_XY * s[:, None])).reshape(len(pri), 10)
    return t_box.astype(np.float32), t_kps.astype(np.float32)


def decode(pri: np.ndarray, t_box: np.ndarray, t_kps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`encode`: (N, 4) boxes x1, y1, x2, y2 and (N, 5, 2) points in input pixels."""
    s = pri[:, 2:3]
    c = pri[:, :2] + t_box[:, :2] * VAR_XY * s
    wh = s * np.exp(np.clip(t_box[:, 2:] * VAR_WH, -10, 10))
    boxes = np.concatenate([c - wh / 2, c + wh / 2], 1)
    kps = pri[:, None, :2] + t_kps.reshape(-1, 5, 2) * VAR_XY * s[:, None]
    return boxes, kps
