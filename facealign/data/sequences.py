"""Synthetic face sequences made from labelled stills: the frames and their exact ground truth.

There is no labelled face video here, so a sequence is made from one labelled still: the still is warped by a
smooth random trajectory of similarity + perspective motion (or held fixed: a "still" sequence, where only the
noise changes), and each frame gets its own noise, blur, brightness drift and JPEG compression. The 68 labels
go through the same warp, so the ground truth is exact. The per-frame model's tracked predictions on these
frames (what the temporal module learns from and is measured on) are made above the stages, in
facealign.evaluation.tracked_sequences.

``SequenceConfig`` (how sequences are rendered) and ``SequenceSources`` (which stills, how many sequences, their
cache, the per-frame model) are the ``sequences`` and ``data`` sections of a temporal config
(configs/temporal.yaml); ``load_sequence_setup`` reads just those sections, for evaluation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.points import tight_box
from facealign.data.pts import read_pts_folder
from facealign.io.config import load_config

SEQUENCE_RULE = "2"  # bump when the rendering code changes (cache key)


@dataclass
class SequenceConfig:
    """How synthetic sequences are rendered from labelled stills."""

    frames: int = 40  # frames per sequence
    frame_size: int = 192  # square frames, pixels
    face_size: tuple[float, float] = (70.0, 120.0)  # max side of the face's tight box in the frame (range)
    p_still: float = 0.35  # share of still sequences (the image does not move, only noise changes)
    p_fast: float = 0.3  # share of fast-moving sequences among the moving ones
    slow_hz: float = 0.5  # highest frequency of slow trajectories
    fast_hz: float = 1.2  # highest frequency of fast ones (peak speeds ~2 face sizes per second)
    shift: float = 0.25  # trajectory amplitude: translation, fraction of the face size
    rotate: float = 12.0  # degrees
    scale: float = 0.12  # log scale
    perspective: float = 0.0006  # projective terms (1 / pixels)
    fps: float = 30.0
    noise: tuple[float, float] = (1.0, 8.0)  # per-frame Gaussian noise sigma range (grey levels)
    p_blur: float = 0.4
    blur: tuple[float, float] = (0.3, 1.5)  # Gaussian blur sigma range
    brightness: float = 0.25  # per-sequence gain range (+-), with a slow per-frame drift of a fifth of it
    jpeg: tuple[int, int] = (35, 95)  # per-sequence JPEG quality range (each frame compressed separately)
    p_jpeg: float = 0.7
    det_jitter: float = 0.06  # first frame's box = ground-truth box jittered by this fraction (a detector)


@dataclass
class SequenceSources:
    """Labelled stills (folders under the data root, facealign.paths.data_root) and the per-frame model."""

    cache_dir: str = ""  # the sequence cache; empty: facealign.paths.cache_dir("temporal")
    train: list[str] = field(default_factory=lambda: ["300w/lfpw_train", "300w/helen_train", "ytf68/train"])
    val: list[str] = field(default_factory=lambda: ["ytf68/val", "300w/afw"])
    train_sequences: int = 800
    val_sequences: int = 200
    landmark_model: str = "stfan-lmk-112"  # the per-frame model whose output is fused: registered name or ONNX file


@dataclass
class SequenceSetup:
    """The sequence sections of a temporal config: its seed, ``sequences`` and ``data``."""

    seed: int = 0
    sequences: SequenceConfig = field(default_factory=SequenceConfig)
    data: SequenceSources = field(default_factory=SequenceSources)


def load_sequence_setup(path: str | Path) -> SequenceSetup:
    """The seed, ``sequences`` and ``data`` sections of a temporal config YAML (other sections are not read); a
    missing or malformed file, or an unknown key in those sections, raises ConfigError (a ValueError)."""
    return load_config(path, SequenceSetup, sections=("seed", "sequences", "data"))


def load_stills(root: Path, folders: list[str]) -> list[tuple[Path, np.ndarray]]:
    """(image path, 68 points 0-based) of every labelled face in the given .pts folders. A folder without any
    (missing, empty, images not there) is a FileNotFoundError, so no partial set is made and cached."""
    out = []
    for f in folders:
        before = len(out)
        for s in read_pts_folder(Path(root) / f):
            if len(s.points) == 68:
                out.append((s.image, s.points))
        if len(out) == before:
            raise FileNotFoundError(f"{Path(root) / f}: no labelled 68-point faces with their images")
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
