"""Synthetic face sequences from labelled stills, and the per-frame model's predictions on them (cached).

There is no labelled face video here, so a sequence is made from one labelled still: the still is warped by a
smooth random trajectory of similarity + perspective motion (or held fixed: a "still" sequence, where only the
noise changes), and each frame gets its own noise, blur, brightness drift and JPEG compression. The 68 labels
go through the same warp, so the ground truth is exact.

The per-frame landmark ONNX model then runs on every frame the way the video tracker runs it: the first frame's
box is the ground-truth box with detector-like jitter, every later box follows from the previous frame's
predicted points by the tracker's own rule (facealign.temporal.tracker.follow_box). Frames are rendered in chunks and thrown away; only
ground truth, predictions and scores are kept (a few MB), so training the temporal net costs little.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.crop import crop_transform, roll_from_five
from facealign.temporal.tracker import BOX_RULE, follow_box
from facealign.alignment.points import five_from_68, tight_box
from facealign.training.temporal.config import SequenceConfig

SEQUENCE_RULE = "2"  # bump when the rendering code changes (cache key)


def load_stills(root: Path, folders: list[str]) -> list[tuple[Path, np.ndarray]]:
    """(image path, 68 points 0-based) of every labelled face in the given .pts folders."""
    from facealign.data.pts import read_pts_folder

    out = []
    for f in folders:
        for s in read_pts_folder(Path(root) / f):
            if len(s.points) == 68:
                out.append((s.image, s.points))
    return out


def _smooth_signal(rng: np.random.Generator, n: int, fps: float, fmax: float, amp: float) -> np.ndarray:
    """A smooth random signal (sum of three sinusoids up to ``fmax`` Hz plus a drift), peak about ``amp``."""
    t = np.arange(n) / fps
    s = rng.uniform(-1, 1) * t / max(t[-1], 1e-6) * 0.5
    for _ in range(3):
        f = rng.uniform(0.05, fmax)
        s = s + rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    s = s - s[0] * rng.uniform(0, 1)
    return amp * s / max(np.abs(s).max(), 1e-6)


def trajectory(rng: np.random.Generator, cfg: SequenceConfig, face: float, kind: str) -> np.ndarray:
    """(T, 3, 3) homographies about the frame centre: identity for ``still``; ``slow`` or ``fast`` motion."""
    n = cfg.frames
    h = np.tile(np.eye(3), (n, 1, 1))
    if kind == "still":
        return h
    fmax = cfg.slow_hz if kind == "slow" else cfg.fast_hz
    k = 1.0 if kind == "slow" else 1.6
    tx = _smooth_signal(rng, n, cfg.fps, fmax, k * cfg.shift * face)
    ty = _smooth_signal(rng, n, cfg.fps, fmax, k * cfg.shift * face)
    rot = np.radians(_smooth_signal(rng, n, cfg.fps, fmax, k * cfg.rotate))
    sc = np.exp(_smooth_signal(rng, n, cfg.fps, fmax, k * cfg.scale))
    px = _smooth_signal(rng, n, cfg.fps, fmax, cfg.perspective)
    py = _smooth_signal(rng, n, cfg.fps, fmax, cfg.perspective)
    c = (cfg.frame_size - 1) / 2
    to_c = np.array([[1, 0, -c], [0, 1, -c], [0, 0, 1.0]])
    from_c = np.array([[1, 0, c], [0, 1, c], [0, 0, 1.0]])
    for t in range(n):
        cs, sn = np.cos(rot[t]) * sc[t], np.sin(rot[t]) * sc[t]
        m = np.array([[cs, -sn, tx[t]], [sn, cs, ty[t]], [px[t], py[t], 1.0]])
        h[t] = from_c @ m @ to_c
    return h


def render_sequence(
    image: np.ndarray, pts: np.ndarray, rng: np.random.Generator, cfg: SequenceConfig, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """(frames (T, S, S, 3) uint8, ground truth (T, 68, 2)) of one sequence made from one still."""
    size = cfg.frame_size
    box = tight_box(pts)
    centre = (box[:2] + box[2:]) / 2
    face = rng.uniform(*cfg.face_size)
    k = face / max(box[2] - box[0], box[3] - box[1], 1.0)
    a = np.radians(rng.uniform(-15, 15))
    c = (size - 1) / 2 + rng.uniform(-0.08, 0.08, 2) * size
    base = np.eye(3)
    base[:2, :2] = k * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    base[:2, 2] = c - base[:2, :2] @ centre
    hs = trajectory(rng, cfg, face, kind) @ base
    gain = 1 + rng.uniform(-cfg.brightness, cfg.brightness)
    drift = _smooth_signal(rng, cfg.frames, cfg.fps, 0.5, cfg.brightness / 5)
    if kind == "still":  # a still sequence: the same image, only the noise (and its compression) changes
        drift[:] = 0.0
    sigma = rng.uniform(*cfg.noise)
    blur = rng.uniform(*cfg.blur) if rng.random() < cfg.p_blur else 0.0
    quality = int(rng.integers(*cfg.jpeg)) if rng.random() < cfg.p_jpeg else 0
    frames = np.empty((cfg.frames, size, size, 3), np.uint8)
    gt = np.empty((cfg.frames, 68, 2))
    for t, h in enumerate(hs):
        img = cv2.warpPerspective(image, h, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        if blur > 0:
            img = cv2.GaussianBlur(img, (0, 0), blur)
        f = img.astype(np.float32) * (gain + drift[t]) + rng.normal(0, sigma, img.shape).astype(np.float32)
        img = np.clip(f, 0, 255).astype(np.uint8)
        if quality:
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        frames[t] = img
        gt[t] = cv2.perspectiveTransform(pts[None].astype(np.float64), h)[0]
    return frames, gt


class _FrameModel:
    """The per-frame landmark ONNX model, run on many frames (one box each) as one batch."""

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        from facealign.runtime.session import create_session

        self.session = create_session(path, threads)
        self.size = int(self.session.get_inputs()[0].shape[1])

    def __call__(self, frames: np.ndarray, boxes: np.ndarray, angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(frames)
        crops = np.empty((n, self.size, self.size, 3), np.uint8)
        inv = np.empty((n, 2, 3))
        for i in range(n):
            m = crop_transform(boxes[i], self.size, angles[i])
            cv2.warpAffine(frames[i], m, (self.size, self.size), dst=crops[i], flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT)
            inv[i] = cv2.invertAffineTransform(m)
        lm, sc = self.session.run(["landmarks", "scores"], {"input": crops})
        lm = np.einsum("nij,nkj->nki", inv[:, :, :2], lm.astype(np.float64)) + inv[:, None, :, 2]
        return lm, sc.astype(np.float32)


def predict_tracked(model: _FrameModel, frames: np.ndarray, gt: np.ndarray, rng: np.random.Generator, jitter: float):
    """Per-frame predictions (B, T, 68, 2) and scores (B, T, 68) for B sequences (B, T, S, S, 3), tracked as in
    the video runtime: frame 0 from a jittered ground-truth box, then boxes from the previous predictions."""
    b, n = frames.shape[:2]
    pred = np.empty((b, n, 68, 2))
    scores = np.empty((b, n, 68), np.float32)
    boxes = np.empty((b, 4))
    angles = np.empty(b)
    for i in range(b):
        box = tight_box(gt[i, 0])
        side = max(box[2] - box[0], box[3] - box[1])
        centre = (box[:2] + box[2:]) / 2 + rng.normal(0, jitter, 2) * side
        half = (box[2:] - box[:2]) / 2 * np.exp(rng.normal(0, jitter))
        boxes[i] = np.concatenate([centre - half, centre + half])
        angles[i] = roll_from_five(five_from_68(gt[i, 0])) + rng.normal(0, 3)
    for t in range(n):
        pred[:, t], scores[:, t] = model(frames[:, t], boxes, angles)
        for i in range(b):
            boxes[i], angles[i] = follow_box(boxes[i], angles[i], pred[i, t])
    return pred, scores


def make_sequences(
    stills: list[tuple[Path, np.ndarray]],
    n: int,
    cfg: SequenceConfig,
    model_path: str | Path,
    seed: int,
    chunk: int = 16,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Render ``n`` sequences from ``stills`` and run the per-frame model on them.

    Returns arrays: ``gt`` and ``pred`` (n, T, 68, 2), ``scores`` (n, T, 68), ``kind`` (n,) 0 still / 1 slow /
    2 fast, ``fps`` (scalar)."""
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    model = _FrameModel(model_path)
    kinds = np.where(rng.random(n) < cfg.p_still, 0, np.where(rng.random(n) < cfg.p_fast, 2, 1))
    which = rng.integers(0, len(stills), n)
    gts, preds, scs = [], [], []
    names = ("still", "slow", "fast")
    for s in tqdm(range(0, n, chunk), disable=not progress, desc="sequences", unit="chunk"):
        fr, gt = [], []
        for i in range(s, min(n, s + chunk)):
            path, pts = stills[which[i]]
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            f, g = render_sequence(img, pts, rng, cfg, names[kinds[i]])
            fr.append(f)
            gt.append(g)
        fr, gt = np.stack(fr), np.stack(gt)
        p, sc = predict_tracked(model, fr, gt, rng, cfg.det_jitter)
        gts.append(gt.astype(np.float32))
        preds.append(p.astype(np.float32))
        scs.append(sc)
    return {
        "gt": np.concatenate(gts),
        "pred": np.concatenate(preds),
        "scores": np.concatenate(scs),
        "kind": kinds.astype(np.int8),
        "fps": np.float32(cfg.fps),
    }


def cached_sequences(
    name: str,
    root: Path,
    folders: list[str],
    n: int,
    cfg: SequenceConfig,
    model_path: str | Path,
    cache_dir: str | Path,
    seed: int,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """make_sequences, computed once per (data, config, per-frame model file) and stored under ``cache_dir``."""
    model_path = Path(model_path)
    key = hashlib.sha1(
        json.dumps([folders, n, asdict(cfg), seed, BOX_RULE, SEQUENCE_RULE], sort_keys=True, default=str).encode() + model_path.read_bytes()
    ).hexdigest()[:10]
    path = Path(cache_dir) / f"{name}_{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    stills = load_stills(root, folders)
    if not stills:
        raise FileNotFoundError(f"no labelled 68-point stills in {root} / {folders}")
    data = make_sequences(stills, n, cfg, model_path, seed, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **data)
    tmp.replace(path)
    return data
