"""Fit MediaPipe Pose's neck and head top (facealign.evaluation.body_peers.FITTED) on LSP train im0001-im0800:
run the peer on those photos (never the validation ones) and least-squares the offsets; prints the coefficients
and the PCK@0.2 of both mappings on the fitting photos.

    python benchmarks/body_fit_mediapipe_map.py [--env DIR] [--runner-output OUT.json]
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from facealign.data.body import read_set
from facealign.evaluation.body_metrics import pck_table
from facealign.evaluation.body_peers import fit_mapping, run_mediapipe_pose, to_lsp
from facealign.paths import data_root


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default=None, help="MediaPipe Pose environment (default: body_peers.default_env())")
    ap.add_argument("--runner-output", default=None, help="reuse a run_mediapipe_pose.py output instead of running it")
    a = ap.parse_args()
    recs = read_set("lsp_train", data_root())
    if a.runner_output:
        doc = json.load(open(a.runner_output))
    else:
        doc = run_mediapipe_pose([r.path for r in recs], a.env)
    by_name = {}
    for x in doc["results"]:
        by_name[x["image"]] = x["points"]
    pts = [by_name.get(str(r.path)) for r in recs]
    gt = np.stack([r.joints for r in recs])
    coef = fit_mapping(pts, gt)
    print("FITTED =", json.dumps({k: [round(v, 3) for v in c] for k, c in coef.items()}))
    import facealign.evaluation.body_peers as bp

    for mapping in ("rule", "fitted"):
        if mapping == "fitted":
            bp.FITTED = coef
        pred = np.stack([to_lsp(p, mapping) for p in pts])
        print(mapping, "PCK@0.2 on the fitting photos", round(pck_table(pred, gt, alpha=0.2)[0], 4),
              "missed", sum(p is None for p in pts), "of", len(pts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
