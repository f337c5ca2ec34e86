"""The per-frame landmark model run over synthetic sequences (facealign.data.sequences) the way the video tracker
runs it, cached: what the temporal module is trained on and measured on.

The first frame's box is the ground-truth box with detector-like jitter, every later box follows from the previous
frame's predicted points by the tracker's own rule (facealign.temporal.tracker.follow_box); each crop is the
runtime's crop (facealign.alignment.crop). Frames are rendered in chunks and thrown away; only ground truth,
predictions and scores are kept (a few MB), so training the temporal net costs little.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.crop import crop_transform, roll_from_five, warp_crop
from facealign.alignment.points import five_from_68, tight_box
from facealign.data.sequences import SEQUENCE_RULE, SequenceConfig, load_stills, render_sequence
from facealign.paths import cache_dir as default_cache_dir
from facealign.stages import build_model
from facealign.temporal.tracker import BOX_RULE, follow_box


class _FrameModel:
    """The per-frame landmark ONNX model, run on many frames (one box each) as one batch. Built by the registry's
    builder like every landmark model (so the file must meet the landmark contract); the crops are made here."""

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        self.session = build_model(path, "landmarks", threads=threads).session
        self.size = int(self.session.get_inputs()[0].shape[1])

    def __call__(self, frames: np.ndarray, boxes: np.ndarray, angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(frames)
        crops = np.empty((n, self.size, self.size, 3), np.uint8)
        inv = np.empty((n, 2, 3))
        for i in range(n):
            m = crop_transform(boxes[i], self.size, angles[i])
            warp_crop(frames[i], m, self.size, dst=crops[i])
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
    """make_sequences, computed once per (data, config, per-frame model file) and stored under ``cache_dir``
    (empty: facealign.paths.cache_dir("temporal"))."""
    model_path = Path(model_path)
    key = hashlib.sha1(
        json.dumps([folders, n, asdict(cfg), seed, BOX_RULE, SEQUENCE_RULE], sort_keys=True, default=str).encode() + model_path.read_bytes()
    ).hexdigest()[:10]
    path = (Path(cache_dir) if cache_dir else default_cache_dir("temporal")) / f"{name}_{key}.npz"
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
