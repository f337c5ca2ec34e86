"""Peer runner: dlib's 68-point shape predictor (iBUG 300-W model from face-recognition-models).

Runs inside its own venv (benchmarks/peers/setup_peers.sh); needs only dlib and face_recognition_models.

    python run_dlib.py JOBS.json OUT.json

JOBS: {"mode": "detect" | "box", "jobs": [{"image": path, "boxes": [[x1, y1, x2, y2], ...]}]}
  detect: dlib's HOG detector (upsampled once) finds the faces; box: the given boxes (facealign's tight box of the
  68 points) are converted to dlib's detector-box convention (DLIB_BOX below) and the predictor runs on them.
OUT: {"method", "mode", "results": [{"image", "faces": [{"landmarks": 68 x [x, y] | null, "box": [...]}]}]}
  in box mode one face per input box, in order. Points are dlib's pixel coordinates (0-based pixel centres).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import dlib

# dlib's HOG box from a tight 68-point box (w, h, centre cx, cy), fitted by least squares on 300-W training
# faces (lfpw_train + helen_train) detected by the HOG detector (benchmarks/peers/fit_dlib_box.py):
#   side = S_W * w + S_H * h;  centre = (cx + DX * side, cy + DY * side)
# (n = 1594 faces, median relative side error 3.5%)
DLIB_BOX = {"S_W": 0.6069, "S_H": 0.4502, "DX": 0.0119, "DY": -0.0812}


def model_path() -> str:
    import importlib.util

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("face_recognition_models is not installed in this environment")
    return str(Path(list(spec.submodule_search_locations)[0]) / "models" / "shape_predictor_68_face_landmarks.dat")


def dlib_rect(box: list[float]) -> "dlib.rectangle":
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    side = DLIB_BOX["S_W"] * w + DLIB_BOX["S_H"] * h
    cx = (x1 + x2) / 2 + DLIB_BOX["DX"] * side
    cy = (y1 + y2) / 2 + DLIB_BOX["DY"] * side
    # dlib rectangles are inclusive integer pixel bounds
    return dlib.rectangle(int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(cx + side / 2)), int(round(cy + side / 2)))


def main(argv: list[str]) -> int:
    jobs_doc = json.loads(Path(argv[0]).read_text())
    mode = jobs_doc.get("mode", "detect")
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(model_path())
    results = []
    t0 = time.time()
    for job in jobs_doc["jobs"]:
        try:
            img = dlib.load_rgb_image(job["image"])
        except Exception as e:  # unreadable image: say so and go on
            results.append({"image": job["image"], "error": str(e), "faces": []})
            continue
        if mode == "box":
            rects = [dlib_rect(b) for b in job["boxes"]]
        else:
            rects = list(detector(img, 1))
        faces = []
        for r in rects:
            s = predictor(img, r)
            faces.append({
                "landmarks": [[float(p.x), float(p.y)] for p in s.parts()],
                "box": [r.left(), r.top(), r.right(), r.bottom()],
            })
        results.append({"image": job["image"], "faces": faces})
    out = {"method": "dlib-68", "mode": mode, "seconds": time.time() - t0, "results": results}
    Path(argv[1]).write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
