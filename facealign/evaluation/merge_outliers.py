"""Outlier (intruder) trials for the merge consensus check (facealign.merge.outliers): sets of one person's photos
with one photo of another person added; is the intruder left out, and how many of the person's own photos are?

Two regimes:
- ``all``: the set as it is. YouTube Faces sets hold several frames of each video, near-duplicates of each
  other, so an own photo nearly always has a close neighbour;
- ``cross_video``: every photo's distances to the other frames of its own video hidden (as if every photo were
  from a different occasion); the harder, more realistic case for a user's photos.

Used by ``facealign eval merge`` (the operating-point table) and by ``benchmarks/merge_outliers_calibrate.py``
(fitting the weights on train people).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facealign.merge import outliers as ol
from facealign.merge.evidence import KINDS, describe, distance_matrix

FEATURES = tuple(ol.WEIGHTS)
REGIMES = ("all", "cross_video")
_VF = re.compile(r"_(\d)\d(_t)?$")


def video_of(path: str | Path) -> str:
    """The video of a YouTube Faces frame ``Person_VF[_t].jpg`` (V), or the stem when the name does not say."""
    stem = Path(path).stem
    m = _VF.search(stem)
    return m[1] if m else stem


def set_descriptors(images: list[np.ndarray], faces: list) -> list[dict]:
    """The evidence descriptors of each photo of a set."""
    return [describe(img, f).vectors for img, f in zip(images, faces)]


def trial_z(descs: list[dict], videos: list[str], hide_same_video: bool, floors: dict[str, float] | None = None
            ) -> dict[str, np.ndarray]:
    """Every photo's evidence z-scores within one set (``videos``: a label per photo; with ``hide_same_video``
    the pairs of one label are hidden from each other)."""
    mats = {k: distance_matrix([d.get(k) for d in descs]) for k in KINDS}
    exclude = None
    if hide_same_video:
        v = np.asarray(videos)
        exclude = v[:, None] == v[None, :]
    return ol.evidence_z(mats, exclude, floors)


def spread_floors(descs: dict[str, list[dict]], percentile: float = 10.0) -> dict[str, float]:
    """Per evidence distance, the ``percentile`` of its robust spread within each person's own set."""
    spreads: dict[str, list[float]] = {}
    for own in descs.values():
        mats = {k: distance_matrix([d.get(k) for d in own]) for k in KINDS}
        for k, v in ol.evidence_distances(mats).items():
            sp = ol.robust_spread(v)
            if np.isfinite(sp):
                spreads.setdefault(k, []).append(sp)
    return {k: float(np.percentile(v, percentile)) for k, v in spreads.items()}


@dataclass
class Trials:
    X: np.ndarray  # (m, F) z-scores in FEATURES order
    y: np.ndarray  # (m,) 1 for the intruder
    regime: str

    def scores(self, weights: dict[str, float] | None = None, bias: float | None = None) -> np.ndarray:
        z = {k: self.X[:, j] for j, k in enumerate(FEATURES)}
        return ol.combined_score(z, weights, bias)


def build_trials(descs: dict[str, list[dict]], videos: dict[str, list[str]], regime: str,
                 intruders: int = 0, seed: int = 0, floors: dict[str, float] | None = None) -> Trials:
    """For every person, sets with one intruder each: ``intruders`` other people drawn at random (a random photo
    of each), or with 0 every other person's first photo."""
    rng = np.random.default_rng(seed)
    names = sorted(descs)
    xs, ys = [], []
    for n in names:
        others = [m for m in names if m != n]
        if intruders and intruders < len(others):
            picks = [(others[q], None) for q in rng.choice(len(others), intruders, replace=False)]
        else:
            picks = [(o, 0) for o in others]
        for o, k in picks:
            k = int(rng.integers(len(descs[o]))) if k is None else k
            z = trial_z(descs[n] + [descs[o][k]], videos[n] + ["intruder"], regime == "cross_video", floors)
            xs.append(np.stack([z[f] for f in FEATURES], 1))
            y = np.zeros(len(descs[n]) + 1)
            y[-1] = 1
            ys.append(y)
    x = np.nan_to_num(np.concatenate(xs), nan=0.0)
    return Trials(np.clip(x, *ol.Z_CLIP), np.concatenate(ys), regime)


def fit_weights(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, iters: int = 50) -> tuple[np.ndarray, float]:
    """Non-negative, class-balanced logistic regression (Newton steps; features whose weight turns negative are
    dropped and the rest refitted): (weights (F,), bias)."""
    active = np.ones(x.shape[1], bool)
    bal = np.where(y == 1, (y == 0).sum() / max((y == 1).sum(), 1), 1.0)
    while True:
        xb = np.c_[x[:, active], np.ones(len(x))]
        w = np.zeros(xb.shape[1])
        for _ in range(iters):
            p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
            reg = l2 * np.r_[np.ones(len(w) - 1), 0.0]
            g = xb.T @ (bal * (p - y)) / len(y) + reg * w
            h = (xb * (bal * p * (1 - p))[:, None]).T @ xb / len(y) + np.diag(reg + 1e-9)
            step = np.linalg.solve(h, g)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        if (w[:-1] >= 0).all():
            out = np.zeros(x.shape[1])
            out[active] = w[:-1]
            return out, float(w[-1])
        active[np.flatnonzero(active)[np.argmin(w[:-1])]] = False


def rates(scores: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """Intruder recall (left out) and false rejection (own photos left out) at a threshold."""
    return {"intruder_recall": float(np.mean(scores[y == 1] > threshold)),
            "false_rejection": float(np.mean(scores[y == 0] > threshold)),
            "intruders": int((y == 1).sum()), "own": int((y == 0).sum())}


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    """Probability that an intruder scores above an own photo."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(len(scores))
    pos = y == 1
    return float((ranks[pos].mean() - (pos.sum() - 1) / 2) / max((~pos).sum(), 1))


def operating_table(trials: list[Trials], thresholds: dict[str, float] | None = None) -> dict:
    """Per regime: the AUC and the rates at each operating point (default: the shipped ones)."""
    th = ol.OPERATING_POINTS if thresholds is None else thresholds
    out = {}
    for t in trials:
        s = t.scores()
        out[t.regime] = {"auc": auc(s, t.y), **{name: {"threshold": v, **rates(s, t.y, v)} for name, v in th.items()}}
    return out
