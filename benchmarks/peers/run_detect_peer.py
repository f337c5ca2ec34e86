"""Boxes and scores of a peer detector on a folder of images, for benchmarks/detector_peers_ap.py.

Run inside the peer's environment (benchmarks/peers/setup_peers.sh): opencv (Haar, opencv-python-headless 4.x) or dlib (HOG).
    python run_detect_peer.py --method haar|hog --images DIR --out FILE.json
Scores: Haar, the cascade's last-stage weight (detectMultiScale3 with reject levels); HOG, dlib's SVM score
(detector.run with one upsampling and threshold -0.5). Boxes: [x1, y1, x2, y2] in the peer's own convention.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=["haar", "hog"], required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = {}
    if args.method == "haar":
        import cv2

        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    else:
        import dlib

        hog = dlib.get_frontal_face_detector()
    for p in sorted(Path(args.images).glob("*.png")):
        dets = []
        if args.method == "haar":
            grey = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2GRAY)
            rects, _, weights = cascade.detectMultiScale3(grey, scaleFactor=1.1, minNeighbors=3, minSize=(12, 12),
                                                         outputRejectLevels=True)
            for (x, y, w, h), s in zip(rects, weights):
                dets.append([float(x), float(y), float(x + w - 1), float(y + h - 1), float(s)])
        else:
            rects, scores, _ = hog.run(dlib.load_rgb_image(str(p)), 1, -0.5)
            for r, s in zip(rects, scores):
                dets.append([float(r.left()), float(r.top()), float(r.right()), float(r.bottom()), float(s)])
        out[p.name] = dets
    Path(args.out).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
