"""Compose multi-face training scenes from single-face crops.

A scene is a ``size`` x ``size`` canvas split into a k x k grid of cells with random cut points. Each cell is
filled with a background patch (scaled to the cell) and, with probability ``p_face``, one face warped in at a
random size (log-uniform from ``min_face`` px to about the cell size), position and roll. Some scenes also get
extra small faces (10-40 px) pasted anywhere they do not overlap other faces, as in group photos. Then flips and
photometric changes. Faces whose visible part is < ``min_visible`` of their box, or smaller than ``min_face``,
become ignore regions (the loss neither rewards nor punishes detections there).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facealign.alignment.points import FLIP5, tight_box
from facealign.data.face_crops import FaceRecord

SCENE_VERSION = 2  # 2: small faces shrunk with area averaging (no aliasing)


@dataclass
class Scene:
    image: np.ndarray  # (S, S, 3) uint8 BGR
    boxes: np.ndarray  # (n, 4) float32 tight-68 boxes of the faces to detect
    kps: np.ndarray  # (n, 5, 2) float32
    ignore: np.ndarray  # (m, 4) float32 regions to ignore


@dataclass
class SceneParams:
    size: int = 320
    min_face: float = 10.0
    max_face: float = 300.0
    min_visible: float = 0.65
    p_face: float = 0.8
    p_small: float = 0.5
    grid_weights: tuple[float, ...] = (0.25, 0.35, 0.25, 0.15)  # k = 1, 2, 3, 4
    max_roll: float = 30.0


def _cuts(rng: np.random.Generator, k: int, size: int) -> np.ndarray:
    if k == 1:
        return np.array([0, size])
    inner = np.sort(rng.uniform(0.2, 0.8, k - 1)) if k == 2 else (np.arange(1, k) + rng.uniform(-0.25, 0.25, k - 1)) / k
    return np.concatenate([[0], np.round(inner * size).astype(int), [size]])


def _background(rng: np.random.Generator, negs: list[np.ndarray], w: int, h: int) -> np.ndarray:
    if not negs or rng.random() < 0.05:
        # plain or gradient fill: covers flat walls and padding
        c = rng.integers(0, 256, 3)
        return np.broadcast_to(c.astype(np.uint8), (h, w, 3)).copy()
    patch = negs[rng.integers(len(negs))]
    ph, pw = patch.shape[:2]
    # random sub-window of the patch, then scale to the cell
    cw, ch = max(8, int(pw * rng.uniform(0.5, 1.0))), max(8, int(ph * rng.uniform(0.5, 1.0)))
    cw, ch = min(cw, pw), min(ch, ph)
    x0, y0 = rng.integers(0, pw - cw + 1), rng.integers(0, ph - ch + 1)
    sub = patch[y0 : y0 + ch, x0 : x0 + cw]
    if rng.random() < 0.5:
        sub = sub[:, ::-1]
    return cv2.resize(sub, (w, h), interpolation=cv2.INTER_LINEAR)


def _face_transform(rng: np.random.Generator, rec: FaceRecord, size: float, centre: np.ndarray, roll: float) -> np.ndarray:
    box = rec.box
    src_size = max(box[2] - box[0], box[3] - box[1], 1.0)
    k = size / src_size
    c = (box[:2] + box[2:]) / 2
    a = np.radians(roll)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * k
    return np.concatenate([r, (centre - r @ c)[:, None]], 1)


def _place(canvas: np.ndarray, rec: FaceRecord, m: np.ndarray, region: tuple[int, int, int, int]):
    """Warp the record into ``region`` (x0, y0, x1, y1) of the canvas; returns (box, kps) in canvas pixels."""
    x0, y0, x1, y1 = region
    t = m.copy()
    t[:, 2] -= (x0, y0)
    src = rec.image
    k = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if k < 0.75:
        # shrink with area averaging first: a bilinear warp at scale 0.1 samples 1 pixel in 100 and gives aliased
        # small faces that look nothing like the smooth small faces of real (or INTER_AREA-resized) photos
        h, w = src.shape[:2]
        nw, nh = max(1, round(w * k)), max(1, round(h * k))
        src = cv2.resize(src, (nw, nh), interpolation=cv2.INTER_AREA)
        kx, ky = nw / w, nh / h
        # pre-scaled pixel x' = kx * (x + 0.5) - 0.5, so original x = (x' + 0.5) / kx - 0.5
        back = np.array([[1 / kx, 0, 0.5 / kx - 0.5], [0, 1 / ky, 0.5 / ky - 0.5]])
        t = t[:, :2] @ back[:, :2], t[:, :2] @ back[:, 2] + t[:, 2]
        t = np.concatenate([t[0], t[1][:, None]], 1)
    dst = canvas[y0:y1, x0:x1]
    cv2.warpAffine(src, t, (x1 - x0, y1 - y0), dst=dst, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
    pts = rec.pts68 @ m[:, :2].T + m[:, 2]
    kps = rec.p5 @ m[:, :2].T + m[:, 2]
    # the visible part of a face is limited by the region and by the record's own crop edges
    h, w = rec.image.shape[:2]
    corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]]) @ m[:, :2].T + m[:, 2]
    vis = np.array([max(x0 - 0.5, corners[:, 0].min()), max(y0 - 0.5, corners[:, 1].min()),
                    min(x1 - 0.5, corners[:, 0].max()), min(y1 - 0.5, corners[:, 1].max())])
    return tight_box(pts), kps, vis


def _visible_fraction(box: np.ndarray, vis: np.ndarray) -> tuple[float, np.ndarray]:
    cl = np.array([max(box[0], vis[0]), max(box[1], vis[1]), min(box[2], vis[2]), min(box[3], vis[3])])
    inter = max(0.0, cl[2] - cl[0]) * max(0.0, cl[3] - cl[1])
    area = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
    return inter / area, cl


def colour_jitter(rng: np.random.Generator, img: np.ndarray, p_grey: float = 0.1) -> np.ndarray:
    """Brightness / contrast, a colour cast, sometimes grey."""
    out = img.astype(np.float32)
    if rng.random() < 0.8:
        out = out * rng.uniform(0.6, 1.4) + rng.uniform(-40, 40)
    if rng.random() < 0.5:
        out = out * rng.uniform(0.8, 1.2, 3)[None, None, :]
    if rng.random() < p_grey:
        out = np.repeat(out.mean(2, keepdims=True), 3, 2)
    return np.clip(out, 0, 255).astype(np.uint8)


def photometric(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Colour jitter, then blur or low resolution, then noise."""
    out = colour_jitter(rng, img)
    r = rng.random()
    if r < 0.1:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
    elif r < 0.2:
        s = out.shape[0]
        k = rng.uniform(0.4, 0.8)
        small = cv2.resize(out, (max(8, int(s * k)),) * 2, interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (s, s), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.1:
        out = np.clip(out.astype(np.int16) + rng.normal(0, rng.uniform(2, 8), out.shape).astype(np.int16), 0, 255).astype(np.uint8)
    return out


def compose_scene(rng: np.random.Generator, faces: list[FaceRecord], negs: list[np.ndarray], p: SceneParams = SceneParams()) -> Scene:
    """One random training scene (see module docstring)."""
    s = p.size
    canvas = np.zeros((s, s, 3), np.uint8)
    k = int(rng.choice(len(p.grid_weights), p=np.asarray(p.grid_weights) / sum(p.grid_weights))) + 1
    xs, ys = _cuts(rng, k, s), _cuts(rng, k, s)
    boxes, kpss, ignore = [], [], []

    def add(box, kps, vis):
        frac, cl = _visible_fraction(box, vis)
        size = max(box[2] - box[0], box[3] - box[1])
        if frac <= 0.02:
            return
        if frac >= p.min_visible and size >= p.min_face:
            boxes.append(box)
            kpss.append(kps)
        else:
            ignore.append(cl)

    for i in range(k):
        for j in range(k):
            x0, x1, y0, y1 = int(xs[j]), int(xs[j + 1]), int(ys[i]), int(ys[i + 1])
            cw, ch = x1 - x0, y1 - y0
            if cw < 4 or ch < 4:
                continue
            canvas[y0:y1, x0:x1] = _background(rng, negs, cw, ch)
            if rng.random() >= p.p_face:
                continue
            rec = faces[rng.integers(len(faces))]
            hi = min(p.max_face, 1.05 * min(cw, ch))
            lo = min(p.min_face * 0.8, hi)
            size = float(np.exp(rng.uniform(np.log(lo), np.log(max(hi, lo + 1e-3)))))
            m_x, m_y = min(0.35 * size, cw / 2), min(0.35 * size, ch / 2)
            centre = np.array([rng.uniform(x0 + m_x, x1 - m_x), rng.uniform(y0 + m_y, y1 - m_y)])
            roll = float(np.clip(rng.normal(0, p.max_roll / 2.5), -p.max_roll, p.max_roll)) if rng.random() < 0.5 else 0.0
            m = _face_transform(rng, rec, size, centre, roll)
            add(*_place(canvas, rec, m, (x0, y0, x1, y1)))

    if rng.random() < p.p_small:
        for _ in range(rng.integers(1, 8)):
            rec = faces[rng.integers(len(faces))]
            size = float(np.exp(rng.uniform(np.log(p.min_face), np.log(40.0))))
            centre = rng.uniform(0, s, 2)
            m = _face_transform(rng, rec, size, centre, float(rng.normal(0, 8)))
            # paste only the face with a little context so the new rectangle does not cover other faces
            half = 0.9 * size
            reg = (int(max(0, centre[0] - half)), int(max(0, centre[1] - half)), int(min(s, centre[0] + half + 1)), int(min(s, centre[1] + half + 1)))
            if reg[2] - reg[0] < 4 or reg[3] - reg[1] < 4:
                continue
            rb = np.array(reg, dtype=np.float64)
            taken = boxes + ignore
            if any(min(rb[2], b[2]) > max(rb[0], b[0]) and min(rb[3], b[3]) > max(rb[1], b[1]) for b in taken):
                continue
            add(*_place(canvas, rec, m, reg))

    boxes_a = np.asarray(boxes, np.float32).reshape(-1, 4)
    kps_a = np.asarray(kpss, np.float32).reshape(-1, 5, 2)
    ign_a = np.asarray(ignore, np.float32).reshape(-1, 4)
    if rng.random() < 0.5:
        canvas = np.ascontiguousarray(canvas[:, ::-1])
        fx = lambda b: np.stack([s - 1 - b[:, 2], b[:, 1], s - 1 - b[:, 0], b[:, 3]], 1)
        boxes_a, ign_a = fx(boxes_a), fx(ign_a)
        kps_a = kps_a.copy()
        kps_a[..., 0] = s - 1 - kps_a[..., 0]
        kps_a = kps_a[:, FLIP5]
    canvas = photometric(rng, canvas)
    return Scene(canvas, boxes_a, kps_a, ign_a)
