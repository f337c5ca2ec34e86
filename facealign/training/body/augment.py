"""Random augmentation of a training person into a network crop, as ONE affine warp from the original photo.

Geometry follows the runtime: flip the photo (left/right joints swapped), choose a person box the way the runtime
gets one (the whole photo, or the joints' box grown and moved like a detector's or the face rule's box; Buffy's
upper-body people sometimes with their legs extrapolated below the frame), rotate the crop about the box centre,
and cut it with facealign.alignment.body_points.body_crop_transform and the shared crop warp. Photometric damage
(colour, blur, noise, occlusion, JPEG) is the landmark trainer's.
"""
from __future__ import annotations

import cv2
import numpy as np

from facealign.alignment.body_points import FLIP, body_crop_transform, joints_box
from facealign.alignment.crop import warp_crop
from facealign.alignment.transforms import apply, compose
from facealign.training.body.config import BodyAugConfig
from facealign.training.body.data import BodySet, mid_hip, upper_body_box, whole_image_box
from facealign.training.landmarks.augment import photometric


def grow_box(box: np.ndarray, rng: np.random.Generator, cfg: BodyAugConfig) -> np.ndarray:
    """``box`` scaled (log-uniform in cfg.box_scale), moved and stretched like a person detector's error."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1, 1.0)
    lo, hi = np.log(cfg.box_scale[0]), np.log(cfg.box_scale[1])
    s = np.exp(rng.uniform(lo, hi))
    cx = (x1 + x2) / 2 + rng.uniform(-cfg.shift, cfg.shift) * side * s
    cy = (y1 + y2) / 2 + rng.uniform(-cfg.shift, cfg.shift) * side * s
    a = np.exp(rng.uniform(-cfg.aspect, cfg.aspect))
    hw, hh = (x2 - x1) * s * a / 2, (y2 - y1) * s / a / 2
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh])


def person_box(s: BodySet, i: int, joints: np.ndarray, mask: np.ndarray, flip: np.ndarray, image_box: np.ndarray,
               rng: np.random.Generator, cfg: BodyAugConfig) -> np.ndarray:
    """A random person box for record ``i`` of ``s`` (``joints``/``mask`` already under the ``flip`` transform)."""
    if s.upper_only:
        hip = mid_hip(s.records[i])
        hip = None if hip is None else apply(flip, hip)
        legs = rng.uniform(0.0, 1.4) if rng.random() < 0.6 else 0.0
        return grow_box(upper_body_box(joints, mask, hip, legs), rng, cfg)
    if rng.random() < cfg.p_whole_image:
        return image_box
    return grow_box(joints_box(joints, mask), rng, cfg)


def augment(s: BodySet, i: int, size: int, cfg: BodyAugConfig, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One training sample: (uint8 crop, joints (14, 2) in crop pixels, label mask (14,))."""
    image = s.images[i]
    rec = s.records[i]
    h, w = image.shape[:2]
    joints, mask = rec.joints.astype(np.float64), rec.mask.copy()
    flip = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    if rng.random() < cfg.p_flip:
        flip = np.array([[-1.0, 0, w - 1], [0, 1.0, 0]])
        joints, mask = apply(flip, joints)[FLIP], mask[FLIP]
    box = person_box(s, i, joints, mask, flip, whole_image_box(image), rng, cfg)
    angle = rng.uniform(-cfg.rotate, cfg.rotate) if rng.random() < cfg.p_rotate else 0.0
    c = body_crop_transform(box, size, angle)
    border = cv2.BORDER_CONSTANT if rng.random() < 0.7 else cv2.BORDER_REPLICATE
    crop = warp_crop(image, compose(c, flip), size, border=border)
    pts = apply(c, joints)
    # joints far outside the crop cannot be reached by the soft-argmax: leave them out of the loss
    inside = np.all((pts > -0.1 * size) & (pts < 1.1 * size), axis=1)
    return photometric(crop, cfg, rng), pts.astype(np.float32), mask & inside
