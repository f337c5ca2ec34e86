"""Make docs/images/profiling_samples.jpg: face profiling of the packaged public-domain sample photo.

    python scripts/profiling_samples.py [--out docs/images/profiling_samples.jpg]

The 68 points come from the shipped landmark model (the photo has no labels); the face is turned to a row of
yaws (top: the views; bottom: the same views with the points, green the 2D 300-W convention, red the 3D
convention's jaw where it differs).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from facealign import FaceAligner
from facealign.data.landmark_crops import face_box
from facealign.samples import sample_path
from facealign.training.profiling.render import Profiler

YAWS = (-90.0, -60.0, -30.0, None, 30.0, 60.0, 90.0)  # None: the photo itself
PITCH = {-90.0: 0.0, -60.0: 10.0, -30.0: -10.0, 30.0: 10.0, 60.0: -10.0, 90.0: 0.0}
TILE = 180


def crop_square(image: np.ndarray, centre: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """(TILE x TILE crop around ``centre`` of ``side`` pixels, transform 2x3)."""
    k = TILE / side
    m = np.array([[k, 0, TILE / 2 - k * centre[0]], [0, k, TILE / 2 - k * centre[1]]])
    return cv2.warpAffine(image, m, (TILE, TILE), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT101), m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("docs/images/profiling_samples.jpg"))
    a = ap.parse_args()
    image = cv2.imread(str(sample_path()))
    face = FaceAligner().detect(image)[0]
    pts = np.asarray(face.landmarks, dtype=np.float64)
    # work in a region of twice the face around it (like the 300-W crops the training views come from)
    box = face_box(pts)
    side = 2.2 * float(max(box[2] - box[0], box[3] - box[1]))
    centre = (box[:2] + box[2:]) / 2
    x0, y0 = np.maximum(np.floor(centre - side / 2), 0).astype(int)
    x1 = min(int(np.ceil(centre[0] + side / 2)), image.shape[1])
    y1 = min(int(np.ceil(centre[1] + side / 2)), image.shape[0])
    region = image[y0:y1, x0:x1].copy()
    pts = pts - [x0, y0]
    prof = Profiler()
    src = prof.prepare((region.shape[1], region.shape[0]), pts)
    top, bottom = [], []
    for yaw in YAWS:
        if yaw is None:
            img, p2, p3 = region, pts, None
        else:
            v = prof.render(region, src, yaw, PITCH[yaw])
            img, p2, p3 = v.image, v.points2d, v.points3d
        tile, m = crop_square(img, (np.array([0, 0]) + np.array(region.shape[1::-1])) / 2, side)
        top.append(tile)
        marked = tile.copy()
        if p3 is not None:
            q3 = p3[:17, :2] @ m[:, :2].T + m[:, 2]
            for (x, y), d in zip(q3, np.linalg.norm(p3[:17, :2] - p2[:17], axis=1)):
                if d > 1.0:
                    cv2.circle(marked, (int(round(x)), int(round(y))), 2, (0, 0, 255), -1, cv2.LINE_AA)
        for x, y in p2 @ m[:, :2].T + m[:, 2]:
            cv2.circle(marked, (int(round(x)), int(round(y))), 2, (0, 255, 0), -1, cv2.LINE_AA)
        label = "photo" if yaw is None else f"yaw {yaw:+.0f}"
        cv2.putText(marked, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        bottom.append(marked)
    sheet = np.vstack([np.hstack(top), np.hstack(bottom)])
    a.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(a.out), sheet, [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {a.out} ({sheet.shape[1]} x {sheet.shape[0]})")


if __name__ == "__main__":
    main()
