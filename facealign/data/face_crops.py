"""Labelled single-face crops (the material detector scenes are composed from), cached once with their
background patches.

Every face gets 68 points: the real ones (300-W, ytf68) or, for 5-point MTFL faces, the mean shape fitted to the
5 points by a similarity (the rule of facealign.alignment.crop.box_from_five), so that after any warp of a scene
the face box is the tight box of the warped 68 points, the same rule as the runtime and the landmark crop.
The 5 target points are the real 5 (MTFL) or five_from_68 (68-point data).

The cache (one pickle per split under the cache folder) holds, per face, the image region around the face
(the box grown by ``MARGIN`` times its size on each side, clipped to the image) scaled so the face is at most
``MAX_FACE`` px, plus background patches cut from the images away from the face (the negatives).
AFW is left out: its crops can show other, unlabelled faces.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from facealign.alignment.points import five_from_68, tight_box
from facealign.alignment.templates import MEAN68
from facealign.alignment.transforms import apply, estimate_similarity
from facealign.data.backgrounds import background_patch
from facealign.data.mtfl import read_mtfl
from facealign.data.pts import read_pts_folder
from facealign.paths import cache_dir as default_cache_dir
from facealign.paths import data_root as default_data_root

MARGIN = 1.0
MAX_FACE = 160
CACHE_VERSION = 2  # 2: records pickled from facealign.data.face_crops (older pickles name a moved module)

# detector sources: "mtfl:FILE" (a table under mtfl/) or a folder of images + .pts under the data root
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
        """The face box: tight box of the 68 points."""
        return tight_box(self.pts68)


def mean_shape_on_five(p5: np.ndarray) -> np.ndarray:
    """(68, 2): the mean shape fitted to 5 points by a similarity (68 points for 5-point data)."""
    return apply(estimate_similarity(five_from_68(MEAN68), p5), MEAN68)


def source_path(data_root: Path, source: str) -> Path:
    """The file (``mtfl:FILE``: under mtfl/) or folder of a source under the data root."""
    return Path(data_root) / "mtfl" / source[5:] if source.startswith("mtfl:") else Path(data_root) / source


def check_sources(data_root: Path, sources) -> None:
    """FileNotFoundError naming every source that is not under ``data_root`` (before any work is done)."""
    missing = [str(source_path(data_root, s)) for s in sources if not source_path(data_root, s).exists()]
    if missing:
        raise FileNotFoundError(f"data not found: {', '.join(missing)} (the data folder is FACEALIGN_DATA, see "
                                "facealign.paths)")


def iter_labelled(data_root: Path, source: str) -> Iterator[tuple[Path, np.ndarray, np.ndarray]]:
    """Yield (image path, pts68, p5), 0-based, for a source: ``mtfl:FILE`` or a folder of images + .pts."""
    if source.startswith("mtfl:"):
        for s in read_mtfl(Path(data_root) / "mtfl" / source[5:]):
            yield s.image, mean_shape_on_five(s.points), s.points
    else:
        for s in read_pts_folder(Path(data_root) / source):
            if s.schema == "ibug68":
                yield s.image, s.points, five_from_68(s.points)


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
    """(face records, background patches) of the given sources (unreadable images are skipped). A source that gives
    no face at all (missing or empty folder, images not there) is an error, so no partial set is ever cached."""
    faces: list[FaceRecord] = []
    negs: list[np.ndarray] = []
    for src in sources:
        before = len(faces)
        for path, pts68, p5 in iter_labelled(data_root, src):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                continue
            faces.append(crop_record(image, pts68, p5, src))
            neg = background_patch(image, tight_box(pts68))
            if neg is not None:
                negs.append(neg)
        if len(faces) == before:
            raise FileNotFoundError(f"{source_path(data_root, src)}: no readable labelled faces (nothing cached)")
    return faces, negs


def load_split(
    split: str, data_root: Path | None = None, cache_dir: Path | None = None
) -> tuple[list[FaceRecord], list[np.ndarray]]:
    """(faces, negative patches) of 'train' or 'val', built on first use and cached as a pickle (defaults: the data
    root and ``cache_dir("detector")`` of facealign.paths)."""
    data_root = Path(data_root) if data_root is not None else default_data_root()
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir("detector")
    cache = cache_dir / f"{split}_v{CACHE_VERSION}.pkl"
    if cache.is_file():
        with cache.open("rb") as f:
            return pickle.load(f)
    sources = TRAIN_SOURCES if split == "train" else VAL_SOURCES
    out = build_split(data_root, sources)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(cache)
    return out
