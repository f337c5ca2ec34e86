"""The body keypoint schema (14 LSP joints) and the person crop rule, shared by training and the runtime.

Joint order is LSP's; "right"/"left" are the subject's (for a person facing the camera, ``right_*`` is on the
image's left). A person box is a box around the whole person (the tight box of the 14 joints is the convention
of the labels; a detector-style or whole-photo box is somewhat larger, which training covers). The network crop
is the square ``crop_transform(box, size, angle, BODY_CROP_SCALE)`` of facealign.alignment.crop.
"""
from __future__ import annotations

import numpy as np

from facealign.alignment.crop import crop_transform

JOINTS = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "neck", "head_top",
)
N_JOINTS = len(JOINTS)
# the index of each joint's mirror image (left <-> right), for horizontal flips
FLIP = np.array([5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13])
R_ANKLE, R_KNEE, R_HIP, L_HIP, L_KNEE, L_ANKLE = 0, 1, 2, 3, 4, 5
R_WRIST, R_ELBOW, R_SHOULDER, L_SHOULDER, L_ELBOW, L_WRIST = 6, 7, 8, 9, 10, 11
NECK, HEAD_TOP = 12, 13
UPPER = np.array([6, 7, 8, 9, 10, 11, 12, 13])  # the upper-body joints (Buffy's labels)
# bones of the skeleton drawing: (joint, joint)
BONES = (
    (0, 1), (1, 2), (5, 4), (4, 3), (2, 3), (2, 8), (3, 9),
    (6, 7), (7, 8), (11, 10), (10, 9), (8, 12), (9, 12), (12, 13),
)

# crop side / longer side of the person box; 1.15 leaves room around a tight joint box
BODY_CROP_SCALE = 1.15


def body_crop_transform(box: np.ndarray, size: int, angle: float = 0.0, scale: float = BODY_CROP_SCALE) -> np.ndarray:
    """2x3 transform from original pixels to the ``size`` x ``size`` network crop of a person box."""
    return crop_transform(box, size, angle, scale)


def joints_box(joints: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The tight box (x1, y1, x2, y2) of the (labelled) joints."""
    j = np.asarray(joints, np.float64).reshape(-1, 2)
    if mask is not None:
        j = j[np.asarray(mask, bool)]
    return np.concatenate([j.min(0), j.max(0)])


def flip_joints(joints: np.ndarray, width: int) -> np.ndarray:
    """Mirror joints (..., 14, 2) of an image ``width`` pixels wide and swap left/right."""
    j = np.asarray(joints, np.float64).copy()
    j[..., 0] = (width - 1) - j[..., 0]
    return j[..., FLIP, :]
