"""Targets of the 3D-convention head (``NetConfig.points3d``): each semantic point where it is, hidden or not.

Face-profiled views carry them (their ``points3d``). For labelled photos (300-W convention: the jaw on the
visible outline) they are made the way the profiling generator makes its views: the face model is fitted to the
labels, corrected so its points project exactly onto them (facealign.training.profiling.render.Profiler.prepare),
and its 68 semantic vertices are projected. The inner points stay the labels; the jaw moves off the outline by
what the fitted head's pose says. Computed once per set (a fit per face) and cached beside the crops.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facealign.data.landmark_crops import FaceSet


def semantic_points(points68: np.ndarray, size: int, profiler=None) -> np.ndarray:
    """(N, 68, 2) 3D-convention points of faces labelled in the 300-W convention (N, 68, 2), in the same pixels
    (crops of side ``size``)."""
    from facealign.training.profiling.render import Profiler

    profiler = profiler or Profiler()
    out = np.zeros((len(points68), 68, 2), np.float32)
    for i, p in enumerate(tqdm(points68, desc="3D-convention targets", leave=False, mininterval=10)):
        src = profiler.prepare((size, size), p)
        out[i] = src.project(src.verts)[-68:, :2]
    return out


def with_points3d(fs: FaceSet, cache: Path) -> FaceSet:
    """``fs`` with ``points3d`` filled for a 68-point set that lacks them (cached under ``cache``); 5-point sets
    are returned unchanged (their 5 points are the same in both conventions)."""
    if fs.points3d is not None or fs.n_points != 68 or not len(fs):
        return fs
    key = hashlib.md5(np.ascontiguousarray(fs.points).tobytes()).hexdigest()[:10]
    path = Path(cache) / f"{fs.name}_points3d_{key}.npy"
    if path.is_file():
        fs.points3d = np.load(path)
        return fs
    fs.points3d = semantic_points(fs.points, fs.images.shape[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, fs.points3d)
    tmp.replace(path)
    return fs
