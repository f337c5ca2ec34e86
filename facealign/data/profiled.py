"""Synthetic large-pose faces made by face profiling (facealign.training.profiling; docs/profiling.md).

A generated folder holds per view ``NAME.jpg``, ``NAME.pts`` (the 68 points in the 2D, 300-W convention, 1-based
like 300-W's files) and ``NAME.json`` (the view: ``yaw``, ``pitch``, ``roll`` in degrees, ``points3d`` (68 x 3,
0-based x, y and depth in pixels: the 3D convention), ``source`` (the labelled face it was made from),
``source_pose``, ``fit_error``). The JSON is written last, so a view without one is unfinished and left out.

``Sample.attributes``: ``yaw``, ``pitch``, ``roll``, ``points3d`` and ``pose``, a bin of the yaw like MTFL's five classes
(1: yaw <= -60, 2: -60 < yaw <= -30, 3: |yaw| < 30, 4: 30 <= yaw < 60, 5: yaw >= 60; yaw > 0 = the nose towards
the image right, docs/face3d.md), so the evaluation reports per-bin errors.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from facealign.data.pts import read_pts_folder
from facealign.data.sample import Sample


def yaw_bin(yaw: float) -> int:
    """The five-class bin (1..5) of a yaw in degrees (see the module docstring)."""
    if yaw <= -60:
        return 1
    if yaw <= -30:
        return 2
    if yaw < 30:
        return 3
    return 4 if yaw < 60 else 5


def read_profiled(folder: str | Path) -> list[Sample]:
    """The finished views of a generated folder (those with their JSON), sorted by name."""
    out = []
    for s in read_pts_folder(folder):
        meta_path = s.image.with_suffix(".json")
        if not meta_path.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        s.attributes.update(
            yaw=float(meta["yaw"]), pitch=float(meta["pitch"]), roll=float(meta["roll"]), pose=yaw_bin(float(meta["yaw"])),
            points3d=np.asarray(meta["points3d"], dtype=np.float64), source=meta.get("source", ""),
        )
        out.append(s)
    return out
