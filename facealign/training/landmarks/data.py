"""Landmark training data: readers for 300-W .pts folders, ytf68 and MTFL, and a one-time crop cache.

Every face is cut once from its photo (one affine warp, the crop rule of facealign.alignment.crop with a generous
margin) into a uint8 array stored under the cache directory, so an epoch costs network time, not JPEG decoding.
Training sets keep a large margin (augmentation re-crops from it); validation sets are stored exactly as the
runtime crops them (crop_transform of the ground-truth box at the network's input size).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from facealign.alignment.crop import box_from_five, crop_transform
from facealign.alignment.points import tight_box
from facealign.alignment.transforms import apply

# name -> (reader, relative location)
SETS = {
    "300w_train": ("pts", ["300w/lfpw_train", "300w/helen_train"]),
    "300w_afw": ("pts", ["300w/afw"]),
    "ytf68_train": ("pts", ["ytf68/train"]),
    "ytf68_val": ("pts", ["ytf68/val"]),
    "mtfl_train": ("mtfl", ["mtfl/train.txt"]),
    "mtfl_val": ("mtfl", ["mtfl/val.txt"]),
}


@dataclass
class FaceRecord:
    """One labelled face: image path, 0-based points (68 or 5) and a pose bin (MTFL, else 0)."""

    path: Path
    points: np.ndarray
    pose: int = 0


@dataclass
class FaceSet:
    """A cached set: crops (N, S, S, 3) uint8 BGR, points (N, K, 2) float32 in crop pixels, pose bins (N,)."""

    name: str
    images: np.ndarray
    points: np.ndarray
    pose: np.ndarray

    @property
    def n_points(self) -> int:
        return int(self.points.shape[1])

    def __len__(self) -> int:
        return len(self.images)


def read_pts(path: Path) -> np.ndarray:
    """Points of an iBUG .pts file, converted to 0-based pixels."""
    lines = Path(path).read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "{") + 1
    end = next(i for i, l in enumerate(lines) if l.strip() == "}")
    pts = np.array([[float(v) for v in l.split()] for l in lines[start:end]], dtype=np.float64)
    return pts - 1.0


def read_pts_folder(folder: Path) -> list[FaceRecord]:
    """All (image, .pts) pairs of a folder, sorted by name."""
    out = []
    for pts in sorted(Path(folder).glob("*.pts")):
        img = next((pts.with_suffix(e) for e in (".jpg", ".png", ".jpeg") if pts.with_suffix(e).is_file()), None)
        if img is not None:
            out.append(FaceRecord(img, read_pts(pts)))
    return out


def read_mtfl(list_file: Path) -> list[FaceRecord]:
    """MTFL list: `path x1..x5 y1..y5 gender smile glasses pose`, 1-based points -> 0-based."""
    out = []
    root = Path(list_file).parent
    for line in Path(list_file).read_text().splitlines():
        f = line.split()
        if len(f) < 15:
            continue
        v = np.array([float(x) for x in f[1:11]])
        pts = np.stack([v[:5], v[5:]], axis=1) - 1.0
        out.append(FaceRecord(root / f[0].replace("\\", "/"), pts, int(f[14])))
    return out


def read_set(name: str, root: Path) -> list[FaceRecord]:
    """The records of a named set (see SETS)."""
    kind, locs = SETS[name]
    recs: list[FaceRecord] = []
    for loc in locs:
        recs += read_pts_folder(root / loc) if kind == "pts" else read_mtfl(root / loc)
    return recs


def face_box(points: np.ndarray) -> np.ndarray:
    """The face box of ground-truth points: tight 68-point box, or box_from_five for 5-point data."""
    return tight_box(points) if len(points) == 68 else box_from_five(points)


def build_set(name: str, root: Path, size: int, scale: float, limit: int = 0) -> FaceSet:
    """Cut every face of a set into a crop of ``size`` with ``scale`` x box side (crop_transform)."""
    recs = read_set(name, root)
    if limit:
        recs = recs[:limit]
    images = np.zeros((len(recs), size, size, 3), np.uint8)
    points = np.zeros((len(recs), len(recs[0].points) if recs else 68, 2), np.float32)
    pose = np.zeros(len(recs), np.int8)
    keep = np.ones(len(recs), bool)
    for i, r in enumerate(tqdm(recs, desc=f"cache {name}", leave=False)):
        img = cv2.imread(str(r.path), cv2.IMREAD_COLOR)
        if img is None:
            keep[i] = False
            continue
        m = crop_transform(face_box(r.points), size, scale=scale)
        images[i] = warp_crop(img, m, size)
        points[i] = apply(m, r.points)
        pose[i] = r.pose
    return FaceSet(name, images[keep], points[keep], pose[keep])


def warp_crop(image: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    """One affine warp into a size x size crop, after halving the image while the warp shrinks by more than 2x.

    cv2.pyrDown centres half-image pixel j on full-image pixel 2j, so x_full = 2 x_half and m' = m with its
    linear part doubled.
    """
    m = np.asarray(m, np.float64).copy()
    while np.hypot(m[0, 0], m[1, 0]) < 0.5 and min(image.shape[:2]) >= 16:
        image = cv2.pyrDown(image)
        m[:, :2] *= 2.0
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def load_set(name: str, root: Path, cache_dir: Path, size: int, scale: float, limit: int = 0) -> FaceSet:
    """A cached FaceSet, built on first use (the key covers the set, crop size, margin and limit)."""
    key = hashlib.md5(f"{name}|{root.resolve()}|{size}|{scale:.4f}|{limit}|v1".encode()).hexdigest()[:8]
    path = Path(cache_dir) / f"{name}_{size}_{key}.npz"
    if path.is_file():
        z = np.load(path)
        return FaceSet(name, z["images"], z["points"], z["pose"])
    fs = build_set(name, root, size, scale, limit)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, images=fs.images, points=fs.points, pose=fs.pose)
    tmp.replace(path)
    return fs
