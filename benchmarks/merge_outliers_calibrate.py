"""Fit the weights of the merge consensus check (facealign/merge/outliers.py) on YouTube Faces **train** people.

    python benchmarks/merge_outliers_calibrate.py [--data ytf68/train] [--intruders 5]
        [--json benchmarks/results/merge_outliers_calibration.json]

Every train person's set (landmarks from the landmark model, 3D fit, as `merge` does) gets ``--intruders`` sets
with one photo of another person added, in both regimes of facealign.evaluation.merge_outliers (``all``, and
``cross_video``: each photo's own video hidden from it); a non-negative, class-balanced logistic regression on the
evidence z-scores of both regimes pooled gives WEIGHTS and BIAS (FLOORS, the least spread of each distance within a
set, is the 10th percentile of the train people's own sets' spreads); OPERATING_POINTS are the scores above which 2%,
3% and 5% of the pooled own photos lie. Prints the constants to paste into outliers.py and the train rates.
No val person is looked at.
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="ytf68/train")
    ap.add_argument("--intruders", type=int, default=5, help="intruder sets per person and regime")
    ap.add_argument("--cache", type=Path, help="keep the train descriptors in this pickle (reused when it exists)")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/merge_outliers_calibration.json")
    args = ap.parse_args()

    from facealign import paths
    from facealign.evaluation import merge_outliers as mo
    from facealign.evaluation.merge_eval import load_set, person_sets
    from facealign.pipeline import build_aligner

    t0 = time.time()
    if args.cache and args.cache.exists():
        with open(args.cache, "rb") as fh:
            descs, videos = pickle.load(fh)
    else:
        sets = person_sets(paths.data_path(args.data))
        aligner = build_aligner()
        descs, videos = {}, {}
        for name in sorted(sets):
            s = load_set(name, sets[name], aligner)
            if len(s.faces) >= 3:
                descs[name] = mo.set_descriptors(s.images, s.faces)
                videos[name] = [mo.video_of(p) for p in s.paths]
        if args.cache:
            with open(args.cache, "wb") as fh:
                pickle.dump((descs, videos), fh)
    print(f"{len(descs)} people, {sum(map(len, descs.values()))} photos described in {time.time() - t0:.0f} s")
    floors = {k: round(v, 5) for k, v in mo.spread_floors(descs).items()}
    trials = [mo.build_trials(descs, videos, r, intruders=args.intruders, seed=1, floors=floors)
              for r in mo.REGIMES]
    x = np.concatenate([t.X for t in trials])
    y = np.concatenate([t.y for t in trials])
    w, b = mo.fit_weights(x, y)
    weights = {k: round(float(v), 3) for k, v in zip(mo.FEATURES, w)}
    bias = round(b, 3)
    pooled = mo.Trials(x, y, "pooled").scores(weights, bias)
    points = {f"fr{p}": round(float(np.quantile(pooled[y == 0], 1 - p / 100)), 3) for p in (2, 3, 5)}
    table = {}
    for t in trials + [mo.Trials(x, y, "pooled")]:
        s = t.scores(weights, bias)
        table[t.regime] = {"auc": mo.auc(s, t.y), **{k: {"threshold": v, **mo.rates(s, t.y, v)}
                                                      for k, v in points.items()}}
    out = {"data": args.data, "people": len(descs), "photos": int(sum(map(len, descs.values()))),
           "intruders_per_set": args.intruders, "floors": floors, "weights": weights, "bias": bias,
           "operating_points": points, "train": table}
    print("WEIGHTS =", json.dumps(weights))
    print("BIAS =", bias)
    print("FLOORS =", json.dumps(floors))
    print("OPERATING_POINTS =", json.dumps(points))
    for r, v in table.items():
        print(f"  {r:12s} AUC {v['auc']:.3f}  " + "  ".join(
            f"{k}: recall {v[k]['intruder_recall']:.3f} FR {v[k]['false_rejection']:.3f}" for k in points))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
