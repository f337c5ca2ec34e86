"""Hard negatives for detector training: things in real photos that a face detector mistakes for faces.

Rendered with OpenCV (no data files): text and single letters/digits (every Hershey font, italic, outlines and
shadows; "T", "0", "O", "8" and friends on their own), TV caption bars (lower thirds with a name line, a clock, a
channel logo, "LIVE"), name badges and cards (header strip, text lines, a logo disc, lanyard), patterns (stripes,
checks, polka dots, dot pairs over a bar, plaid, grids) and textures (multi-octave noise, woven fabric). Real hand
patches (cut at the wrist joints of the body images, scripts/self_label_faces.py) are pasted the same way.

Each renderer returns ``(rgb, alpha)``: uint8 BGR (h, w, 3) and float32 alpha in [0, 1] (h, w).
``paste_negatives`` puts a few of them onto a scene image where they cover no face box or ignore region, so they
are background for the loss. numpy / OpenCV only.
"""
from __future__ import annotations

import string
from typing import Callable

import cv2
import numpy as np

FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
)
# characters that came out as faces on TV captions and badges, drawn alone more often
FACE_LIKE_CHARS = "T0O8QBDGCUV@%&oe"
CHARS = string.ascii_letters + string.digits + "!?&@#%:.-/"
WORDS = ("NEWS", "LIVE", "BREAKING", "SPORT", "NASA", "VISITOR", "STAFF", "PRESS", "HELLO", "MY NAME IS", "SALE",
         "OPEN", "EXIT", "TEAM", "2024", "12:45", "CNN", "BBC", "TV", "ID", "GUEST", "CREW", "FINAL", "SCORE")

Renderer = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]


def _colour(rng: np.random.Generator, dark: bool | None = None) -> tuple[int, int, int]:
    if dark is None:
        return tuple(int(v) for v in rng.integers(0, 256, 3))
    lo, hi = (0, 90) if dark else (165, 256)
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


