"""Boxes, scores and time of one peer face detector on photos, each optionally enlarged: for
facealign.evaluation.detector_wild (`facealign eval detector-wild --peers ...`).

Runs inside the peer's own environment (its interpreter is chosen by the caller):
    python run_detect_wild.py JOBS.json OUT.json

JOBS: {"method": "yunet" | "mediapipe" | "hog" | "haar", "model": path (yunet only),
       "jobs": [{"image": path, "scale": factor}]}  (scale > 1: the photo is enlarged by that factor first, bicubic,
       as the caller enlarges it for facealign; bilinear in the
       dlib environment, which has no OpenCV)
OUT: {"method", "settings", "results": [{"image", "scale", "width", "height", "seconds", "boxes": [[x1, y1, x2, y2,
     score], ...]}]}; boxes in the peer's own convention, 0-based pixels of the (enlarged) photo; "seconds" is the
     detector call alone (no decoding, no enlarging).

Settings (each peer as its documentation uses it): YuNet at the photo's own resolution, score >= 0.6, NMS 0.3;
mediapipe 0.10.21 FaceDetection full-range model (model_selection=1), confidence >= 0.5; dlib HOG with one
upsampling on photos up to 2 MP and none above (one upsampling of a 12 MP photo takes minutes), score >= 0;
OpenCV Haar frontalface_default, scaleFactor 1.1, minNeighbors 5, minSize 12.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

HOG_UPSAMPLE_MAX_PIXELS = 2_000_000


def load(path: str, scale: float) -> np.ndarray:
    """The photo as RGB uint8, enlarged by ``scale`` (bicubic) when it is not 1."""
    try:
        import cv2

        img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        if scale != 1.0:
            h, w = img.shape[:2]
            img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
        return img
    except ImportError:  # the dlib environment has no OpenCV: dlib's own reader and bilinear resize (per channel)
        import dlib

        img = dlib.load_rgb_image(path)
        if scale != 1.0:
            h, w = img.shape[:2]
            img = np.stack([dlib.resize_image(np.ascontiguousarray(img[:, :, c]), round(h * scale), round(w * scale))
                            for c in range(3)], -1)
        return img


def make_detector(method: str, model: str | None):
    """A function RGB image -> list of [x1, y1, x2, y2, score], and the settings it uses."""
    if method == "yunet":
        import cv2

        det = cv2.FaceDetectorYN.create(model, "", (320, 320), 0.6, 0.3, 5000)

        def run(rgb):
            det.setInputSize((rgb.shape[1], rgb.shape[0]))
            _, rows = det.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            rows = np.zeros((0, 15)) if rows is None else rows
            return [[r[0], r[1], r[0] + r[2], r[1] + r[3], r[14]] for r in rows]

        return run, {"score_threshold": 0.6, "nms": 0.3, "resolution": "native"}
    if method == "mediapipe":
        import mediapipe as mp

        fd = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)

        def run(rgb):
            h, w = rgb.shape[:2]
            res = fd.process(rgb)
            out = []
            for d in res.detections or []:
                b = d.location_data.relative_bounding_box
                x1, y1 = b.xmin * w, b.ymin * h
                out.append([x1, y1, x1 + b.width * w, y1 + b.height * h, d.score[0]])
            return out

        return run, {"model_selection": 1, "min_detection_confidence": 0.5}
    if method == "hog":
        import dlib

        hog = dlib.get_frontal_face_detector()

        def run(rgb):
            up = 1 if rgb.shape[0] * rgb.shape[1] <= HOG_UPSAMPLE_MAX_PIXELS else 0
            rects, scores, _ = hog.run(rgb, up, 0.0)
            return [[r.left(), r.top(), r.right() + 1, r.bottom() + 1, s] for r, s in zip(rects, scores)]

        return run, {"upsample": f"1 up to {HOG_UPSAMPLE_MAX_PIXELS} pixels, else 0", "threshold": 0.0}
    if method == "haar":
        import cv2

        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

        def run(rgb):
            grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            rects, _, weights = cascade.detectMultiScale3(grey, scaleFactor=1.1, minNeighbors=5, minSize=(12, 12),
                                                         outputRejectLevels=True)
            return [[x, y, x + w, y + h, s] for (x, y, w, h), s in zip(rects, np.ravel(weights))]

        return run, {"scaleFactor": 1.1, "minNeighbors": 5, "minSize": 12}
    raise SystemExit(f"unknown method {method!r}")


def main(argv: list[str]) -> int:
    doc = json.loads(Path(argv[0]).read_text())
    run, settings = make_detector(doc["method"], doc.get("model"))
    results = []
    for job in doc["jobs"]:
        rgb = load(job["image"], float(job.get("scale", 1.0)))
        t0 = time.perf_counter()
        boxes = run(rgb)
        dt = time.perf_counter() - t0
        results.append({"image": job["image"], "scale": job.get("scale", 1.0), "width": int(rgb.shape[1]),
                        "height": int(rgb.shape[0]), "seconds": dt,
                        "boxes": [[float(v) for v in b] for b in boxes]})
    Path(argv[1]).write_text(json.dumps({"method": doc["method"], "settings": settings, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
