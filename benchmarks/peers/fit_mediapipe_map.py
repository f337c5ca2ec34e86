"""Fit the "fitted" MediaPipe mesh -> iBUG 68 mapping on 300-W training faces (never on evaluation data).

    python benchmarks/peers/fit_mediapipe_map.py [--data-root DIR]   (default: the data root, facealign.paths)

Runs run_mediapipe.py (box mode: a crop around each ground-truth face) over 300w/lfpw_train and
300w/helen_train, then picks for each of the 68 points the mesh vertex with the smallest mean inter-ocular-
normalised distance to the ground truth. Writes benchmarks/peers/mediapipe_map_fitted.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from facealign import paths  # noqa: E402
from facealign.evaluation.landmarks_eval import gt_box  # noqa: E402
from facealign.data import read_pts_folder  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", type=Path, default=paths.data_root())
    ap.add_argument("--work", type=Path, default=REPO / "out" / "mediapipe_fit")
    args = ap.parse_args()
    samples = []
    for sub in ("300w/lfpw_train", "300w/helen_train"):
        samples += read_pts_folder(args.data_root / sub)
    args.work.mkdir(parents=True, exist_ok=True)
    by_image = defaultdict(list)
    for s in samples:
        by_image[str(s.image)].append(s)
    jobs = {"mode": "box", "jobs": [{"image": im, "boxes": [gt_box(s).tolist() for s in g]} for im, g in by_image.items()]}
    (args.work / "jobs.json").write_text(json.dumps(jobs))
    out = args.work / "meshes.json"
    if not out.exists():
        py = paths.peer_envs_dir("mediapipe", "bin", "python")
        env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="3")
        subprocess.run([str(py), str(HERE / "run_mediapipe.py"), str(args.work / "jobs.json"), str(out)], check=True, env=env)
    raw = json.loads(out.read_text())
    meshes, gts, ios = [], [], []
    for entry in raw["results"]:
        for s, f in zip(by_image[entry["image"]], entry["faces"]):
            if f.get("mesh") is None:
                continue
            meshes.append(np.array(f["mesh"]))
            gts.append(s.points)
            ios.append(np.linalg.norm(s.points[36] - s.points[45]))
    m, g, io = np.array(meshes), np.array(gts), np.array(ios)
    # cost[k, v] = mean over faces of |mesh_v - gt_k| / io
    cost = np.stack([(np.linalg.norm(m - g[:, k : k + 1], axis=2) / io[:, None]).mean(0) for k in range(68)])
    vertices = cost.argmin(1)
    doc = {
        "source": "300w lfpw_train + helen_train, run_mediapipe.py box mode",
        "faces": len(m),
        "vertices": vertices.tolist(),
        "mean_nme_io": float(cost[np.arange(68), vertices].mean()),
    }
    (HERE / "mediapipe_map_fitted.json").write_text(json.dumps(doc) + "\n")
    print(f"fitted on {len(m)} faces; mean per-point NME {doc['mean_nme_io']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
