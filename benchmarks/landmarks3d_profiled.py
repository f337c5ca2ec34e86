"""Both point conventions and the head pose on the synthetic large-pose set (face-profiled AFW views), per yaw bin.

    python benchmarks/landmarks3d_profiled.py --model stfan-lmk-112 --model runs/landmarks-3d/best.onnx
        [--data ~/.cache/facealign/profiling/v1/300w_afw] [--no-tta] [--limit N]

Each view is run from its ground-truth box (the tight box of its 2D points) through the API's
``landmarks_for_boxes`` and ``fit3d`` (what `facealign align --boxes FILE --3d` does). Reported per model and
route, NME normalised by the box (sqrt(w h) of the ground truth's tight box, as AFLW2000-3D is scored):
- ``2d``: ``landmarks`` against the view's 2D points (300-W convention);
- ``3d``: the x, y of ``landmarks3d`` against the view's 3D points (the semantic vertices, hidden or not);
- pose: mean absolute yaw / pitch / roll error (degrees) of ``pose`` against the view's rendered pose.
Route ``fit 2D points`` makes ``landmarks3d`` and the pose from the 2D points (models without the 3D head, and
the same model with its 3D points ignored); ``3D head`` is what fit3d does with a 3D-head model (the network's
3D-convention x, y; pose from the fit to the 2D points); ``fit 3D head`` fits the model to the 3D points
(``convention="3d"``) and reports its projection and pose.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from facealign.alignment.points import tight_box
from facealign.data.profiled import read_profiled
from facealign.evaluation.metrics import nme
from facealign.evaluation.pose_eval import angle_diff
from facealign.face3d.pose import pose_from_rotation
from facealign.paths import cache_dir
from facealign.pipeline import AlignerOptions, build_aligner

BINS = [(0, 30), (30, 60), (60, 75), (75, 91)]


def pose_errors(pose, truth: tuple[float, float, float]) -> list[float]:
    """Absolute (yaw, pitch, roll) errors in degrees."""
    return [angle_diff(pose.yaw, truth[0]), angle_diff(pose.pitch, truth[1]), angle_diff(pose.roll, truth[2])]


def run(model: str, samples: list, tta: bool) -> dict[str, np.ndarray]:
    """Per view: yaw, 2D NME, and per route the 3D NME and the pose errors."""
    fa = build_aligner(AlignerOptions(landmarks_model=model, tta=tta, shared_pool=False))
    rows: dict[str, list] = {"yaw": [], "2d": []}
    for s in tqdm(samples, desc=Path(model).name, leave=False):
        img = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        (f,) = fa.landmarks_for_boxes(img, tight_box(s.points)[None])
        rows["yaw"].append(abs(s.attributes["yaw"]))
        rows["2d"].append(nme(f.landmarks, s.points, "box"))
        gt3 = s.attributes["points3d"][:, :2]
        truth = (s.attributes["yaw"], s.attributes["pitch"], s.attributes["roll"])
        routes = {"fit 2D points": None}
        if f.landmarks3d_xy is not None:
            routes["3D head"] = f.landmarks3d_xy
            fit = fa.fitter.fit(f.landmarks3d_xy, (img.shape[1], img.shape[0]), convention="3d")
            rows.setdefault("fit 3D head 3d", []).append(nme(fit.landmarks3d[:, :2], gt3, "box"))
            rows.setdefault("fit 3D head pose", []).append(pose_errors(pose_from_rotation(fit.rotation), truth))
        for route, xy in routes.items():
            f.landmarks3d_xy = xy
            fa.fit3d(img, [f])
            rows.setdefault(route + " 3d", []).append(nme(f.landmarks3d[:, :2], gt3, "box"))
            rows.setdefault(route + " pose", []).append(pose_errors(f.pose, truth))
    return {k: np.asarray(v) for k, v in rows.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", required=True, help="registered name or ONNX file (repeatable)")
    ap.add_argument("--data", type=Path, default=cache_dir("profiling", "v1", "300w_afw"))
    ap.add_argument("--no-tta", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    samples = read_profiled(a.data)
    if not samples:
        raise SystemExit(f"no face-profiled views in {a.data} (python -m facealign.training.profiling.build)")
    if a.limit:
        samples = samples[: a.limit]
    print(f"{len(samples)} views of {a.data}; box NME in %, pose MAE in degrees (yaw / pitch / roll)\n")
    bins = " | ".join(f"\\|yaw\\| {lo}-{min(hi, 90)}" for lo, hi in BINS)
    print(f"| model | route | measure | all | {bins} |")
    print("|" + "---|" * (4 + len(BINS)))
    for model in a.model:
        r = run(model, samples, not a.no_tta)
        yaw = r["yaw"]
        sel = [(yaw >= lo) & (yaw < hi) for lo, hi in BINS]

        def cells(v: np.ndarray, fmt) -> str:
            return " | ".join(fmt(v[m]) if m.any() else "-" for m in [np.ones(len(v), bool)] + sel)

        pct = lambda v: f"{100 * v.mean():.2f}"  # noqa: E731
        deg = lambda v: " / ".join(f"{x:.1f}" for x in v.mean(0))  # noqa: E731
        print(f"| {model} | - | 2D points | {cells(r['2d'], pct)} |")
        for route in ("fit 2D points", "3D head", "fit 3D head"):
            if route + " 3d" in r:
                print(f"| {model} | {route} | landmarks3d x, y | {cells(r[route + ' 3d'], pct)} |")
                print(f"| {model} | {route} | pose | {cells(r[route + ' pose'], deg)} |")


if __name__ == "__main__":
    main()
