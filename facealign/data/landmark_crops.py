"""Landmark training data: named sets of labelled faces and a one-time crop cache.

Every face is cut once from its photo by the runtime's own crop (facealign.alignment.crop: crop_transform and the
anti-aliased warp_crop), with a generous margin, into a uint8 array stored under the cache folder, so an epoch
costs network time, not JPEG decoding. Training sets keep a large margin (augmentation re-crops from it);
validation sets are stored exactly as the runtime crops them (the ground-truth box at the network's input size).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from facealign.alignment.crop import CROP_SCALE, box_from_five, crop_transform, warp_crop
from facealign.alignment.points import tight_box
from facealign.alignment.transforms import apply
from facealign.data.mtfl import read_mtfl
from facealign.data.profiled import read_profiled
from facealign.data.pts import read_pts_folder
from facealign.data.sample import Sample
from facealign.paths import cache_dir

# set name -> (reader kind, locations under the data root)
LANDMARK_SETS: dict[str, tuple[str, list[str]]] = {
    "300w_train": ("pts", ["300w/lfpw_train", "300w/helen_train"]),
    "300w_afw": ("pts", ["300w/afw"]),
    "ytf68_train": ("pts", ["ytf68/train"]),
    "ytf68_val": ("pts", ["ytf68/val"]),
    "mtfl_train": ("mtfl", ["mtfl/train.txt"]),
    "mtfl_val": ("mtfl", ["mtfl/val.txt"]),
    # synthetic large-pose views made by face profiling (python -m facealign.training.profiling.build) under the
    # cache folder ("cache:" locations); 300w_afw_profiled is made from AFW: validation only, never training
    "300w_profiled": ("profiled", ["cache:profiling/v1/300w_train"]),
    "ytf68_profiled": ("profiled", ["cache:profiling/v1/ytf68_train"]),
    "300w_afw_profiled": ("profiled", ["cache:profiling/v1/300w_afw"]),
}
SET_READERS = {"pts": read_pts_folder, "mtfl": read_mtfl, "profiled": read_profiled}
CACHE_RULE = "v2"  # part of the cache key; v2: crops made by alignment.crop.warp_crop (the runtime's warp)


@dataclass
class FaceSet:
    """A cached set: crops (N, S, S, 3) uint8 BGR, points (N, K, 2) float32 in crop pixels, pose bins (N,);
    ``points3d`` (N, 68, 2): the x, y of the points in the 3D convention where the set has them (face-profiled
    views), else None."""

    name: str
    images: np.ndarray
    points: np.ndarray
    pose: np.ndarray
    points3d: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        """Points per face (68 or 5)."""
        return int(self.points.shape[1])

    def __len__(self) -> int:
        return len(self.images)


def read_set(name: str, root: Path) -> list[Sample]:
    """The labelled faces of a named set (see LANDMARK_SETS) under the data root ``root``."""
    if name not in LANDMARK_SETS:
        raise ValueError(f"unknown landmark set {name!r}; one of {', '.join(LANDMARK_SETS)}")
    kind, locs = LANDMARK_SETS[name]
    samples: list[Sample] = []
    for loc in locs:
        samples += SET_READERS[kind](set_location(loc, root))
    return samples


def set_location(loc: str, root: Path) -> Path:
    """A LANDMARK_SETS location: under the data root, or under the cache folder for ``cache:`` ones."""
    return cache_dir(*loc[len("cache:"):].split("/")) if loc.startswith("cache:") else Path(root) / loc


def _content_tag(name: str, root: Path) -> str:
    """Part of the crop cache key for generated sets: their count of finished views (a set built further gets
    new crops); empty for the fixed data sets."""
    kind, locs = LANDMARK_SETS.get(name, ("", []))
    if kind != "profiled":
        return ""
    return "|" + str(sum(len(list(set_location(loc, root).glob("*.json"))) for loc in locs))


def face_box(points: np.ndarray) -> np.ndarray:
    """The face box of ground-truth points: tight 68-point box, or box_from_five for 5-point data."""
    return tight_box(points) if len(points) == 68 else box_from_five(points)


def face_crop(
    image: np.ndarray, box: np.ndarray, size: int, angle: float = 0.0, scale: float = CROP_SCALE
) -> tuple[np.ndarray, np.ndarray]:
    """(crop, transform image -> crop) of one face box: the landmark runtime's crop (same rule, same warp)."""
    m = crop_transform(box, size, angle, scale)
    return warp_crop(image, m, size), m


def build_set(name: str, root: Path, size: int, scale: float, limit: int = 0) -> FaceSet:
    """Cut every face of a set into a crop of ``size`` with ``scale`` x box side (unreadable images are left out)."""
    samples = read_set(name, root)
    if limit:
        samples = samples[:limit]
    images = np.zeros((len(samples), size, size, 3), np.uint8)
    points = np.zeros((len(samples), len(samples[0].points) if samples else 68, 2), np.float32)
    pose = np.zeros(len(samples), np.int8)
    has3d = bool(samples) and "points3d" in samples[0].attributes
    points3d = np.zeros((len(samples), 68, 2), np.float32) if has3d else None
    keep = np.ones(len(samples), bool)
    for i, s in enumerate(tqdm(samples, desc=f"cache {name}", leave=False)):
        img = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if img is None:
            keep[i] = False
            continue
        images[i], m = face_crop(img, face_box(s.points), size, scale=scale)
        points[i] = apply(m, s.points)
        pose[i] = s.attributes.get("pose", 0)
        if points3d is not None:
            points3d[i] = apply(m, s.attributes["points3d"][:, :2])
    return FaceSet(name, images[keep], points[keep], pose[keep], None if points3d is None else points3d[keep])


def load_set(name: str, root: Path, cache_dir: Path, size: int, scale: float, limit: int = 0) -> FaceSet:
    """A cached FaceSet, built on first use (the key covers the set, crop size, margin, limit and crop rule)."""
    tag = _content_tag(name, root)
    key = hashlib.md5(f"{name}|{Path(root).resolve()}|{size}|{scale:.4f}|{limit}|{CACHE_RULE}{tag}".encode()).hexdigest()[:8]
    path = Path(cache_dir) / f"{name}_{size}_{key}.npz"
    if path.is_file():
        z = np.load(path)
        # generated sets cached before the 3D-convention points were kept are cut again
        if "points3d" in z.files or LANDMARK_SETS.get(name, ("",))[0] != "profiled":
            return FaceSet(name, z["images"], z["points"], z["pose"], z["points3d"] if "points3d" in z.files else None)
    fs = build_set(name, root, size, scale, limit)
    if not len(fs.images):  # missing images or an empty folder: never cache an empty set for later runs to reuse
        raise FileNotFoundError(f"landmark set {name}: no readable labelled faces under {root} (nothing cached)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    extra = {} if fs.points3d is None else {"points3d": fs.points3d}
    np.savez(tmp, images=fs.images, points=fs.points, pose=fs.pose, **extra)
    tmp.replace(path)
    return fs
