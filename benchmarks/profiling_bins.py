"""Errors on the synthetic large-pose set per yaw bin, normalised by the box (sqrt(w h) of the ground truth's
tight box, as AFLW2000-3D is scored; the eye distance vanishes in profile) and by the eye distance.

    python benchmarks/profiling_bins.py runs/eval-A runs/eval-B [--set afw_profiled]
        [--data ~/.cache/facealign/profiling/v1/300w_afw]

Each argument is a `facealign eval landmarks --out` folder that scored the set under the name ``--set`` (its
predictions_<set>.json); the ground truth and yaws are read from the generated folder.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from facealign.data.profiled import read_profiled
from facealign.paths import cache_dir

BINS = [(0, 30), (30, 60), (60, 75), (75, 91)]


def errors(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float]:
    """(NME by box, NME by eye distance) of one face."""
    d = np.linalg.norm(pred - gt, axis=1).mean()
    wh = gt.max(0) - gt.min(0)
    return d / np.sqrt(wh[0] * wh[1]), d / max(np.linalg.norm(gt[36] - gt[45]), 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--set", default="afw_profiled")
    ap.add_argument("--data", type=Path, default=cache_dir("profiling", "v1", "300w_afw"))
    a = ap.parse_args()
    truth = {s.id: s for s in read_profiled(a.data)}
    head = "| eval folder | all (box / io) | " + " | ".join(f"\\|yaw\\| {lo}-{min(hi, 90)}" for lo, hi in BINS) + " |"
    print(head)
    print("|" + "---|" * (2 + len(BINS)))
    for folder in a.folders:
        pred = json.loads((folder / f"predictions_{a.set}.json").read_text())
        rows = []
        for f in pred["faces"]:
            s = truth[f["id"]]
            b, i = errors(np.asarray(f["landmarks"]), s.points)
            rows.append((abs(s.attributes["yaw"]), b, i))
        r = np.array(rows)
        cells = [f"{100 * r[:, 1].mean():.2f} / {100 * r[:, 2].mean():.1f}"]
        for lo, hi in BINS:
            sel = (r[:, 0] >= lo) & (r[:, 0] < hi)
            cells.append(f"{100 * r[sel, 1].mean():.2f} (n {sel.sum()})" if sel.any() else "-")
        print(f"| {folder} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
