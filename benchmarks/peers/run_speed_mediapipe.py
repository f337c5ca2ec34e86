"""MediaPipe 0.10.21 speed runner (run inside the mediapipe peer environment, benchmarks/peers/setup_peers.sh): see speed_common.py for the protocol.

mode "mesh": FaceMesh (static images: its BlazeFace detector runs on every photo, then the 468-point mesh per face,
max 64 faces) + a 5-point similarity warp to a 112x112 crop per face. mode "detect": FaceDetection (short-range
model, its default) only. The models are the ones inside the wheel. BGR -> RGB conversion is timed (MediaPipe needs RGB).
"""
from __future__ import annotations

import cv2
import mediapipe as mp
import numpy as np

import speed_common as sc

# mesh indices of the eye centres (mean of the eye contour corners), nose tip, mouth corners (image left first)
LEFT_EYE, RIGHT_EYE, NOSE, MOUTH_L, MOUTH_R = (33, 133), (362, 263), 1, 61, 291


def main() -> None:
    args = sc.parse_args(("mesh", "detect"))
    sc.pin(args.threads)
    cv2.setNumThreads(args.threads)
    images = {p.name: cv2.imread(str(p), cv2.IMREAD_COLOR) for p in sc.photos(args.photos)}
    if args.mode == "detect":
        det = mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5)

        def pipeline(img):
            r = det.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            return len(r.detections or [])
    else:
        mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=64, refine_landmarks=False)

        def pipeline(img):
            h, w = img.shape[:2]
            r = mesh.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            faces = r.multi_face_landmarks or []
            for f in faces:
                lm = f.landmark
                pt = lambda i: (lm[i].x * w, lm[i].y * h)  # noqa: E731
                p5 = np.array([np.mean([pt(i) for i in LEFT_EYE], 0), np.mean([pt(i) for i in RIGHT_EYE], 0),
                               pt(NOSE), pt(MOUTH_L), pt(MOUTH_R)])
                cv2.warpAffine(img, sc.similarity(p5, sc.ARCFACE5), (112, 112))
            return len(faces)

    sc.emit("mediapipe", mp.__version__, args, sc.measure(images, pipeline, args.runs, args.warmup, args.max_seconds),
            note="FaceMesh static (BlazeFace + mesh) + warp" if args.mode == "mesh" else "FaceDetection short-range")


if __name__ == "__main__":
    main()
