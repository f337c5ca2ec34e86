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

import numpy as np

from facealign.data.mtfl import read_mtfl
from facealign.evaluation import pose_eval as pe
from facealign.face3d import camera as cam
from facealign.paths import data_path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("pose", help="Evaluate the 3D fit (synthetic ground truth, MTFL pose classes).",
                              description=__doc__.splitlines()[0])
    p.add_argument("--synthetic", type=int, default=500, metavar="N", help="faces per camera and noise level (0: skip)")
    p.add_argument("--noise", default="0,0.02", help="point noise levels as fractions of the face size")
    p.add_argument("--camera", default=f"{cam.WEAK},{cam.PERSPECTIVE}", help="camera models to test")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mtfl", default="auto", help="MTFL list (default ../shared/data/mtfl/val.txt; 'none' skips)")
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


def _mtfl_landmarks(image: np.ndarray, p5: np.ndarray, aligner) -> np.ndarray | None:
    """68 points of the face with 5 labelled points, from the pipeline's landmark model (None if unavailable)."""
    from facealign.alignment.crop import box_from_five, roll_from_five

    box = box_from_five(p5)
    # the eye line gives the roll so the landmark crop comes out upright, as in the pipeline
    out = aligner.landmarks_for_boxes(image, box[None], np.array([roll_from_five(p5)]))
    first = out[0]
    lm = getattr(first, "landmarks", first)
    return None if lm is None else np.asarray(lm, dtype=np.float64).reshape(68, 2)


def evaluate_mtfl(path: Path, landmarks: str, frontal: float, profile: float) -> dict:
    """Confusion table of MTFL pose labels against the fitted yaw's class."""
    from PIL import Image

    from facealign.face3d.fit import Face3DFitter

    fitter = Face3DFitter()
    aligner = None
    if landmarks == "pipeline":
        try:
            from facealign.pipeline import FaceAligner

            aligner = FaceAligner(threads=1)
        except Exception as e:  # the landmark model may not exist yet
            sys.stderr.write(f"facealign eval pose: no landmark model ({e}); using 5-point fits\n")
    labels, preds, yaws = [], [], []
    for sample in read_mtfl(path):
        img_path, p5, label = sample.image, sample.points, sample.attributes["pose"]
        if aligner is not None:
            import cv2

            image = cv2.imread(str(img_path))
            if image is None:
                continue
            lm = _mtfl_landmarks(image, p5, aligner)
            fit = fitter.fit(lm, (image.shape[1], image.shape[0]))
        else:
            with Image.open(img_path) as im:
                size = im.size
            fit = fitter.fit_five(p5, size)
        from facealign.face3d.pose import angles_from_rotation

        yaw = angles_from_rotation(fit.rotation)[0]
        labels.append(label)
        yaws.append(yaw)
        preds.append(pe.yaw_class(yaw, frontal, profile))
    m = pe.confusion(labels, preds)
    yaws_a, labels_a = np.array(yaws), np.array(labels)
    side_ok = ((labels_a < 3) & (yaws_a < 0)) | ((labels_a > 3) & (yaws_a > 0))
    return {
        "list": str(path),
        "landmarks": "68 (pipeline)" if aligner is not None else "5 (labelled, pose-only fit)",
        "n": len(labels),
        "confusion": m.tolist(),
        "accuracy": float(np.trace(m) / max(m.sum(), 1)),
        "side_accuracy": float(side_ok[labels_a != 3].mean()) if (labels_a != 3).any() else float("nan"),
        "mean_yaw_per_class": [float(yaws_a[labels_a == c].mean()) if (labels_a == c).any() else float("nan")
                               for c in range(1, 6)],
        "median_yaw_per_class": [float(np.median(yaws_a[labels_a == c])) if (labels_a == c).any() else float("nan")
                                 for c in range(1, 6)],
        "thresholds": [frontal, profile],
    }


def _print_mtfl(r: dict) -> None:
    print(f"\nMTFL {r['list']}: {r['n']} faces, landmarks: {r['landmarks']}; classes by |yaw| < {r['thresholds'][0]}"
          f" frontal, >= {r['thresholds'][1]} profile; 'left' = negative yaw (face towards image left)")
    names = [c.replace(" profile", " prof") for c in pe.YAW_CLASSES]
    print(f"{'label/fit':>14s} " + " ".join(f"{n:>10s}" for n in names) + f" {'median yaw':>11s}")
    for i, row in enumerate(r["confusion"]):
        print(f"{names[i]:>14s} " + " ".join(f"{v:10d}" for v in row) + f" {r['median_yaw_per_class'][i]:11.1f}")
    print(f"accuracy {r['accuracy']:.3f}; left/right sign agreement on non-frontal labels {r['side_accuracy']:.3f}")


def run(args: argparse.Namespace) -> int:
    out: dict = {}
    if args.synthetic > 0:
        noises = tuple(float(x) for x in args.noise.split(","))
        cameras = tuple(x.strip() for x in args.camera.split(","))
        gen = pe.SyntheticFaces()
        print(f"synthetic: {args.synthetic} faces per row, yaw +-90, pitch +-45, roll +-45, "
              f"{'full ICT model' if gen.full_model else 'compact model (shared data absent)'}")
        rows = pe.evaluate_synthetic(args.synthetic, noises, cameras, args.seed, generator=gen)
        _print_rows(rows)
        out["synthetic"] = rows
    mtfl = data_path("mtfl/val.txt") if args.mtfl == "auto" else None if args.mtfl == "none" else Path(args.mtfl)
    if mtfl is not None:
        if mtfl.exists():
            out["mtfl"] = evaluate_mtfl(mtfl, args.landmarks, args.frontal, args.profile)
            _print_mtfl(out["mtfl"])
        elif args.mtfl != "auto":
            sys.stderr.write(f"facealign eval pose: {mtfl} not found\n")
            return 1
        else:
            print(f"\nMTFL: {mtfl} not found, skipped")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0
