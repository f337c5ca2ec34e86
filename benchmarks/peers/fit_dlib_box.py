"""Fit DLIB_BOX of run_dlib.py: how dlib's HOG box relates to the tight box of the 68 ground-truth points.

Run in the dlib venv: python fit_dlib_box.py FOLDER [FOLDER ...]  (folders of 1-based .pts + images)
Prints S_W, S_H, DX, DY for: side = S_W*w + S_H*h, centre = tight centre + (DX, DY)*side.
"""
from __future__ import annotations

import sys
from pathlib import Path

import dlib
import numpy as np


def read_pts(p: Path) -> np.ndarray:
    t = p.read_text()
    return np.array(t[t.index("{") + 1 : t.rindex("}")].split(), dtype=float).reshape(-1, 2) - 1.0


def main(folders: list[str]) -> None:
    det = dlib.get_frontal_face_detector()
    rows = []
    for folder in folders:
        for pts in sorted(Path(folder).rglob("*.pts")):
            img_path = next((pts.with_suffix(e) for e in (".jpg", ".png") if pts.with_suffix(e).exists()), None)
            if img_path is None:
                continue
            g = read_pts(pts)
            x1, y1 = g.min(0)
            x2, y2 = g.max(0)
            img = dlib.load_rgb_image(str(img_path))
            for r in det(img, 1):
                c = np.array([(r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2])
                if x1 <= c[0] <= x2 and y1 <= c[1] <= y2:
                    rows.append([x2 - x1, y2 - y1, (x1 + x2) / 2, (y1 + y2) / 2, r.right() - r.left(), c[0], c[1]])
    a = np.array(rows)
    w, h, cx, cy, side, dcx, dcy = a.T
    (s_w, s_h), *_ = np.linalg.lstsq(np.stack([w, h], 1), side, rcond=None)
    dx = float(np.median((dcx - cx) / side))
    dy = float(np.median((dcy - cy) / side))
    print(f"n={len(a)}  S_W={s_w:.4f} S_H={s_h:.4f} DX={dx:.4f} DY={dy:.4f}")
    pred = s_w * w + s_h * h
    print(f"side relative error: median {np.median(np.abs(pred - side) / side):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
