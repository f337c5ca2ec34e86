"""Peer runner: MediaPipe face mesh 0.10.21 (legacy solutions API, 478 vertices with iris refinement) mapped to
the 68 iBUG points (mediapipe_map.py).

Runs inside its own venv (benchmarks/peers/setup_peers.sh: mediapipe==0.10.21, numpy<2, opencv-python-headless).

    python run_mediapipe.py JOBS.json OUT.json [--mapping known|fitted]

JOBS: {"mode": "detect" | "box", "jobs": [{"image": path, "boxes": [[x1, y1, x2, y2], ...]}]}
  detect: the mesh's own face detector on the whole image (up to 10 faces); box: MediaPipe takes no box, so the
  image is cropped to a square of twice the box's larger side around the box centre (zero padded) and the mesh
  runs on the crop; the face nearest the crop centre is kept. (A crop, not a box: its detector can still miss.)
OUT: {"method", "mode", "results": [{"image", "faces": [{"landmarks": 68 x [x, y] | null, "mesh": 478 x [x, y]}]}]}
Mesh coordinates are normalised to the image edges (0 = left edge, 1 = right edge); pixel centres are
x * width - 0.5 in the 0-based pixel-centre convention, which is what we write.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mediapipe_map import to68  # noqa: E402

CROP_FACTOR = 2.0


def mesh_points(result, w: int, h: int) -> list[np.ndarray]:
    out = []
    for f in result.multi_face_landmarks or []:
        out.append(np.array([[p.x * w - 0.5, p.y * h - 0.5] for p in f.landmark]))
    return out


def main(argv: list[str]) -> int:
    mapping = "known"
    if "--mapping" in argv:
        i = argv.index("--mapping")
        mapping = argv[i + 1]
        argv = argv[:i] + argv[i + 2 :]
    jobs_doc = json.loads(Path(argv[0]).read_text())
    mode = jobs_doc.get("mode", "detect")
    mesh = mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=10 if mode == "detect" else 3, refine_landmarks=True,
        min_detection_confidence=0.5,
    )
    results = []
    t0 = time.time()
    for job in jobs_doc["jobs"]:
        img = cv2.imread(job["image"], cv2.IMREAD_COLOR)
        if img is None:
            results.append({"image": job["image"], "error": "unreadable", "faces": []})
            continue
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        faces = []
        if mode == "detect":
            for m in mesh_points(mesh.process(rgb), rgb.shape[1], rgb.shape[0]):
                faces.append({"landmarks": to68(m, mapping).round(2).tolist(), "mesh": m.round(2).tolist()})
        else:
            for b in job["boxes"]:
                x1, y1, x2, y2 = b
                side = int(round(CROP_FACTOR * max(x2 - x1, y2 - y1)))
                ox = int(round((x1 + x2) / 2 - side / 2))
                oy = int(round((y1 + y2) / 2 - side / 2))
                pad = side  # pad generously so any crop window is inside the padded image
                big = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
                crop = np.ascontiguousarray(big[oy + pad : oy + pad + side, ox + pad : ox + pad + side])
                found = mesh_points(mesh.process(crop), side, side)
                if not found:
                    faces.append({"landmarks": None, "mesh": None})
                    continue
                c = np.array([(side - 1) / 2, (side - 1) / 2])
                m = min(found, key=lambda p: float(np.linalg.norm(p.mean(0) - c))) + np.array([ox, oy])
                faces.append({"landmarks": to68(m, mapping).round(2).tolist(), "mesh": m.round(2).tolist()})
        results.append({"image": job["image"], "faces": faces})
    out = {"method": f"mediapipe-facemesh-{mapping}", "mode": mode, "seconds": time.time() - t0, "results": results}
    Path(argv[1]).write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
