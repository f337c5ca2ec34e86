"""`facealign eval pose`: the 3D fit on synthetic faces with known pose/camera, and on MTFL's AFLW pose classes.

    facealign eval pose                       # synthetic (500 faces per camera and noise level) + MTFL val
    facealign eval pose --synthetic 200 --mtfl none
    facealign eval pose --landmarks pipeline  # MTFL with 68 points from the landmark model (else 5-point fits)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from facealign.face3d import camera as cam


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("pose", help="Evaluate the 3D fit (synthetic ground truth, MTFL pose classes).",
                              description=__doc__.splitlines()[0])
    p.add_argument("--synthetic", type=int, default=500, metavar="N", help="faces per camera and noise level (0: skip)")
    p.add_argument("--noise", default="0,0.02", help="point noise levels as fractions of the face size")
    p.add_argument("--camera", default=f"{cam.WEAK},{cam.PERSPECTIVE}", help="camera models to test")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mtfl", default="auto", help="MTFL list (default: mtfl/val.txt under the data root; 'none' skips)")
    p.add_argument("--landmarks", choices=("five", "pipeline"), default="five",
                   help="MTFL: fit the 5 labelled points (pose only), or 68 points from the landmark model")
    p.add_argument("--frontal", type=float, default=15.0, help="|yaw| below this is 'frontal'")
    p.add_argument("--profile", type=float, default=45.0, help="|yaw| above this is 'profile'")
    p.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    p.set_defaults(func=run)


def _print_rows(rows: list[dict]) -> None:
    print(f"{'camera':17s} {'noise':>5s} {'n':>5s} {'yaw':>6s} {'pitch':>6s} {'roll':>6s} {'rot':>6s}"
          f" {'|yaw|<=75: yaw':>15s} {'pitch':>6s} {'roll':>6s} {'focal':>7s} {'lm3d':>6s}")
    for r in rows:
        focal = f"{r['focal_median']:7.3f}" if "focal_median" in r else f"{'-':>7s}"
        print(f"{r['camera']:17s} {r['noise']:5.2f} {r['n']:5d} {r['yaw']:6.2f} {r['pitch']:6.2f} {r['roll']:6.2f}"
              f" {r['rotation']:6.2f} {r['yaw75']:15.2f} {r['pitch75']:6.2f} {r['roll75']:6.2f} {focal} {r['lm3d']:6.3f}")
    print("(mean absolute errors in degrees; rot: geodesic rotation error; focal: median relative error;"
          " lm3d: mean 3D landmark error / face size)")


def _print_mtfl(r: dict) -> None:
    from facealign.evaluation import pose_eval as pe

    print(f"\nMTFL {r['list']}: {r['n']} faces, landmarks: {r['landmarks']}; classes by |yaw| < {r['thresholds'][0]}"
          f" frontal, >= {r['thresholds'][1]} profile; 'left' = negative yaw (face towards image left)")
    names = [c.replace(" profile", " prof") for c in pe.YAW_CLASSES]
    print(f"{'label/fit':>14s} " + " ".join(f"{n:>10s}" for n in names) + f" {'median yaw':>11s}")
    for i, row in enumerate(r["confusion"]):
        print(f"{names[i]:>14s} " + " ".join(f"{v:10d}" for v in row) + f" {r['median_yaw_per_class'][i]:11.1f}")
    print(f"accuracy {r['accuracy']:.3f}; left/right sign agreement on non-frontal labels {r['side_accuracy']:.3f}")


def run(args: argparse.Namespace) -> int:
    from facealign import paths
    from facealign.evaluation import pose_eval as pe
    from facealign.evaluation.pose_mtfl import evaluate_mtfl

    out: dict = {}
    try:
        noises = tuple(float(x) for x in args.noise.split(","))
    except ValueError:
        sys.stderr.write(f"facealign eval pose: --noise wants numbers like 0,0.02, got {args.noise!r}\n")
        return 2
    if args.synthetic > 0:
        cameras = tuple(x.strip() for x in args.camera.split(","))
        gen = pe.SyntheticFaces()
        print(f"synthetic: {args.synthetic} faces per row, yaw +-90, pitch +-45, roll +-45, "
              f"{'full ICT model' if gen.full_model else 'compact model (shared data absent)'}")
        rows = pe.evaluate_synthetic(args.synthetic, noises, cameras, args.seed, generator=gen)
        _print_rows(rows)
        out["synthetic"] = rows
    auto = args.mtfl == "auto"
    mtfl = paths.data_path("mtfl/val.txt") if auto else None if args.mtfl == "none" else Path(args.mtfl)
    if mtfl is not None:
        if mtfl.exists():
            out["mtfl"] = evaluate_mtfl(mtfl, args.landmarks, args.frontal, args.profile)
            _print_mtfl(out["mtfl"])
        elif not auto:
            sys.stderr.write(f"facealign eval pose: {mtfl} not found\n")
            return 1
        else:
            print(f"\nMTFL: {mtfl} not found, skipped")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0
