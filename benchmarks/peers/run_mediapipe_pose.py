"""Peer runner: MediaPipe Pose 0.10.14, the full model (legacy solutions API, model_complexity=1, 33 points),
one person per photo, offline. Runs inside its own virtual environment (the interpreter given to
`facealign eval body --mediapipe-env`); facealign maps its 33 points to the 14 LSP joints
(facealign.evaluation.body_peers).

    python run_mediapipe_pose.py JOBS.json OUT.json

JOBS: {"jobs": [{"image": path}, ...]}
OUT: {"method", "seconds", "results": [{"image", "points": 33 x [x, y, visibility] | null, "error"?}]}
Points are normalised to the image edges by MediaPipe (0 = left edge, 1 = right edge); written as 0-based pixel
centres (x * width - 0.5). ``null``: no person found.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import mediapipe as mp


def main(argv: list[str]) -> int:
    jobs = json.loads(Path(argv[0]).read_text())["jobs"]
    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=False,
                                  min_detection_confidence=0.5)
    results = []
    t0 = time.time()
    for job in jobs:
        img = cv2.imread(job["image"], cv2.IMREAD_COLOR)
        if img is None:
            results.append({"image": job["image"], "points": None, "error": "unreadable"})
            continue
        h, w = img.shape[:2]
        res = pose.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        pts = None
        if res.pose_landmarks is not None:
            pts = [[round(p.x * w - 0.5, 2), round(p.y * h - 0.5, 2), round(p.visibility, 3)]
                   for p in res.pose_landmarks.landmark]
        results.append({"image": job["image"], "points": pts})
    Path(argv[1]).write_text(json.dumps({"method": f"mediapipe {mp.__version__} pose full", "seconds": time.time() - t0,
                                         "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
