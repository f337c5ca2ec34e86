"""Build facealign/alignment/mean68.npy: the upright, symmetric Procrustes mean of the 300-W training shapes.

    python scripts/build_mean_shape.py [300W_FOLDER]   (default: 300w under the data root)

LFPW and HELEN training faces only (AFW is held out). Output: 68x2 float32, eyes level, mirror-symmetric,
centred on its tight box, max side 1.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from facealign.alignment.points import FLIP68, five_from_68
from facealign.alignment.transforms import apply, estimate_similarity
from facealign.data.pts import read_pts_file as read_pts


def normalise(m: np.ndarray) -> np.ndarray:
    lo, hi = m.min(0), m.max(0)
    return (m - (lo + hi) / 2) / (hi - lo).max()


def main(root: str) -> None:
    files = sorted(Path(root).glob("lfpw_train/*.pts")) + sorted(Path(root).glob("helen_train/*.pts"))
    shapes = np.array([read_pts(f) for f in files])
    ref = shapes[0]
    for _ in range(10):  # generalised Procrustes
        ref = normalise(np.mean([apply(estimate_similarity(p, ref), p) for p in shapes], axis=0))
    e = five_from_68(ref)
    d = e[1] - e[0]
    a = -np.arctan2(d[1], d[0])
    m = ref @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]).T  # eyes level
    m = m - [five_from_68(m)[:2, 0].mean(), 0]
    m = normalise((m + m[FLIP68] * [-1, 1]) / 2)  # symmetric
    out = Path(__file__).resolve().parents[1] / "facealign" / "alignment" / "mean68.npy"
    np.save(out, m.astype(np.float32))
    print(f"{len(shapes)} shapes -> {out}")


if __name__ == "__main__":
    from facealign.paths import data_path

    main(sys.argv[1] if len(sys.argv) > 1 else str(data_path("300w")))
