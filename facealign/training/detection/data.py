"""Labelled single-face images for the detector, cached once as uint8 crops with margin.

Every face gets 68 points: the real ones (300-W, ytf68) or, for 5-point MTFL faces, the mean shape fitted to the
5 points by a similarity (the rule of facealign.alignment.crop.box_from_five), so that after any warp of a scene
the face box is the tight box of the warped 68 points, the same rule as the runtime and the landmark crop.
The 5 target points are the real 5 (MTFL) or five_from_68 (68-point data). Files are 1-based: we subtract 1.

The cache (one pickle per split under /work/cache/detector/) holds, per face, the image region around the face
(the box grown by ``MARGIN`` times its size on each side, clipped to the image) scaled so the face is at most
``MAX_FACE`` px, plus background patches cut from the images away from the face (the negatives).
AFW is left out: its crops can show other, unlabelled faces.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.points import five_from_68, tight_box
from facealign.alignment.templates import MEAN68
from facealign.alignment.transforms import apply, estimate_similarity

MARGIN = 1.0
MAX_FACE = 160
MIN_NEG = 24  # smallest side of a kept background patch
CACHE_VERSION = 1

TRAIN_SOURCES = ("mtfl:train.txt", "300w/lfpw_train", "300w/helen_train", "ytf68/train")
VAL_SOURCES = ("ytf68/val", "mtfl:val.txt")


@dataclass
class FaceRecord:
    """One labelled face in its cached crop (coordinates in crop pixels)."""

    image: np.ndarray  # uint8 BGR
    pts68: np.ndarray  # (68, 2) float32 (real or fitted mean shape)
    p5: np.ndarray  # (5, 2) float32
    source: str

    @property
    def box(self) -> np.ndarray:
        return tight_box(self.pts68)


def read_pts(path: Path) -> np.ndarray:
    """iBUG .pts file -> (N, 2) 0-based points."""
    lines = path.read_text().splitlines()
    start = lines.index("{") + 1
    end = lines.index("}", start)
    return np.array([[float(v) for v in ln.split()[:2]] for ln in lines[start:end]], dtype=np.float64) - 1.0


def iter_labelled(data_root: Path, source: str):
    """Yield (image path, pts68, p5) for a source: 'mtfl:FILE' or a folder of .jpg/.png + .pts."""
    if source.startswith("mtfl:"):
        base = data_root / "mtfl"
        for line in (base / source[5:]).read_text().splitlines():
            parts = line.split()
            if len(parts) < 11:
                continue
            v = np.array([float(x) for x in parts[1:11]]) - 1.0
            p5 = np.stack([v[:5], v[5:10]], 1)
            pts68 = apply(estimate_similarity(five_from_68(MEAN68), p5), MEAN68)
            yield base / parts[0].replace("\\", "/"), pts68, p5
    else:
        for pts_path in sorted((data_root / source).glob("*.pts")):
            img = next((pts_path.with_suffix(e) for e in (".jpg", ".png", ".jpeg") if pts_path.with_suffix(e).is_file()), None)
            if img is None:
                continue
            pts68 = read_pts(pts_path)
            if pts68.shape != (68, 2):
                continue
            yield img, pts68, five_from_68(pts68)


def _background_patch(image: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The largest strip of ``image`` left, right, above or below the face box grown by a quarter of its size."""
    h, w = image.shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    g = 0.25 * max(bw, bh)
    x1, y1 = int(np.floor(box[0] - g)), int(np.floor(box[1] - g))
    x2, y2 = int(np.ceil(box[2] + g)) + 1, int(np.ceil(box[3] + g)) + 1
    cands = [(0, 0, x1, h), (x2, 0, w, h), (0, 0, w, y1), (0, y2, w, h)]
    best, area = None, 0
    for a, b, c, d in cands:
        a, b, c, d = max(a, 0), max(b, 0), min(c, w), min(d, h)
        if c - a >= MIN_NEG and d - b >= MIN_NEG and (c - a) * (d - b) > area:
            best, area = (a, b, c, d), (c - a) * (d - b)
    if best is None:
        return None
    a, b, c, d = best
    return np.ascontiguousarray(image[b:d, a:c])


def crop_record(image: np.ndarray, pts68: np.ndarray, p5: np.ndarray, source: str) -> FaceRecord:
    """Cut the face with margin and scale it down so the face is at most MAX_FACE px."""
    box = tight_box(pts68)
    size = max(box[2] - box[0], box[3] - box[1], 1.0)
    h, w = image.shape[:2]
    x1 = int(max(0, np.floor(box[0] - MARGIN * size)))
    y1 = int(max(0, np.floor(box[1] - MARGIN * size)))
    x2 = int(min(w, np.ceil(box[2] + MARGIN * size) + 1))
    y2 = int(min(h, np.ceil(box[3] + MARGIN * size) + 1))
    crop = image[y1:y2, x1:x2]
    off = np.array([x1, y1], dtype=np.float64)
    pts, q5 = pts68 - off, p5 - off
    k = min(1.0, MAX_FACE / size)
    if k < 1.0:
        nw, nh = max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k))
        crop = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA)
        kx, ky = nw / (x2 - x1), nh / (y2 - y1)
        # pixel centres scale about -0.5: x' = (x + 0.5) * k - 0.5
        sc = np.array([kx, ky])
        pts, q5 = (pts + 0.5) * sc - 0.5, (q5 + 0.5) * sc - 0.5
    return FaceRecord(np.ascontiguousarray(crop), pts.astype(np.float32), q5.astype(np.float32), source)


def build_split(data_root: Path, sources: tuple[str, ...]) -> tuple[list[FaceRecord], list[np.ndarray]]:
    faces: list[FaceRecord] = []
    negs: list[np.ndarray] = []
    for src in sources:
        for path, pts68, p5 in iter_labelled(data_root, src):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                continue
            faces.append(crop_record(image, pts68, p5, src))
            neg = _background_patch(image, tight_box(pts68))
            if neg is not None:
                negs.append(neg)
    return faces, negs


def load_split(split: str, data_root: Path, cache_dir: Path) -> tuple[list[FaceRecord], list[np.ndarray]]:
    """(faces, negative patches) of 'train' or 'val', built on first use and cached as a pickle."""
    cache = Path(cache_dir) / f"{split}_v{CACHE_VERSION}.pkl"
    if cache.is_file():
        with cache.open("rb") as f:
            return pickle.load(f)
    sources = TRAIN_SOURCES if split == "train" else VAL_SOURCES
    out = build_split(Path(data_root), sources)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(cache)
    return out
