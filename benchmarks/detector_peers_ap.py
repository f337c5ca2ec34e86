"""AP of facealign's detector and its peers (OpenCV Haar, dlib HOG) on the same held-out composed scenes.

    python benchmarks/detector_peers_ap.py [--scenes 150] [--out DIR]

Scenes: facealign.evaluation.detector_eval's recipe (val identities only: ytf68/val and MTFL val AFLW faces, 416 px,
faces >= 16 px, smaller ones as ignore regions). The peers draw their boxes by other conventions than our tight
68-point box, so every method is matched by one convention-free rule: a detection finds a face when its centre lies
inside the face's box and its size (sqrt of the area) is within a factor of 2 of the face's; unmatched detections
whose centre is in an ignore region are left out. Ours is also reported with the usual IoU >= 0.5.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from facealign import paths  # noqa: E402

PEERS = paths.peer_envs_dir()  # the peers' virtual environments (benchmarks/peers/setup_peers.sh)


def match_centre(dets: np.ndarray, gt: np.ndarray, ignore: np.ndarray) -> list[tuple[float, int]]:
    """(score, 1 true / 0 false) per detection, by the centre-and-size rule; ignored detections are dropped."""
    out, used = [], np.zeros(len(gt), bool)
    for d in dets[np.argsort(-dets[:, 4])] if len(dets) else []:
        c = (d[:2] + d[2:4]) / 2
        size = np.sqrt(max(d[2] - d[0], 1) * max(d[3] - d[1], 1))
        best = -1
        for j, g in enumerate(gt):
            gs = np.sqrt(max(g[2] - g[0], 1) * max(g[3] - g[1], 1))
            if not used[j] and g[0] <= c[0] <= g[2] and g[1] <= c[1] <= g[3] and 0.5 <= size / gs <= 2.0:
                best = j
                break
        if best >= 0:
            used[best] = True
            out.append((float(d[4]), 1))
        elif any(r[0] <= c[0] <= r[2] and r[1] <= c[1] <= r[3] for r in ignore):
            continue
        else:
            out.append((float(d[4]), 0))
    return out


def average_precision(pairs: list[tuple[float, int]], n_gt: int) -> float:
    if not pairs or n_gt == 0:
        return 0.0
    pairs.sort(key=lambda t: -t[0])
    tp = np.cumsum([t for _, t in pairs])
    fp = np.cumsum([1 - t for _, t in pairs])
    rec, prec = tp / n_gt, tp / np.maximum(tp + fp, 1)
    prec = np.maximum.accumulate(prec[::-1])[::-1]  # all-point interpolation
    r = np.concatenate([[0.0], rec])
    return float(np.sum((r[1:] - r[:-1]) * prec))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", type=int, default=150)
    ap.add_argument("--data-root", type=Path, default=paths.data_root())
    ap.add_argument("--cache-dir", type=Path, default=paths.cache_dir("detector"))
    ap.add_argument("--out", type=Path, default=Path("out/detector_peers"))
    args = ap.parse_args()
    from facealign.detection.ssdlite import SSDLiteDetector
    from facealign.evaluation.detection_metrics import average_precision as ap_iou
    from facealign.evaluation.detection_metrics import match_image
    from facealign.data.face_crops import load_split
    from facealign.data.scenes import SceneParams, compose_scene

    img_dir = args.out / "scenes"
    img_dir.mkdir(parents=True, exist_ok=True)
    faces, negs = load_split("val", args.data_root, args.cache_dir)
    rng = np.random.default_rng(2024)
    truth = {}
    for i in range(args.scenes):
        sc = compose_scene(rng, faces, negs, SceneParams(size=416, min_face=16.0))
        name = f"scene_{i:04d}.png"
        cv2.imwrite(str(img_dir / name), sc.image)
        truth[name] = (np.asarray(sc.boxes).reshape(-1, 4), np.asarray(sc.ignore).reshape(-1, 4))
    n_gt = sum(len(b) for b, _ in truth.values())
    det = SSDLiteDetector(score_threshold=0.05, threads=1)
    results = {"facealign": {}}
    per_iou = []
    for name, (gt, ign) in truth.items():
        fs = det.detect(cv2.imread(str(img_dir / name)))
        d = np.array([[*f.box, f.score] for f in fs]).reshape(-1, 5)
        results["facealign"][name] = d
        per_iou.append(match_image(d[:, :4], d[:, 4], gt, ign))
    peers = {"OpenCV Haar": ("opencv", "haar"), "dlib HOG": ("dlib", "hog")}
    for label, (env, method) in peers.items():
        py = PEERS / env / "bin" / "python"
        if not py.exists():
            print(f"{label}: skipped ({py} missing; run benchmarks/peers/setup_peers.sh {env})")
            continue
        f = args.out / f"{method}.json"
        subprocess.run([str(py), str(REPO / "benchmarks" / "peers" / "run_detect_peer.py"), "--method", method,
                        "--images", str(img_dir), "--out", str(f)], check=True)
        results[label] = {k: np.array(v).reshape(-1, 5) for k, v in json.loads(f.read_text()).items()}
    print(f"{args.scenes} scenes, {n_gt} faces (>= 16 px)")
    print("| method | AP (centre in box, size within 2x) | AP@IoU 0.5 |\n|---|---|---|")
    for label, dets in results.items():
        pairs = [p for name, (gt, ign) in truth.items() for p in match_centre(dets[name], gt, ign)]
        iou = f"{ap_iou(per_iou, n_gt):.3f}" if label == "facealign" else "n/a (other box convention)"
        print(f"| {label} | {average_precision(pairs, n_gt):.3f} | {iou} |")


if __name__ == "__main__":
    sys.exit(main())
