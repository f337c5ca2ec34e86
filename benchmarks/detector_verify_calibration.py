"""Calibrate the landmark check (FaceAligner ``verify``) and the detector threshold on real faces made small.

    python benchmarks/detector_verify_calibration.py [--faces 1500] [--negatives 200] [--out DIR]

Positives: labelled training faces (ytf68/train, MTFL train.txt; never the validation sets or the wild photos),
each photo shrunk so its face is 12-96 px wide (INTER_AREA, or a Gaussian blur then nearest for a softer look),
JPEG-compressed at quality 35-90 and framed by its own mirrored border. The detector runs at a low threshold and the
landmark network without the check; the detection matching the labelled face (IoU >= 0.4 with the tight 68-point
box) gives (face width, detector score, mean landmark confidence). Negatives: face-free 640x480 mosaics of
training background patches; every detection there is false. Writes samples.json and prints, per face-width bin,
the share of found faces and the low quantiles of their landmark confidence, and for candidate rules the recall and
the false detections per face-free image. Also rendered hard negatives (text, captions, badges, patterns on
face-free mosaics, as benchmarks/detector_hard_negatives.py makes them but from another seed) and, per detection,
the mean confidence of its least sure points (facealign.pipeline.weak_points_confidence): the table of the
weak-points rule (WEAK_RATIO x verify) against real faces, mosaics and hard negatives.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from facealign import paths
from facealign.alignment.boxes import iou_matrix
from facealign.alignment.points import tight_box
from facealign.data.backgrounds import background_patch
from facealign.data.face_crops import iter_labelled
from facealign.pipeline import FULL_CHECK_WIDTH, WEAK_POINTS, weak_points_confidence

from detector_hard_negatives import hard_images

SOURCES = ("ytf68/train", "mtfl:train.txt")
HARD_SEED = 5  # not detector_hard_negatives.py's seed: that benchmark stays an independent check
WIDTHS = (12, 14, 16, 18, 20, 24, 28, 32, 40, 48, 64, 96)
BINS = ((10, 16), (16, 20), (20, 24), (24, 32), (32, 40), (40, 64), (64, 1000))


def small_face(rng, img: np.ndarray, box: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo shrunk so the face box is ``width`` px wide, degraded like a real small face; its box."""
    f = width / max(1.0, box[2] - box[0])
    h, w = img.shape[:2]
    nw, nh = max(8, round(w * f)), max(8, round(h * f))
    if rng.random() < 0.5:
        out = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    else:
        sigma = 0.6 / f
        out = cv2.resize(cv2.GaussianBlur(img, (0, 0), sigma), (nw, nh), interpolation=cv2.INTER_NEAREST)
    ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 91))])
    out = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    fx, fy = nw / w, nh / h
    b = (box + 0.5) * [fx, fy, fx, fy] - 0.5
    pad = max(32, int(2 * width))
    out = cv2.copyMakeBorder(out, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    return out, b + pad


def mosaics(rng, data_root: Path, n: int) -> list[np.ndarray]:
    """``n`` face-free 640x480 mosaics of training background patches."""
    patches = []
    for src in SOURCES:
        for path, pts68, _ in iter_labelled(data_root, src):
            if rng.random() > 0.3:
                continue
            img = cv2.imread(str(path))
            p = None if img is None else background_patch(img, tight_box(pts68))
            if p is not None:
                patches.append(p)
    out = []
    for _ in range(n):
        canvas = np.zeros((480, 640, 3), np.uint8)
        k = int(rng.integers(1, 5))
        xs, ys = np.linspace(0, 640, k + 1).astype(int), np.linspace(0, 480, k + 1).astype(int)
        for i in range(k):
            for j in range(k):
                p = patches[int(rng.integers(len(patches)))]
                canvas[ys[i]:ys[i + 1], xs[j]:xs[j + 1]] = cv2.resize(p, (xs[j + 1] - xs[j], ys[i + 1] - ys[i]))
        out.append(canvas)
    return out


def collect(args) -> dict:
    from facealign.pipeline import FaceAligner
    from facealign.runtime.session import enable_shared_pool

    enable_shared_pool(args.threads)
    fa = FaceAligner(det_threshold=0.05, verify=0.0, threads=args.threads)
    rng = np.random.default_rng(0)
    data_root = args.data_root or paths.data_root()
    items = [(p, pts) for src in SOURCES for p, pts, _ in iter_labelled(data_root, src)]
    pick = rng.permutation(len(items))[: args.faces]
    pos = []
    for i in pick:
        path, pts = items[i]
        img = cv2.imread(str(path))
        if img is None:
            continue
        width = float(WIDTHS[int(rng.integers(len(WIDTHS)))])
        im, box = small_face(rng, img, tight_box(pts), width)
        faces = fa.detect(im)
        best = (0.0, 0.0, 0.0)
        if faces:
            iou = iou_matrix(np.array([f.found_box for f in faces]), box[None])[:, 0]
            for f, o in zip(faces, iou):
                if o >= 0.4 and f.score > best[0]:
                    best = (f.score, float(f.landmark_scores.mean()), weak_points_confidence(f.landmark_scores))
        pos.append([width, *best])

    def detections(images) -> list:
        return [[k, float(f.found_box[2] - f.found_box[0]), f.score, float(f.landmark_scores.mean()),
                 weak_points_confidence(f.landmark_scores)] for k, im in enumerate(images) for f in fa.detect(im)]

    neg = detections(mosaics(rng, data_root, args.negatives))
    hard = detections(hard_images(args.hard, seed=HARD_SEED)) if args.hard else []
    return {"positives": pos, "negatives": neg, "negative_images": args.negatives, "hard": hard,
            "hard_images": args.hard}


def verify_rule(width: np.ndarray, verify: float, low: float, w_low: float, w_high: float) -> np.ndarray:
    """Landmark threshold by face width: ``verify`` from ``w_high`` px, ``low * verify`` up to ``w_low``, linear
    in between (the pipeline's rule has the same shape)."""
    t = np.clip((width - w_low) / max(1e-9, w_high - w_low), 0.0, 1.0)
    return verify * (low + (1 - low) * t)


def report(doc: dict) -> None:
    pos = _with_weak(np.array(doc["positives"]), 3)
    neg = _with_weak(np.array(doc["negatives"]), 4)
    n_neg = doc["negative_images"]
    print(f"{len(pos)} positives, {n_neg} face-free images, {len(neg)} detections on them (threshold 0.05)")
    print("| width px | faces | found det>=0.65 | det>=0.5 | det>=0.4 | landmark conf. q01 / q05 / q50 of found (det>=0.4) |")
    print("|---|---|---|---|---|---|")
    for lo, hi in BINS:
        sel = (pos[:, 0] >= lo) & (pos[:, 0] < hi)
        p = pos[sel]
        f = p[p[:, 1] >= 0.4]
        q = np.quantile(f[:, 2], [0.01, 0.05, 0.5]) if len(f) else [np.nan] * 3
        print(f"| {lo}-{hi} | {len(p)} | {np.mean(p[:, 1] >= 0.65):.3f} | {np.mean(p[:, 1] >= 0.5):.3f} | "
              f"{np.mean(p[:, 1] >= 0.4):.3f} | {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f} |")
    nq = np.quantile(neg[:, 3], [0.5, 0.9, 0.99]) if len(neg) else [np.nan] * 3
    print(f"negatives' landmark confidence q50 / q90 / q99: {nq[0]:.2f} / {nq[1]:.2f} / {nq[2]:.2f}")
    print("| det thr | rule (verify, low, w_low, w_high) | recall 12-24 px | recall 24-40 | recall 40+ | false / face-free image |")
    print("|---|---|---|---|---|---|")
    for thr in (0.65, 0.5, 0.4, 0.3):
        for rule in ((0.4, 0.5, 8, 40), (0.4, 0.5, 24, 40), (0.4, 0.75, 24, 40), (0.4, 1.0, 24, 40), (0.45, 0.5, 24, 40)):
            ok = (pos[:, 1] >= thr) & (pos[:, 2] >= verify_rule(pos[:, 0], *rule))
            fp = (neg[:, 2] >= thr) & (neg[:, 3] >= verify_rule(neg[:, 1], *rule))
            r = [ok[(pos[:, 0] >= a) & (pos[:, 0] < b)].mean() for a, b in ((12, 24), (24, 40), (40, 1000))]
            print(f"| {thr} | {rule} | {r[0]:.3f} | {r[1]:.3f} | {r[2]:.3f} | {fp.sum() / n_neg:.3f} |")

    hard = _with_weak(np.array(doc.get("hard", [])), 4)
    if not len(hard):
        return  # samples of an older run: no hard negatives
    n_hard = doc["hard_images"]
    print(f"\nWeak-points rule on top of the rule (0.4, 0.5, 8, 40): under {FULL_CHECK_WIDTH:g} px, the mean confidence "
          f"of the {WEAK_POINTS} least sure points >= ratio x 0.4; {len(hard)} detections on {n_hard} hard-negative "
          "mosaics")
    print("| det thr | ratio | recall 12-16 px | 16-24 | 24-40 | 40+ | false / face-free image | false / hard-negative image |")
    print("|---|---|---|---|---|---|---|---|")
    for thr in (0.65, 0.5):
        for ratio in (0.0, 0.25, 0.375, 0.5, 0.625):
            def kept(a, w_col, s_col):
                return ((a[:, s_col] >= thr) & (a[:, s_col + 1] >= verify_rule(a[:, w_col], 0.4, 0.5, 8, FULL_CHECK_WIDTH))
                        & ((a[:, w_col] >= FULL_CHECK_WIDTH) | (a[:, s_col + 2] >= ratio * 0.4)))
            ok = kept(pos, 0, 1)
            r = [ok[(pos[:, 0] >= a) & (pos[:, 0] < b)].mean() for a, b in ((12, 16), (16, 24), (24, 40), (40, 1000))]
            print(f"| {thr} | {ratio} | {r[0]:.3f} | {r[1]:.3f} | {r[2]:.3f} | {r[3]:.3f} | "
                  f"{kept(neg, 1, 2).sum() / n_neg:.3f} | {kept(hard, 1, 2).sum() / n_hard:.3f} |")


def _with_weak(a: np.ndarray, cols: int) -> np.ndarray:
    """Rows of an older samples file lack the weak-point column: pad it with 1 (the rule then never drops)."""
    a = a.reshape(-1, a.shape[-1] if a.ndim == 2 and a.size else cols)
    return np.concatenate([a, np.ones((len(a), 1))], 1) if a.shape[1] == cols else a


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=1500)
    ap.add_argument("--negatives", type=int, default=200)
    ap.add_argument("--hard", type=int, default=100, help="hard-negative mosaics (0: none)")
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("detector_verify_calibration"))
    ap.add_argument("--report-only", action="store_true", help="re-read OUT/samples.json")
    args = ap.parse_args()
    path = args.out / "samples.json"
    if not args.report_only:
        doc = collect(args)
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
    report(json.loads(path.read_text()))


if __name__ == "__main__":
    main()
