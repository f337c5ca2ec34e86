"""Crowd scenes for detector training: rows of people with perspective, faces with their real context, degraded
like real small faces, with hard negatives around them.

A scene is rendered at ``f`` times the training size (f = 1-2) and shrunk at the end, so its small faces get
the blur of a real downscale:

- background: a background patch of a training photo (or a flat / gradient wall);
- 2-7 rows of people from back (top, small faces: 8-24 px of the final canvas) to front (bottom, 16-72 px):
  sizes grow geometrically row by row, rows tilt a little, people stand 1.1-1.9 face widths apart (shoulders
  overlap), with size and height jitter and a small roll;
- a person is its face record's crop **with the context around the face** (hair, neck, collar: the crop is the
  face box grown by its size on each side) cut out by a soft head-and-shoulders mask, over a torso in the colour
  of the crop's clothes; rows are pasted back to front, so heads hide the faces behind them. A face whose box is
  less than ``min_visible`` visible at the end, or smaller than ``min_face`` px, is an ignore region;
- hard negatives (facealign.data.hard_negatives): name badges on chests, a TV caption bar over the bottom,
  text and signs, patterns and hands in the free space; they cover faces only through the visibility rule;
- flip, colour changes (scenes.photometric without its resolution changes), then the shrink to the final size with a
  random kernel (area, Gaussian + bilinear / nearest, bicubic, Lanczos), sensor noise and JPEG at quality 20-90.

numpy / OpenCV only. ``degrade`` is also used alone on existing scenes.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facealign.alignment.points import FLIP5, tight_box
from facealign.data.face_crops import FaceRecord
from facealign.data.hard_negatives import _blend_into, paste_negatives, render_badge, render_caption_bar
from facealign.data.scenes import Scene, _background, colour_jitter

CROWD_VERSION = 1


@dataclass
class CrowdParams:
    size: int = 320
    min_face: float = 10.0  # smaller faces (final px) are ignore regions
    min_visible: float = 0.65
    rows: tuple[int, int] = (2, 7)  # inclusive
    back_face: tuple[float, float] = (8.0, 24.0)  # face width of the back row (final px)
    front_face: tuple[float, float] = (16.0, 72.0)
    render_scale: tuple[float, float] = (1.0, 2.0)
    p_badge: float = 0.25  # per person of a row whose faces are >= 14 px
    p_caption: float = 0.25
    n_negatives: tuple[int, int] = (0, 5)
    p_jpeg: float = 0.8
    jpeg_quality: tuple[int, int] = (20, 90)


# -- degradation of a whole image -----------------------------------------------------------------------------
def shrink(rng: np.random.Generator, img: np.ndarray, w: int, h: int) -> tuple[np.ndarray, str]:
    """Resize ``img`` to (w, h) with a random kernel; returns (image, kernel name)."""
    k = max(img.shape[1] / w, img.shape[0] / h)
    r = rng.random()
    if k <= 1.001:
        return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR), "linear"
    if r < 0.35:
        return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA), "area"
    if r < 0.6:
        sig = rng.uniform(0.3, 0.6) * k
        b = cv2.GaussianBlur(img, (0, 0), sig)
        return cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR), "gauss+linear"
    if r < 0.75:
        sig = rng.uniform(0.25, 0.5) * k
        b = cv2.GaussianBlur(img, (0, 0), sig)
        return cv2.resize(b, (w, h), interpolation=cv2.INTER_NEAREST), "gauss+nearest"
    if r < 0.9:
        return cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC), "cubic"
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LANCZOS4), "lanczos"


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else img


def degrade(rng: np.random.Generator, img: np.ndarray, p_jpeg: float = 0.8,
            quality: tuple[int, int] = (20, 90)) -> np.ndarray:
    """Sensor noise (Gaussian, sometimes per-channel colour noise), a little motion blur sometimes, and JPEG."""
    out = img
    if rng.random() < 0.15:
        n = int(rng.integers(3, 6))
        kern = np.zeros((n, n), np.float32)
        a = rng.uniform(0, np.pi)
        c = (n - 1) / 2
        cv2.line(kern, (int(round(c - c * np.cos(a))), int(round(c - c * np.sin(a)))),
                 (int(round(c + c * np.cos(a))), int(round(c + c * np.sin(a)))), 1.0, 1)
        out = cv2.filter2D(out, -1, kern / max(kern.sum(), 1e-6))
    if rng.random() < 0.5:
        sd = rng.uniform(1, 8)
        shape = out.shape if rng.random() < 0.5 else out.shape[:2] + (1,)
        out = np.clip(out.astype(np.float32) + rng.normal(0, sd, shape), 0, 255).astype(np.uint8)
    if rng.random() < p_jpeg:
        out = jpeg(out, int(rng.integers(quality[0], quality[1] + 1)))
    return np.ascontiguousarray(out)


# -- people ---------------------------------------------------------------------------------------------------
def _warp_crop(rec: FaceRecord, m: np.ndarray, region: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The record's crop warped by ``m`` into ``region`` (x0, y0, x1, y1): (BGR patch, float footprint 0..1)."""
    x0, y0, x1, y1 = region
    t = m.astype(np.float64).copy()
    t[:, 2] -= (x0, y0)
    src = rec.image
    k = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if k < 0.75:  # area-average first (as scenes._place): a bilinear warp at small scales aliases
        h, w = src.shape[:2]
        nw, nh = max(1, round(w * k)), max(1, round(h * k))
        src = cv2.resize(src, (nw, nh), interpolation=cv2.INTER_AREA)
        kx, ky = nw / w, nh / h
        back = np.array([[1 / kx, 0, 0.5 / kx - 0.5], [0, 1 / ky, 0.5 / ky - 0.5]])
        t = np.concatenate([t[:, :2] @ back[:, :2], (t[:, :2] @ back[:, 2] + t[:, 2])[:, None]], 1)
    size = (x1 - x0, y1 - y0)
    patch = cv2.warpAffine(src, t, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    foot = cv2.warpAffine(np.ones(src.shape[:2], np.float32), t, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return patch, foot


def _person_mask(region, box: np.ndarray, roll: float) -> np.ndarray:
    """Soft head-and-shoulders mask (float 0..1) over ``region`` for a face box in canvas pixels."""
    x0, y0, x1, y1 = region
    m = np.zeros((y1 - y0, x1 - x0), np.float32)
    fw, fh = box[2] - box[0], box[3] - box[1]
    cx, cy = (box[0] + box[2]) / 2 - x0, (box[1] + box[3]) / 2 - y0
    # head with hair: a bit wider than the face and reaching above the brows
    cv2.ellipse(m, (int(round(cx)), int(round(cy - 0.12 * fh))), (max(1, int(0.75 * fw)), max(1, int(0.85 * fh))),
                roll, 0, 360, 1.0, -1, cv2.LINE_AA)
    chin = box[3] - y0
    poly = np.array([[cx - 0.32 * fw, chin - 0.2 * fh], [cx + 0.32 * fw, chin - 0.2 * fh],
                     [cx + 0.45 * fw, chin + 0.35 * fh], [cx + 1.2 * fw, chin + 0.7 * fh],
                     [cx + 1.3 * fw, m.shape[0] + 1], [cx - 1.3 * fw, m.shape[0] + 1],
                     [cx - 1.2 * fw, chin + 0.7 * fh], [cx - 0.45 * fw, chin + 0.35 * fh]])
    cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 1.0, cv2.LINE_AA)
    return cv2.GaussianBlur(m, (0, 0), max(0.5, 0.05 * fw))


@dataclass
class _Person:
    pts68: np.ndarray  # canvas (render) pixels
    p5: np.ndarray
    index: int


def _paste_person(rng, canvas, owner, idx, rec: FaceRecord, width: float, centre: np.ndarray, roll: float,
                  p: CrowdParams, scale: float) -> _Person | None:
    S = canvas.shape[0]
    box0 = rec.box
    k = width / max(box0[2] - box0[0], 1.0)
    a = np.radians(roll)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * k
    c = (box0[:2] + box0[2:]) / 2
    m = np.concatenate([r, (centre - r @ c)[:, None]], 1)
    pts = rec.pts68 @ m[:, :2].T + m[:, 2]
    box = tight_box(pts)
    fw, fh = box[2] - box[0], box[3] - box[1]
    # torso below the crop: a rounded block down to the canvas bottom, in the colour of the crop's clothes
    region = (int(max(0, np.floor(box[0] - 1.4 * fw))), int(max(0, np.floor(box[1] - 0.9 * fh))),
              int(min(S, np.ceil(box[2] + 1.4 * fw) + 1)), int(min(S, np.ceil(box[3] + 1.6 * fh) + 1)))
    if region[2] - region[0] < 2 or region[3] - region[1] < 2:
        return None
    patch, foot = _warp_crop(rec, m, region)
    mask = _person_mask(region, box, -roll) * foot
    x0, y0, x1, y1 = region
    # clothes colour: the crop's pixels under the chin
    cy0, cy1 = int(max(0, box[3] + 0.4 * fh - y0)), int(min(y1 - y0, box[3] + 1.0 * fh - y0))
    cx0, cx1 = int(max(0, box[0] - x0)), int(min(x1 - x0, box[2] - x0))
    sel = foot[cy0:cy1, cx0:cx1] > 0.9
    if cy1 > cy0 and cx1 > cx0 and sel.any():
        col = np.median(patch[cy0:cy1, cx0:cx1][sel], 0)
    else:
        col = np.array(rng.integers(0, 256, 3), np.float64)
    ty_top = int(box[3] + 0.6 * fh)  # the shoulders' top (may lie above the canvas)
    ty = max(0, ty_top)
    if ty < S:
        # shoulders: a wide ellipse under the neck, then the body straight down (one colour, a side shade)
        tx0, tx1 = int(max(0, box[0] - 1.25 * fw)), int(min(S, box[2] + 1.25 * fw))
        ty1 = int(min(S, ty_top + 4 * fh))  # lower down, the rows in front cover the body
        if tx1 > tx0 and ty1 > ty:
            sub = canvas[ty:ty1, tx0:tx1]
            tm = np.zeros(sub.shape[:2], np.uint8)
            cxl = int(round((box[0] + box[2]) / 2 - tx0))
            ry = max(1, int(0.5 * fh))
            cv2.ellipse(tm, (cxl, ry + ty_top - ty), (max(1, int(1.25 * fw)), ry), 0, 180, 360, 1, -1)
            tm[max(0, ry + ty_top - ty):] = 1
            shade = np.linspace(1.0, rng.uniform(0.6, 1.0), tx1 - tx0, dtype=np.float32)[:, None]
            colr = np.clip(shade * col[None, :].astype(np.float32), 0, 255).astype(np.uint8)
            np.copyto(sub, np.broadcast_to(colr[None], sub.shape), where=tm[..., None] > 0)
            owner[ty:ty1, tx0:tx1][tm > 0] = idx
    reg = canvas[y0:y1, x0:x1].astype(np.float32)
    mm = mask[..., None]
    canvas[y0:y1, x0:x1] = (patch * mm + reg * (1 - mm) + 0.5).astype(np.uint8)
    owner[y0:y1, x0:x1][mask > 0.5] = idx
    # a name badge on the chest, sometimes
    if fw / scale >= 14 and rng.random() < p.p_badge and ty < S:
        bh = int(max(4, fh * rng.uniform(0.35, 0.8)))
        rgb, al = render_badge(rng, bh)
        bx = int(box[0] + fw * rng.uniform(-0.9, 0.9))
        by = int(box[3] + fh * rng.uniform(0.7, 1.6))
        cov = _blend_into(canvas, rgb, al, bx, by)
        if cov is not None:
            owner[cov[1]:cov[3], cov[0]:cov[2]][al[cov[1] - by:cov[3] - by, cov[0] - bx:cov[2] - bx] > 0.5] = -1
    return _Person(pts, rec.p5 @ m[:, :2].T + m[:, 2], idx)


def compose_crowd_scene(rng: np.random.Generator, faces: list[FaceRecord], negs: list[np.ndarray],
                        p: CrowdParams = CrowdParams(), hands: list[np.ndarray] | None = None,
                        face_p: np.ndarray | None = None) -> Scene:
    """One random crowd scene (see the module docstring); boxes, points and ignore regions in final pixels.
    ``face_p``: sampling probabilities of the face records (e.g. profile_weights), uniform when None."""
    S = p.size
    f = float(rng.uniform(*p.render_scale))
    R = int(round(S * f))
    f = R / S
    canvas = np.ascontiguousarray(_background(rng, negs, R, R))
    owner = np.full((R, R), -1, np.int32)
    n_rows = int(rng.integers(p.rows[0], p.rows[1] + 1))
    back = float(rng.uniform(*p.back_face))
    front = max(back * 1.2, float(rng.uniform(*p.front_face)))
    sizes = back * (front / back) ** (np.arange(n_rows) / max(1, n_rows - 1))  # final px, back to front
    # row heights: back row near the top, front row low in the frame, gaps in proportion to the faces (perspective)
    y_back, y_front = float(rng.uniform(0.03, 0.3)) * S, float(rng.uniform(0.55, 0.95)) * S
    cum = np.concatenate([[0.0], np.cumsum(sizes[1:])])
    ys = y_back + (y_front - y_back) * cum / max(cum[-1], 1e-6) if n_rows > 1 else np.array([y_front])
    people: list[_Person] = []
    idx = 0
    for r in range(n_rows):
        s, y = sizes[r], float(ys[r])
        tilt = float(rng.normal(0, 0.05))
        spacing = float(rng.uniform(1.1, 1.9))
        x = float(rng.uniform(-0.5, 0.5)) * s
        while x < S + s:
            if rng.random() > 0.1:
                w = s * float(rng.uniform(0.88, 1.12))
                cy = y + tilt * (x - S / 2) + float(rng.normal(0, 0.12)) * s
                roll = float(np.clip(rng.normal(0, 6), -20, 20))
                rec = faces[int(rng.choice(len(faces), p=face_p)) if face_p is not None else int(rng.integers(len(faces)))]
                pr = _paste_person(rng, canvas, owner, idx, rec, w * f, np.array([x, cy]) * f, roll, p, f)
                if pr is not None:
                    people.append(pr)
                    idx += 1
            x += s * spacing * float(rng.uniform(0.85, 1.15))
    # hard negatives: a caption bar over the bottom, then things in the free space
    boxes_r, kps_r, ign_r = [], [], []
    if rng.random() < p.p_caption:
        bh = int(R * rng.uniform(0.06, 0.16))
        rgb, al = render_caption_bar(rng, bh)
        bw = int(R * rng.uniform(0.5, 1.0))
        rgb = cv2.resize(rgb, (bw, bh), interpolation=cv2.INTER_AREA)
        bx, by = int(rng.integers(0, max(1, R - bw))), int(R - bh - R * rng.uniform(0.0, 0.15))
        cov = _blend_into(canvas, rgb, np.ones((bh, bw), np.float32), bx, by)
        if cov is not None:
            owner[cov[1]:cov[3], cov[0]:cov[2]] = -1
    for pr in people:
        box = tight_box(pr.pts68)
        bx0, by0 = int(max(0, np.floor(box[0]))), int(max(0, np.floor(box[1])))
        bx1, by1 = int(min(R, np.ceil(box[2]))), int(min(R, np.ceil(box[3])))
        area = max(1.0, (box[2] - box[0]) * (box[3] - box[1]))
        vis = float((owner[by0:by1, bx0:bx1] == pr.index).sum()) / area if bx1 > bx0 and by1 > by0 else 0.0
        pts = (pr.pts68 + 0.5) / f - 0.5
        fb = tight_box(pts)
        width = max(fb[2] - fb[0], fb[3] - fb[1])
        if vis <= 0.05:
            continue
        if vis >= p.min_visible and width >= p.min_face:
            boxes_r.append(fb)
            kps_r.append((pr.p5 + 0.5) / f - 0.5)
        else:
            ign_r.append(np.clip(fb, 0, S - 1))
    boxes = np.asarray(boxes_r, np.float32).reshape(-1, 4)
    kps = np.asarray(kps_r, np.float32).reshape(-1, 5, 2)
    ignore = np.asarray(ign_r, np.float32).reshape(-1, 4)
    # colour, then the shrink to the final size (the small faces' blur), then negatives at final scale, noise, JPEG
    canvas = colour_jitter(rng, canvas, p_grey=0.08)
    img, _ = shrink(rng, canvas, S, S)
    n_neg = int(rng.integers(p.n_negatives[0], p.n_negatives[1] + 1))
    if n_neg:
        paste_negatives(rng, img, np.concatenate([boxes, ignore]), n_neg, hands, (8.0, 0.4 * S))
    img = degrade(rng, img, p.p_jpeg, p.jpeg_quality)
    if rng.random() < 0.5:
        img = np.ascontiguousarray(img[:, ::-1])
        fx = lambda b: np.stack([S - 1 - b[:, 2], b[:, 1], S - 1 - b[:, 0], b[:, 3]], 1)
        boxes, ignore = fx(boxes), fx(ignore)
        kps = kps.copy()
        kps[..., 0] = S - 1 - kps[..., 0]
        kps = kps[:, FLIP5]
    return Scene(img, boxes, kps, ignore)


def add_negatives_and_degrade(rng: np.random.Generator, scene: Scene, hands: list[np.ndarray] | None = None,
                              n: tuple[int, int] = (1, 5), p_degrade: float = 0.5) -> Scene:
    """Hard negatives pasted into an existing scene's free space (its faces and ignore regions stay clear), then,
    with probability ``p_degrade``, noise and low-quality JPEG. Labels are unchanged."""
    img = scene.image.copy()
    S = max(img.shape[:2])
    paste_negatives(rng, img, np.concatenate([scene.boxes, scene.ignore]), int(rng.integers(n[0], n[1] + 1)), hands,
                    (8.0, 0.4 * S))
    if rng.random() < p_degrade:
        img = degrade(rng, img)
    return Scene(img, scene.boxes, scene.kps, scene.ignore)


def yaw_proxy(p5: np.ndarray) -> float:
    """How far the nose tip sits from the eyes' midline, in eye distances (0 frontal, ~0.5+ near profile)."""
    eye_mid = (p5[0] + p5[1]) / 2
    d = float(np.linalg.norm(p5[1] - p5[0]))
    return abs(float(p5[2, 0] - eye_mid[0])) / max(d, 1e-3)


def profile_weights(faces: list[FaceRecord], boost: float = 3.0, at: float = 0.35) -> np.ndarray:
    """Sampling weights that draw turned faces (``yaw_proxy`` >= ``at``) ``boost`` times as often."""
    w = np.array([boost if yaw_proxy(f.p5) >= at else 1.0 for f in faces], np.float64)
    return w / w.sum()


__all__ = ["CROWD_VERSION", "CrowdParams", "add_negatives_and_degrade", "compose_crowd_scene",
           "degrade", "jpeg", "profile_weights", "shrink", "yaw_proxy"]
