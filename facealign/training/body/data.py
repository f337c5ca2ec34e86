"""Body training data in memory: the records of the named sets with their decoded photos, and validation crops
made exactly as the runtime makes them (whole-photo boxes for full-body sets, the upper-body box for Buffy)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.body_points import N_JOINTS, NECK, body_crop_transform, joints_box
from facealign.alignment.crop import warp_crop
from facealign.data.body import BodyRecord, read_set
from facealign.paths import data_root


@dataclass
class BodySet:
    """Records of one named set and their BGR photos."""

    name: str
    records: list[BodyRecord]
    images: list[np.ndarray]

    @property
    def upper_only(self) -> bool:
        return self.name.startswith("buffy")

    def __len__(self) -> int:
        return len(self.records)


@dataclass
class ValSet:
    """Network-ready crops (N, S, S, 3), their transforms image -> crop (N, 2, 3), joints (N, 14, 2) in image
    pixels and label masks (N, 14)."""

    name: str
    crops: np.ndarray
    transforms: np.ndarray
    joints: np.ndarray
    mask: np.ndarray

    def __len__(self) -> int:
        return len(self.crops)


def load_body_set(name: str, root: str | Path | None = None, limit: int = 0) -> BodySet:
    """A named set with its photos decoded (unreadable photos are left out)."""
    recs = read_set(name, Path(root) if root else data_root())
    if limit:
        recs = recs[:limit]
    keep, images = [], []
    for r in recs:
        img = cv2.imread(str(r.path), cv2.IMREAD_COLOR)
        if img is not None:
            keep.append(r)
            images.append(img)
    return BodySet(name, keep, images)


def upper_body_box(joints: np.ndarray, mask: np.ndarray, mid_hip: np.ndarray | None, legs: float = 0.0) -> np.ndarray:
    """Person box of an upper-body person: its labelled joints and mid hip, extended below the hip by ``legs`` x
    the neck-to-hip length (0: the upper body; ~1.3: down to the feet of a standing person)."""
    pts = [joints[mask]]
    if mid_hip is not None:
        pts.append(np.stack([mid_hip, mid_hip + legs * (mid_hip - joints[NECK])]))
    return joints_box(np.concatenate(pts))


def mid_hip(rec: BodyRecord) -> np.ndarray | None:
    """Buffy's approximate hip centre, when the record has one."""
    return rec.extra.get("mid_hip") if rec.extra else None


def whole_image_box(image: np.ndarray) -> np.ndarray:
    """The box of the whole photo in pixel-centre coordinates."""
    h, w = image.shape[:2]
    return np.array([-0.5, -0.5, w - 0.5, h - 0.5])


def val_box(s: BodySet, i: int) -> np.ndarray:
    """The person box validation uses: the whole photo (full-body sets) or the upper-body box (Buffy)."""
    r = s.records[i]
    return upper_body_box(r.joints, r.mask, mid_hip(r)) if s.upper_only else whole_image_box(s.images[i])


def make_val_set(s: BodySet, size: int) -> ValSet:
    """Crops of every person of ``s`` from its validation box, by the runtime's crop rule and warp."""
    n = len(s)
    crops = np.zeros((n, size, size, 3), np.uint8)
    mats = np.zeros((n, 2, 3))
    joints = np.zeros((n, N_JOINTS, 2))
    mask = np.zeros((n, N_JOINTS), bool)
    for i, r in enumerate(s.records):
        mats[i] = body_crop_transform(val_box(s, i), size)
        crops[i] = warp_crop(s.images[i], mats[i], size)
        joints[i], mask[i] = r.joints, r.mask
    return ValSet(s.name, crops, mats, joints, mask)