def random_text(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.35:
        return str(rng.choice(list(FACE_LIKE_CHARS)))
    if r < 0.55:
        return "".join(rng.choice(list(CHARS), int(rng.integers(2, 4))))
    if r < 0.8:
        return str(rng.choice(WORDS))
    return "".join(rng.choice(list(CHARS + " "), int(rng.integers(4, 12)))).strip() or "A"


def _text_layer(rng: np.random.Generator, text: str, height: int, colour, font: int, thick: int,
                outline: int, outline_colour) -> tuple[np.ndarray, np.ndarray]:
    """Text drawn on a transparent layer about ``height`` px high (alpha from the strokes)."""
    base, _ = cv2.getTextSize(text, font, 1.0, 1)
    scale = max(0.2, height / max(1, base[1]) * 0.75)
    (tw, th), bl = cv2.getTextSize(text, font, scale, thick + 2 * outline)
    pad = 2 + outline + thick
    h, w = th + bl + 2 * pad, tw + 2 * pad
    rgb = np.zeros((h, w, 3), np.uint8)
    a = np.zeros((h, w), np.uint8)
    org = (pad, pad + th)
    if outline:
        cv2.putText(rgb, text, org, font, scale, outline_colour, thick + 2 * outline, cv2.LINE_AA)
        cv2.putText(a, text, org, font, scale, 255, thick + 2 * outline, cv2.LINE_AA)
    cv2.putText(rgb, text, org, font, scale, colour, thick, cv2.LINE_AA)
    cv2.putText(a, text, org, font, scale, 255, thick, cv2.LINE_AA)
    return rgb, a.astype(np.float32) / 255.0


def render_text(rng: np.random.Generator, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Letters, digits or words, transparent around the strokes, sometimes on a plate of their own."""
    font = int(rng.choice(FONTS)) | (cv2.FONT_ITALIC if rng.random() < 0.15 else 0)
    thick = int(rng.integers(1, max(2, height // 8) + 1))
    outline = int(rng.integers(1, 3)) if rng.random() < 0.3 else 0
    rgb, a = _text_layer(rng, random_text(rng), height, _colour(rng), font, thick, outline, _colour(rng, True))
    if rng.random() < 0.4:  # on a plate (sign, caption box, sticker)
        plate = np.empty_like(rgb)
        plate[:] = _colour(rng)
        rgb = (rgb * a[..., None] + plate * (1 - a[..., None])).astype(np.uint8)
        a = np.ones_like(a)
    return rgb, a


def render_caption_bar(rng: np.random.Generator, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A TV lower third: gradient bar, one or two text lines, optional clock, channel logo and LIVE box."""
    h = max(10, height)
    w = int(h * rng.uniform(3.0, 9.0))
    c1, c2 = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
    t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    rgb = np.broadcast_to(c1 * (1 - t) + c2 * t, (h, w, 3)).astype(np.uint8).copy()
    x = 2
    if rng.random() < 0.5:  # logo square with letters
        cv2.rectangle(rgb, (0, 0), (h, h - 1), _colour(rng), -1)
        lr, la = _text_layer(rng, "".join(rng.choice(list(string.ascii_uppercase), int(rng.integers(1, 4)))),
                             int(h * 0.5), _colour(rng), int(rng.choice(FONTS[:5])), max(1, h // 12), 0, (0, 0, 0))
        _blend_into(rgb, lr, la, int(h / 2 - lr.shape[1] / 2), int(h / 2 - lr.shape[0] / 2))
        x = h + 3
    lines = 2 if rng.random() < 0.5 and h >= 16 else 1
    for i in range(lines):
        lh = int(h / (lines + 0.6))
        tr, ta = _text_layer(rng, random_text(rng) if rng.random() < 0.5 else str(rng.choice(WORDS)), lh,
                             _colour(rng, bool(c1.mean() > 128)), int(rng.choice(FONTS[:6])), max(1, lh // 10), 0,
                             (0, 0, 0))
        _blend_into(rgb, tr, ta, x, int(i * h / lines))
    if rng.random() < 0.4:  # clock or score digits at the right
        tr, ta = _text_layer(rng, f"{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}", int(h * 0.55),
                             (255, 255, 255), int(rng.choice(FONTS[:5])), max(1, h // 12), 0, (0, 0, 0))
        _blend_into(rgb, tr, ta, w - tr.shape[1] - 2, int(h * 0.2))
    if rng.random() < 0.3:
        cv2.rectangle(rgb, (w // 2, 0), (w // 2 + h, h // 2), (0, 0, 220), -1)
        cv2.putText(rgb, "LIVE", (w // 2 + 1, h // 2 - 2), cv2.FONT_HERSHEY_SIMPLEX, max(0.2, h / 80), (255, 255, 255), 1)
    return rgb, np.ones((h, w), np.float32)


def render_badge(rng: np.random.Generator, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A name badge / ID card: rounded card, coloured header, a logo disc or text, a few text lines."""
    h = max(8, height)
    w = int(h * (rng.uniform(1.3, 1.8) if rng.random() < 0.6 else rng.uniform(0.6, 0.8)))
    s = 4  # draw 4x larger, then shrink (smooth edges)
    H, W = h * s, w * s
    card = np.empty((H, W, 3), np.uint8)
    card[:] = _colour(rng, False) if rng.random() < 0.7 else _colour(rng)
    if rng.random() < 0.7:
        cv2.rectangle(card, (0, 0), (W, int(H * rng.uniform(0.15, 0.35))), _colour(rng), -1)
    if rng.random() < 0.5:  # logo disc (like an agency meatball) or a coloured square
        r = int(H * rng.uniform(0.12, 0.25))
        cx, cy = int(W * rng.uniform(0.15, 0.85)), int(H * rng.uniform(0.25, 0.75))
        if rng.random() < 0.6:
            cv2.circle(card, (cx, cy), r, _colour(rng), -1)
            if rng.random() < 0.5:
                cv2.ellipse(card, (cx, cy), (r, r // 3), float(rng.uniform(-40, 40)), 0, 360, _colour(rng), max(1, r // 6))
        else:
            cv2.rectangle(card, (cx - r, cy - r), (cx + r, cy + r), _colour(rng), -1)
    for i in range(int(rng.integers(1, 4))):
        lh = int(H * rng.uniform(0.1, 0.22))
        tr, ta = _text_layer(rng, random_text(rng), lh, _colour(rng, True), int(rng.choice(FONTS[:6])),
                             max(1, lh // 8), 0, (0, 0, 0))
        _blend_into(card, tr, ta, int(W * rng.uniform(0.05, 0.4)), int(H * (0.35 + 0.2 * i)))
    a = np.zeros((H, W), np.uint8)
    rr = int(min(H, W) * rng.uniform(0.0, 0.15))
    cv2.rectangle(a, (rr, 0), (W - 1 - rr, H - 1), 255, -1)
    cv2.rectangle(a, (0, rr), (W - 1, H - 1 - rr), 255, -1)
    for cx, cy in ((rr, rr), (W - 1 - rr, rr), (rr, H - 1 - rr), (W - 1 - rr, H - 1 - rr)):
        cv2.circle(a, (cx, cy), rr, 255, -1)
    if rng.random() < 0.3:  # clip hole / lanyard slot
        cv2.rectangle(card, (W // 2 - W // 10, H // 20), (W // 2 + W // 10, H // 20 + H // 25 + 1), (40, 40, 40), -1)
    rgb = cv2.resize(card, (w, h), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return rgb, alpha


def render_pattern(rng: np.random.Generator, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Stripes, checks, polka dots, dot pairs over a bar (face-like), plaid, grids or circles."""
    h = max(8, height)
    w = int(h * rng.uniform(0.7, 2.5))
    c1, c2 = _colour(rng), _colour(rng)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = c1
    kind = int(rng.integers(6))
    p = max(3, int(h * rng.uniform(0.08, 0.4)))
    if kind == 0:  # stripes at an angle
        yy, xx = np.mgrid[0:h, 0:w]
        a = rng.uniform(0, np.pi)
        m = (np.sin((xx * np.cos(a) + yy * np.sin(a)) * 2 * np.pi / p) > 0)
        img[m] = c2
    elif kind == 1:  # checks
        yy, xx = np.mgrid[0:h, 0:w]
        img[((xx // p + yy // p) % 2) == 1] = c2
    elif kind == 2:  # polka dots
        for y in range(p // 2, h, p):
            for x in range(p // 2 + (y // p % 2) * p // 2, w, p):
                cv2.circle(img, (x, y), max(1, p // 4), c2, -1, cv2.LINE_AA)
    elif kind == 3:  # two dots over a bar, repeated: the simplest face-like pattern
        for y in range(0, h, 2 * p):
            for x in range(0, w, 2 * p):
                r = max(1, p // 4)
                cv2.circle(img, (x + p // 2, y + p // 2), r, c2, -1, cv2.LINE_AA)
                cv2.circle(img, (x + 3 * p // 2, y + p // 2), r, c2, -1, cv2.LINE_AA)
                cv2.line(img, (x + p // 2, y + 3 * p // 2), (x + 3 * p // 2, y + 3 * p // 2), c2, max(1, r // 2))
    elif kind == 4:  # plaid / grid
        for x in range(0, w, p):
            cv2.line(img, (x, 0), (x, h), c2, max(1, p // 5))
        for y in range(0, h, p):
            cv2.line(img, (0, y), (w, y), _colour(rng), max(1, p // 5))
    else:  # random circles and rings
        for _ in range(int(rng.integers(2, 10))):
            cv2.circle(img, (int(rng.integers(w)), int(rng.integers(h))), int(rng.integers(2, max(3, h // 3))),
                       _colour(rng), int(rng.choice([-1, 1, 2])), cv2.LINE_AA)
    return img, np.ones((h, w), np.float32)


def render_texture(rng: np.random.Generator, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Multi-octave coloured noise (foliage, gravel, crowds of shapes) or a woven fabric."""
    h = max(8, height)
    w = int(h * rng.uniform(0.7, 2.0))
    if rng.random() < 0.5:
        acc = np.zeros((h, w), np.float32)
        for o in range(4):
            g = max(2, int(h / (4 * 2 ** o)) + 1)
            n = rng.normal(0, 1, (g, max(2, int(g * w / h) + 1))).astype(np.float32)
            acc += cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC) / (o + 1)
        acc = (acc - acc.min()) / max(1e-6, np.ptp(acc))
        c1, c2 = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
        img = c1 * acc[..., None] + c2 * (1 - acc[..., None])
    else:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        p = rng.uniform(2, 6)
        weave = 0.5 + 0.25 * np.sin(xx * 2 * np.pi / p) * np.sign(np.sin(yy * np.pi / p)) + 0.25 * rng.random((h, w))
        img = np.array(_colour(rng), np.float32) * weave[..., None]
    return np.clip(img, 0, 255).astype(np.uint8), np.ones((h, w), np.float32)


RENDERERS: dict[str, Renderer] = {
    "text": render_text, "caption": render_caption_bar, "badge": render_badge, "pattern": render_pattern,
    "texture": render_texture,
}
# how often each kind is drawn (text and badges are the false faces we know of)
WEIGHTS = {"text": 0.35, "caption": 0.15, "badge": 0.2, "pattern": 0.15, "texture": 0.05, "hand": 0.1}


def _blend_into(dst: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x: int, y: int) -> tuple[int, int, int, int] | None:
    """Alpha-blend ``rgb`` into ``dst`` with its top-left corner at (x, y), clipped; returns the covered box."""
    H, W = dst.shape[:2]
    h, w = alpha.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x, None]
    src = rgb[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    reg = dst[y0:y1, x0:x1].astype(np.float32)
    dst[y0:y1, x0:x1] = (src * a + reg * (1 - a) + 0.5).astype(np.uint8)
    return x0, y0, x1, y1


def render_negative(rng: np.random.Generator, height: int, hands: list[np.ndarray] | None = None,
                    kind: str | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """One hard negative about ``height`` px high: (rgb, alpha, kind); a small rotation, sometimes."""
    if kind is None:
        kinds = [k for k in WEIGHTS if k != "hand" or hands]
        wts = np.array([WEIGHTS[k] for k in kinds])
        kind = str(rng.choice(kinds, p=wts / wts.sum()))
    if kind == "hand":
        src = hands[int(rng.integers(len(hands)))]
        k = height / max(1, src.shape[0])
        rgb = cv2.resize(src, (max(2, round(src.shape[1] * k)), max(2, round(src.shape[0] * k))),
                         interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        if rng.random() < 0.5:
            rgb = np.ascontiguousarray(rgb[:, ::-1])
        a = np.zeros(rgb.shape[:2], np.float32)
        cv2.ellipse(a, (rgb.shape[1] // 2, rgb.shape[0] // 2), (max(1, rgb.shape[1] // 2), max(1, rgb.shape[0] // 2)),
                    0, 0, 360, 1.0, -1)
        a = cv2.GaussianBlur(a, (0, 0), max(0.5, height / 12))
    else:
        rgb, a = RENDERERS[kind](rng, max(6, int(height)))
    if rng.random() < 0.3:
        ang = float(rng.uniform(-25, 25))
        h, w = a.shape
        d = int(np.ceil(np.hypot(h, w)))
        m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
        m[:, 2] += ((d - w) / 2, (d - h) / 2)
        rgb = cv2.warpAffine(rgb, m, (d, d), flags=cv2.INTER_LINEAR)
        a = cv2.warpAffine(a, m, (d, d), flags=cv2.INTER_LINEAR)
    return rgb, a, kind


def _free(box: np.ndarray, taken: np.ndarray) -> bool:
    if len(taken) == 0:
        return True
    ix = np.minimum(box[2], taken[:, 2]) - np.maximum(box[0], taken[:, 0])
    iy = np.minimum(box[3], taken[:, 3]) - np.maximum(box[1], taken[:, 1])
    return not bool(((ix > 0) & (iy > 0)).any())


def paste_negatives(rng: np.random.Generator, image: np.ndarray, taken: np.ndarray, n: int,
                    hands: list[np.ndarray] | None = None, size_range: tuple[float, float] = (8.0, 120.0),
                    tries: int = 6) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Paste up to ``n`` hard negatives into ``image`` (in place) where they cover none of the ``taken`` boxes
    (faces and ignore regions, (m, 4), grown by a fifth of their size); their heights are log-uniform in
    ``size_range`` (px). Returns (kind, covered box) of each pasted one."""
    H, W = image.shape[:2]
    taken = np.asarray(taken, np.float64).reshape(-1, 4)
    if len(taken):
        g = 0.2 * np.maximum(taken[:, 2] - taken[:, 0], taken[:, 3] - taken[:, 1])[:, None]
        taken = taken + np.concatenate([-g, -g, g, g], 1)
    out = []
    for _ in range(n):
        hgt = float(np.exp(rng.uniform(np.log(size_range[0]), np.log(size_range[1]))))
        rgb, a, kind = render_negative(rng, int(round(hgt)), hands)
        h, w = a.shape
        if w > W or h > H:
            k = min(W / w, H / h) * 0.9
            rgb = cv2.resize(rgb, (max(1, int(w * k)), max(1, int(h * k))), interpolation=cv2.INTER_AREA)
            a = cv2.resize(a, (max(1, int(w * k)), max(1, int(h * k))), interpolation=cv2.INTER_AREA)
            h, w = a.shape
        for _ in range(tries):
            x, y = int(rng.integers(-w // 4, max(1, W - 3 * w // 4))), int(rng.integers(-h // 4, max(1, H - 3 * h // 4)))
            if _free(np.array([x, y, x + w, y + h], np.float64), taken):
                box = _blend_into(image, rgb, a, x, y)
                if box is not None:
                    out.append((kind, box))
                break
    return out
