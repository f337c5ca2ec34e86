"""Self-training labels for the detector: our own detector at high resolution + the landmark check label the faces of
unlabelled real images (body/ train splits: LSP, PARSE, Buffy; frames of videos/), and the same images give real
negatives (hands at the wrist joints, clothes and clutter away from every head and every candidate face).

    python scripts/self_label_faces.py [--out CACHE/detector/self_labels_v1.pkl] [--threads 1]

Rules (docs/detection.md, "Training data closer to real scenes"):
- the image is enlarged so its long side is about 1,400 px (small LSP people are 150 px: their faces become
  ~40 px), the detector runs at a low threshold (0.3) and the pipeline's landmark check (verify 0.4) runs on it;
- a face is a label when its detector score is >= 0.8 and its mean landmark confidence >= 0.5 and it is >= 12 px
  wide in the original image; its 68 points are the landmark network's (so the box is the tight box of 68
  points, the training convention) and its 5 points five_from_68;
- a labelled face whose training crop (face box grown by its size on each side) holds another candidate (any
  detection >= 0.3 not labelled, or a body's head joints without a labelled face) is skipped: the crop must not
  carry an unlabelled face into training as background;
- negatives: squares around wrists (hands) and random windows; none may touch a head region (head joints grown)
  or any candidate box (grown by half its size).
Never reads wild/ (the measure). Peers are not used. Output: a pickle {"faces": [FaceRecord], "negs": [uint8
images], "hands": [uint8 images], "stats": {...}}.
"""
from __future__ import annotations

import argparse
import pickle
import time
from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.points import five_from_68, tight_box
from facealign.data.body import read_set
from facealign.data.face_crops import crop_record
from facealign.paths import cache_dir, data_root

LONG_SIDE = 1400
DET_LOW = 0.3
LABEL_SCORE = 0.8
LABEL_CONF = 0.5
MIN_FACE = 12.0
BODY_SETS = ("lsp_train", "parse_train", "buffy_train")
VIDEO_STEP_S = 1.0


def _overlaps(a: np.ndarray, b: np.ndarray) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def _grow(b: np.ndarray, f: float) -> np.ndarray:
    s = max(b[2] - b[0], b[3] - b[1])
    return np.array([b[0] - f * s, b[1] - f * s, b[2] + f * s, b[3] + f * s])


def label_image(fa_low, fa_check, image: np.ndarray):
    """(labelled faces [(pts68, score, conf)], candidate boxes of everything the detector saw) in image pixels."""
    h, w = image.shape[:2]
    k = max(1.0, LONG_SIDE / max(h, w))
    big = cv2.resize(image, (round(w * k), round(h * k)), interpolation=cv2.INTER_CUBIC) if k > 1 else image
    raw = fa_low.detector.detect(big)
    cands = [f.box / k for f in raw]
    if not raw:
        return [], cands
    faces = fa_check.landmarks_for_boxes(big, np.array([f.box for f in raw]))
    out = []
    for f, r in zip(faces, raw):
        conf = float(f.landmark_scores.mean()) if f.landmark_scores is not None else 0.0
        pts = (f.landmarks + 0.5) / k - 0.5
        b = tight_box(pts)
        if r.score >= LABEL_SCORE and conf >= LABEL_CONF and b[2] - b[0] >= MIN_FACE:
            out.append((pts, float(r.score), conf))
    return out, cands


def records_from(image, labels, cands, heads, source):
    faces = []
    boxes = [tight_box(p) for p, _, _ in labels]
    for (pts, _, _), box in zip(labels, boxes):
        crop = _grow(box, 1.0)
        # candidates centred on a labelled face (fragments, duplicates of it) are that face
        others = [c for c in cands if not any(_centre_in(c, _grow(b, 0.25)) for b in boxes)]
        unlabelled_heads = [hb for hb in heads if not any(_overlaps(hb, b) for b in boxes)]
        if any(_overlaps(crop, c) for c in others) or any(_overlaps(crop, hb) for hb in unlabelled_heads):
            continue
        faces.append(crop_record(image, pts, five_from_68(pts), source))
    return faces


def _centre_in(c, b) -> bool:
    x, y = (c[0] + c[2]) / 2, (c[1] + c[3]) / 2
    return b[0] <= x <= b[2] and b[1] <= y <= b[3]


