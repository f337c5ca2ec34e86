"""`facealign eval detector`: recall at <= 0.05 false detections per face-free image, scene AP@0.5, latency.

    facealign eval detector [--model PATH.onnx] [--det-size 640] [--draw DIR]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("detector", help="Recall / false detections / AP / latency of the face detector.",
                              description=__doc__)
    p.add_argument("--model", default=None, help="an ONNX file (default: the shipped ssdlite-det)")
    p.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--cache-dir", type=Path, default=Path("/work/cache/detector"))
    p.add_argument("--det-size", type=int, default=640)
    p.add_argument("--fppi", type=float, default=0.05)
    p.add_argument("--limit", type=int, default=0, help="only the first N images of each labelled set")
    p.add_argument("--scenes", type=int, default=300)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--verify", type=float, default=0.0, metavar="T",
                   help="evaluate what `facealign align` runs: detections followed by the landmark network's check"
                   " (mean landmark confidence >= T, e.g. 0.4 as align); latency then includes the landmarks")
    p.add_argument("--draw", type=Path, default=None, help="also draw detections on the wild photos into DIR")
    p.add_argument("--out", type=Path, default=None, help="write metrics.json here")
    p.set_defaults(func=run)


def draw_wild(det, data_root: Path, out: Path, thr: float) -> None:
    """Detections at ``thr`` drawn on every wild photo (for checking by eye; the photos have no labels)."""
    import cv2

    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((data_root / "wild").glob("*.jpg")):
        img = cv2.imread(str(path))
        faces = [f for f in det.detect(img) if f.score >= thr]
        for f in faces:
            b = f.box.round().astype(int)
            cv2.rectangle(img, (b[0], b[1]), (b[2], b[3]), (0, 255, 0), 1)
            for q in f.landmarks5:
                cv2.circle(img, (int(round(q[0])), int(round(q[1]))), 1, (0, 0, 255), -1)
        cv2.imwrite(str(out / (path.stem + ".png")), img)
        print(f"{path.name}: {len(faces)} faces")


def run(args: argparse.Namespace) -> int:
    from facealign.detection.ssdlite import SSDLiteDetector
    from facealign.evaluation.detector_eval import evaluate_detector

    det = SSDLiteDetector(det_size=args.det_size, score_threshold=0.05, threads=args.threads, path=args.model)
    if args.verify > 0:
        from facealign.evaluation.detector_eval import VerifiedDetector

        det = VerifiedDetector(det, args.verify, threads=args.threads)
    res = evaluate_detector(det, args.data_root, args.cache_dir, args.fppi, args.limit, args.scenes)
    print(json.dumps(res, indent=2))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "metrics.json").write_text(json.dumps(res, indent=2))
    if args.draw:
        draw_wild(det, args.data_root, args.draw, max(res["threshold_at_fppi"], 0.05))
    return 0
