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


# --- decoding the network's heatmaps and refining the person box (docs/body.md, "Decoding and refinement") ---

HEATMAP_STRIDE = 4  # crop pixels per heatmap cell; cell g's centre is at crop pixel 4 g + 1.5
# soft-argmax only within this many cells of each heatmap's peak (0: over the whole map, as the graph's own
# keypoints): a second mode (the other wrist, a limb's mirror) no longer pulls the joint towards itself.
DECODE_WINDOW = 3
# the second pass's person box: the tight box of the first pass's 14 joints grown by REFINE_MARGIN about its
# centre; at most REFINE_PASSES network passes, stopping once the new box overlaps the last by REFINE_STOP_IOU
REFINE_MARGIN = 1.2
REFINE_PASSES = 3
REFINE_STOP_IOU = 0.8


def heatmap_probs(logits: np.ndarray) -> np.ndarray:
    """Softmax over the cells of each heatmap: (N, J, H, W) logits -> probabilities summing to 1 per map."""
    x = np.asarray(logits, np.float64)
    flat = x.reshape(*x.shape[:2], -1)
    e = np.exp(flat - flat.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).reshape(x.shape)


def flip_heatmaps(prob: np.ndarray) -> np.ndarray:
    """Heatmaps (N, 14, H, W) of a mirrored crop brought back to the crop: columns reversed, left/right swapped
    (exact when the crop side is HEATMAP_STRIDE x W: crop pixel x -> S - 1 - x maps cell g -> W - 1 - g)."""
    return np.asarray(prob)[:, FLIP, :, ::-1]


def decode_heatmaps(prob: np.ndarray, window: int = DECODE_WINDOW, stride: int = HEATMAP_STRIDE) -> np.ndarray:
    """(N, J, 2) crop pixels from heatmap probabilities (N, J, H, W): the probability-weighted mean of the cell
    centres within ``window`` cells of each map's peak (0 or less: over the whole map)."""
    p = np.asarray(prob, np.float64)
    n, j, h, w = p.shape
    gx = np.arange(w) * stride + (stride - 1) / 2
    gy = np.arange(h) * stride + (stride - 1) / 2
    if window <= 0:
        tot = p.sum((2, 3))
        return np.stack([(p.sum(2) * gx).sum(-1) / tot, (p.sum(3) * gy).sum(-1) / tot], -1)
    peak = p.reshape(n, j, -1).argmax(-1)
    iy, ix = np.divmod(peak, w)
    off = np.arange(-window, window + 1)
    yy = iy[..., None] + off  # (N, J, K)
    xx = ix[..., None] + off
    wy = (yy >= 0) & (yy < h)
    wx = (xx >= 0) & (xx < w)
    yc, xc = np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)
    ni, ji = np.arange(n)[:, None, None, None], np.arange(j)[None, :, None, None]
    win = p[ni, ji, yc[..., :, None], xc[..., None, :]] * (wy[..., :, None] & wx[..., None, :])  # (N, J, K, K)
    tot = win.sum((2, 3))
    x = (win.sum(2) * gx[xc]).sum(-1) / tot
    y = (win.sum(3) * gy[yc]).sum(-1) / tot
    return np.stack([x, y], -1)


def refine_box(joints: np.ndarray, margin: float = REFINE_MARGIN) -> np.ndarray:
    """The person box of the next pass: the tight box of ``joints`` (14, 2) grown ``margin`` times about its
    centre (like the training's person boxes: the joints' box grown 1.0-1.7 times)."""
    b = joints_box(joints)
    c, half = (b[:2] + b[2:]) / 2, np.maximum((b[2:] - b[:2]) / 2, 0.5) * margin
    return np.concatenate([c - half, c + half])


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes (x1, y1, x2, y2)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