def _iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / max(1e-6, (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def negatives_from(rng, image, blocked, hands_at, n_random=2):
    """Hand squares at ``hands_at`` [(centre, side)] and random windows, none touching ``blocked`` boxes."""
    h, w = image.shape[:2]
    hands, negs = [], []
    for c, side in hands_at:
        side = max(16.0, side)
        b = np.array([c[0] - side / 2, c[1] - side / 2, c[0] + side / 2, c[1] + side / 2])
        b = np.clip(b, 0, [w, h, w, h])
        if b[2] - b[0] < 12 or b[3] - b[1] < 12 or any(_overlaps(b, x) for x in blocked):
            continue
        hands.append(np.ascontiguousarray(image[int(b[1]):int(b[3]), int(b[0]):int(b[2])]))
    for _ in range(n_random * 4):
        if len(negs) >= n_random:
            break
        side = rng.uniform(0.2, 0.6) * min(h, w)
        if side < 24:
            break
        x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
        b = np.array([x0, y0, x0 + side, y0 + side])
        if any(_overlaps(b, x) for x in blocked):
            continue
        negs.append(np.ascontiguousarray(image[int(y0):int(y0 + side), int(x0):int(x0 + side)]))
    return hands, negs


def head_box(joints: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """A generous head region from head_top (13) and neck (12)."""
    if not (mask[12] and mask[13]):
        return None
    top, neck = joints[13], joints[12]
    L = max(4.0, float(np.linalg.norm(top - neck)))
    c = (top + neck) / 2
    return np.array([c[0] - 0.9 * L, c[1] - 0.9 * L, c[0] + 0.9 * L, c[1] + 0.9 * L])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(cache_dir("detector") / "self_labels_v1.pkl"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="only N images per source (smoke)")
    a = ap.parse_args(argv)
    from facealign.pipeline import FaceAligner

    cv2.setNumThreads(1)
    fa_low = FaceAligner(det_threshold=DET_LOW, threads=a.threads, landmark_threads=a.threads)
    fa_check = fa_low
    rng = np.random.default_rng(0)
    root = data_root()
    faces, negs, hands = [], [], []
    stats: dict[str, dict[str, int]] = {}
    t0 = time.time()
    # body images: one labelled person each (others may be visible); their head joints block negatives
    for name in BODY_SETS:
        recs = read_set(name, root)
        if a.limit:
            recs = recs[: a.limit]
        by_img: dict[Path, list] = {}
        for r in recs:
            by_img.setdefault(r.path, []).append(r)
        st = stats.setdefault(name, {"images": 0, "labels": 0, "kept": 0, "hands": 0, "negs": 0})
        for path, people in by_img.items():
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if img is None:
                continue
            st["images"] += 1
            labels, cands = label_image(fa_low, fa_check, img)
            heads = [hb for hb in (head_box(p.joints, p.mask) for p in people) if hb is not None]
            kept = records_from(img, labels, cands, heads, f"self:{name}")
            st["labels"] += len(labels)
            st["kept"] += len(kept)
            faces += kept
            blocked = heads + [_grow(c, 0.5) for c in cands] + [_grow(tight_box(p), 0.5) for p, _, _ in labels]
            hand_at = []
            for p in people:
                L = float(np.linalg.norm(p.joints[13] - p.joints[12])) if p.mask[12] and p.mask[13] else 20.0
                for wi in (6, 11):  # wrists
                    if p.mask[wi]:
                        hand_at.append((p.joints[wi], 1.4 * L))
            h, n = negatives_from(rng, img, blocked, hand_at)
            hands += h
            negs += n
            st["hands"] += len(h)
            st["negs"] += len(n)
        print(f"{name}: {st} ({time.time() - t0:.0f}s)", flush=True)
    # video frames, one a second
    for vid in sorted((root / "videos").glob("*.mp4")):
        cap = cv2.VideoCapture(str(vid))
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        step = max(1, round(fps * VIDEO_STEP_S))
        st = stats.setdefault(f"video:{vid.stem}", {"images": 0, "labels": 0, "kept": 0, "hands": 0, "negs": 0})
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i % step == 0 and (not a.limit or st["images"] < a.limit):
                st["images"] += 1
                labels, cands = label_image(fa_low, fa_check, frame)
                kept = records_from(frame, labels, cands, [], f"self:video:{vid.stem}")
                st["labels"] += len(labels)
                st["kept"] += len(kept)
                faces += kept
                blocked = [_grow(c, 0.5) for c in cands]
                _, n = negatives_from(rng, frame, blocked, [], n_random=1)
                negs += n
                st["negs"] += len(n)
            i += 1
        print(f"video {vid.stem}: {st} ({time.time() - t0:.0f}s)", flush=True)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        pickle.dump({"faces": faces, "negs": negs, "hands": hands, "stats": stats}, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"{len(faces)} faces, {len(negs)} negatives, {len(hands)} hands -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
