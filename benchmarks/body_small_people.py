"""The body stage when the person fills less of the photo: LSP's held-out people (im0801-im1000) placed in a
canvas ``k`` times the photo's width and height (the photo at a fixed random place, the border its edge pixels
repeated), the whole canvas as the person box; PCK@0.2 / PCKh@0.5 and network crops per person for each
number of passes (1 = no refinement). Generated from the validation photos, nothing tuned on it.

    python benchmarks/body_small_people.py [--pad 1 1.5 2] [--passes 1 2 3 4] [--tta]
"""
from __future__ import annotations

import argparse
import copy

import cv2
import numpy as np

from facealign.data.body import read_set
from facealign.evaluation.body_eval import score
from facealign.paths import data_root
from facealign.stages import build_model


def padded(recs, k: float, seed: int = 1):
    """(images, records) with each photo in a canvas k times larger, joints moved with it."""
    rng = np.random.default_rng(seed)
    imgs, out = [], []
    for r in recs:
        img = cv2.imread(str(r.path), cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        hh, ww = int(round(h * k)), int(round(w * k))
        oy, ox = int(rng.integers(0, hh - h + 1)), int(rng.integers(0, ww - w + 1))
        imgs.append(cv2.copyMakeBorder(img, oy, hh - h - oy, ox, ww - w - ox, cv2.BORDER_REPLICATE))
        r2 = copy.copy(r)
        r2.joints = r.joints + np.array([ox, oy])
        out.append(r2)
    return imgs, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pad", type=float, nargs="+", default=[1.0, 1.5, 2.0])
    ap.add_argument("--passes", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--tta", action="store_true")
    args = ap.parse_args()
    recs = read_set("lsp_val", data_root())
    print(f"{'canvas':>6} {'passes':>6} {'PCK@0.2':>8} {'PCKh@0.5':>9} {'crops/person':>12}")
    for k in args.pad:
        imgs, rk = padded(recs, k)
        for passes in args.passes:
            model = build_model(None, "body", threads=1, passes=passes, flip_tta=args.tta)
            pred = np.zeros((len(rk), 14, 2))
            for i, img in enumerate(imgs):
                h, w = img.shape[:2]
                box = np.array([[-0.5, -0.5, w - 0.5, h - 0.5]])
                j, s = model.predict(img, box)
                pred[i] = model.refine(img, j, s, box)[0][0]
            res = score(pred, rk)
            print(f"{k:>6.2f} {passes:>6d} {res['pck@0.2']:>8.3f} {res['pckh@0.5']:>9.3f} "
                  f"{model.crops_run / len(rk):>12.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
