"""`facealign eval merge`: multi-photo merging on sets of photos per person (YouTube Faces val by default).

    facealign eval merge                          # ytf68/val under the data root: 30 people, 11-15 photos each
    facealign eval merge --people 5 --json out.json
    facealign eval merge --parts outliers         # only the intruder checks (no 3D leave-one-out, no timing)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PARTS = ("sharpness", "leave_one_out", "outliers", "timing")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("merge", help="Evaluate merge methods (sharpness, 3D leave-one-out, outliers, time).",
                              description=__doc__.splitlines()[0])
    p.add_argument("--data", default="ytf68/val", help="folder of Person_Name_VF.jpg photos (under the data root)")
    p.add_argument("--people", type=int, default=0, help="only the first N people (0: all)")
    p.add_argument("--size", type=int, default=256, help="composite size in pixels")
    p.add_argument("--non-frontal", type=float, default=15.0, help="leave-one-out on held-out photos with |yaw| >= this")
    p.add_argument("--landmarks", choices=("pipeline", "gt"), default="pipeline",
                   help="68 points from the landmark model (as `merge` does) or the labelled ones")
    p.add_argument("--parts", default=",".join(PARTS),
                   help=f"comma-separated parts to run (default all: {','.join(PARTS)})")
    p.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from facealign import paths
    from facealign.evaluation.merge_eval import evaluate_merge
    from facealign.pipeline import build_aligner

    folder = paths.data_path(args.data)
    if not folder.is_dir():
        sys.stderr.write(f"facealign: error: no photo folder {folder}\n")
        return 2
    parts = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    if not parts or set(parts) - set(PARTS):
        sys.stderr.write(f"facealign: error: --parts must name some of {','.join(PARTS)}\n")
        return 2
    if args.people < 0 or not 64 <= args.size <= 1024:
        sys.stderr.write("facealign: error: --people must be >= 0 and --size in [64, 1024]\n")
        return 2
    r = evaluate_merge(folder, build_aligner(), size=args.size, non_frontal=args.non_frontal, people=args.people,
                       landmarks=args.landmarks, parts=parts)
    print(f"\n{r['people']} people, {r['photos']} photos")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    if "sharpness" in r:
        print("gradient energy of the inner face over the plain mean's:")
    for m, s in r.get("sharpness", {}).items():
        print(f"  {m:5s} median x{s['ratio_median']:.2f}, min x{s['ratio_min']:.2f}, share >= {s['target']}:"
              f" {s['share_at_target']:.3f}; fusion {s['seconds_median']:.2f} s median, {s['seconds_max']:.2f} s max")
    for m, o in r.get("own_left_out_without_intruder", {}).items():
        print(f"  {m:5s} own photos left out of the sets without an intruder: {o['own_left_out']} of {o['own']}")
    lo = r.get("leave_one_out")
    if lo:
        _print_loo(lo)
    for m, o in r.get("outliers", {}).items():
        print(f"outliers {m}: another person's photo left out in {o['intruder_left_out']:.3f} of sets;"
              f" own photos left out {o['own_left_out']} of {o['own']}")
    ot = r.get("outlier_trials")
    if ot:
        print(f"consensus check alone, {ot['sets']} sets with one intruder each:")
        for regime in ("all", "cross_video"):
            t = ot[regime]
            print(f"  {regime:12s} AUC {t['auc']:.3f}  " + "  ".join(
                f"{k} (score > {v['threshold']:.2f}): intruders out {v['intruder_recall']:.3f}, own out"
                f" {v['false_rejection']:.3f}" for k, v in t.items() if k != "auc"))
    t = r.get("timing")
    if t:
        print(f"time to merge {t['photos']} photos ({t['person']}) from files: "
              + ", ".join(f"{m} {v:.2f} s" for m, v in t["seconds"].items()))
    return 0


def _print_loo(lo: dict) -> None:
    print(f"leave-one-out on {lo['held_out']} held-out photos with |yaw| >= {lo['non_frontal_deg']}:")
    for m in ("3d", "warp", "warp_view"):
        s = lo[m]
        print(f"  {m:5s} photometric {s['photometric_mean']:.2f} mean / {s['photometric_median']:.2f} median grey"
              f" levels; re-detected landmarks NME {s['landmark_nme_mean']:.4f}")
    print(f"  3d below warp on {lo['3d_better_share']:.3f} of them, below warp_view (the warp with the same"
          f" view weights) on {lo['3d_better_than_warp_view_share']:.3f}")
