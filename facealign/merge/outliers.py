"""Which photos to leave out of a fusion: failed fits, and faces that disagree with the set's consensus (another
person, a wrong face, a badly placed set of points).

No face-recognition network is part of the project, so "another person" is told from several weak pieces of
evidence (facealign.merge.evidence), each measured as a disagreement with the rest of the set:

- for each descriptor (3D identity coefficients, aligned shape, LBP texture, gradient orientations,
  illumination-normalised luminance, skin chroma) the pairwise distances between the photos;
- per photo two distances: to the **consensus** (the median of its distances to the others) and to its
  **nearest** others (the mean of its ``NEAREST`` smallest distances: photos of one person taken together look
  alike, another person has no close neighbour);
- each made a robust z-score within the set (minus the set's median, over 1.4826 x its MAD), so a set of varied
  photos (light, camera, pose) is judged against its own spread;
- the z-scores (clipped to [-5, 20]) weighed by non-negative weights plus a bias: a logistic score (logit) that a
  photo is an intruder. Weights and bias were fitted on YouTube Faces **train** people
  (``python benchmarks/merge_outliers_calibrate.py``; sets with one photo of another person added, also with the
  frames of a photo's own video hidden from it, so that the weights do not lean on near-duplicate frames only).

A photo is left out when its score exceeds ``THRESHOLD`` (an operating point chosen on train: about 3% of the
set's own photos left out there; ``OPERATING_POINTS`` lists others) and from ``MIN_PHOTOS`` candidates on.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facealign.merge.evidence import KINDS, describe, distance_matrix

MIN_PHOTOS = 4  # fewer photos have no meaningful consensus
NEAREST = 2  # the nearest-others distance averages this many
Z_CLIP = (-5.0, 20.0)
LABELS = {
    "identity": "3D identity shape",
    "shape": "aligned landmark shape",
    "lbp": "texture (LBP)",
    "gradient": "gradient orientations",
    "luminance": "normalised luminance",
    "skin": "skin colour",
}
# Calibrated on ytf68/train by benchmarks/merge_outliers_calibrate.py
# (benchmarks/results/merge_outliers_calibration.json)
WEIGHTS: dict[str, float] = {
    "identity_consensus": 0.081, "identity_nearest": 0.16,
    "shape_consensus": 0.0, "shape_nearest": 0.0,
    "lbp_consensus": 0.027, "lbp_nearest": 0.581,
    "gradient_consensus": 0.0, "gradient_nearest": 0.0,
    "luminance_consensus": 0.313, "luminance_nearest": 0.211,
    "skin_consensus": 0.03, "skin_nearest": 0.109,
}
BIAS = -1.626
# the least spread (1.4826 MAD) of each distance within a set: the 10th percentile over the train people's sets
FLOORS: dict[str, float] = {
    "identity_consensus": 0.158, "identity_nearest": 0.16337,
    "shape_consensus": 0.04571, "shape_nearest": 0.02743,
    "lbp_consensus": 0.01165, "lbp_nearest": 0.02422,
    "gradient_consensus": 0.01417, "gradient_nearest": 0.02848,
    "luminance_consensus": 0.02604, "luminance_nearest": 0.04812,
    "skin_consensus": 0.45675, "skin_nearest": 0.2382,
}
# operating points (logit thresholds) by the share of own photos they left out on train (both regimes pooled)
OPERATING_POINTS: dict[str, float] = {"fr2": 1.867, "fr3": 1.392, "fr5": 0.851}
THRESHOLD = OPERATING_POINTS["fr3"]


def robust_spread(x: np.ndarray) -> float:
    """1.4826 x the median absolute deviation of the finite values (NaN with fewer than 3)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < 3:
        return float("nan")
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def robust_z(x: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Robust z-scores of ``x`` (NaN stays NaN): minus the median, over 1.4826 MAD (at least 5% of |median| and
    ``floor``: a set of near-copies has almost no spread, and tiny differences must not look large)."""
    x = np.asarray(x, dtype=np.float64)
    z = np.full(x.shape, np.nan)
    f = np.isfinite(x)
    if f.sum() < 3:
        return z
    med = float(np.median(x[f]))
    mad = float(np.median(np.abs(x[f] - med)))
    z[f] = (x[f] - med) / max(1.4826 * mad, 0.05 * abs(med), floor, 1e-9)
    return z


def disagreement(d: np.ndarray, exclude: np.ndarray | None = None, nearest: int = NEAREST
                 ) -> tuple[np.ndarray, np.ndarray]:
    """From an (n, n) distance matrix (NaN: not measured): each photo's median distance to the others and the mean
    of its ``nearest`` smallest ones (NaN when too few). ``exclude`` (n, n) bool hides pairs (an evaluation
    that simulates sets without near-duplicate frames)."""
    d = np.array(d, dtype=np.float64)
    np.fill_diagonal(d, np.nan)
    if exclude is not None:
        d[exclude] = np.nan
    n = len(d)
    cons = np.full(n, np.nan)
    near = np.full(n, np.nan)
    for i in range(n):
        v = d[i][np.isfinite(d[i])]
        if v.size:
            cons[i] = float(np.median(v))
        if v.size >= nearest:
            near[i] = float(np.sort(v)[:nearest].mean())
    return cons, near


def evidence_distances(matrices: dict[str, np.ndarray], exclude: np.ndarray | None = None
                       ) -> dict[str, np.ndarray]:
    """Every photo's consensus and nearest-others distance per descriptor kind (``KIND_consensus``,
    ``KIND_nearest``)."""
    out = {}
    for k, d in matrices.items():
        out[f"{k}_consensus"], out[f"{k}_nearest"] = disagreement(d, exclude)
    return out


def evidence_z(matrices: dict[str, np.ndarray], exclude: np.ndarray | None = None,
               floors: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    """Robust z-scores (within the set) of every photo's consensus and nearest-others distances, per descriptor
    kind; each spread at least its ``floors`` entry (default FLOORS)."""
    fl = FLOORS if floors is None else floors
    return {k: robust_z(v, fl.get(k, 0.0)) for k, v in evidence_distances(matrices, exclude).items()}


def combined_score(z: dict[str, np.ndarray], weights: dict[str, float] | None = None, bias: float | None = None
                   ) -> np.ndarray:
    """The logit that each photo is an intruder: bias + sum of weight x clipped z (missing evidence counts 0)."""
    w = WEIGHTS if weights is None else weights
    b = BIAS if bias is None else bias
    n = len(next(iter(z.values()))) if z else 0
    s = np.full(n, float(b))
    for k, wk in w.items():
        if wk and k in z:
            s += wk * np.nan_to_num(np.clip(z[k], *Z_CLIP), nan=0.0)
    return s


@dataclass
class Consensus:
    """The consensus check of a set: per photo its score, the evidence behind it and whether it is left out."""

    score: np.ndarray  # (n,) logit (NaN: not judged: too few photos, or not a candidate)
    z: dict[str, np.ndarray] = field(default_factory=dict)  # evidence name -> (n,) robust z
    flags: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    threshold: float = THRESHOLD

    def contributions(self, i: int) -> list[tuple[str, float, float]]:
        """(evidence, z, weight x z) of photo ``i``, largest contribution first, the weighted ones only."""
        rows = [(k, float(self.z[k][i]), WEIGHTS[k] * float(np.clip(self.z[k][i], *Z_CLIP)))
                for k in WEIGHTS if WEIGHTS[k] and k in self.z and np.isfinite(self.z[k][i])]
        return sorted(rows, key=lambda r: -r[2])

    def evidence_json(self, i: int) -> dict[str, float] | None:
        """Every evidence's robust z of photo ``i`` (rounded), or None when the photo was not judged."""
        if not np.isfinite(self.score[i]):
            return None
        return {k: round(float(v[i]), 2) for k, v in self.z.items() if np.isfinite(v[i])}

    def reason(self, i: int, top: int = 3) -> str:
        """Why photo ``i`` is left out, naming its strongest evidence."""
        parts = []
        for k, z, _ in self.contributions(i)[:top]:
            kind, how = k.rsplit("_", 1)
            what = "far from the consensus" if how == "consensus" else "unlike any other photo"
            parts.append(f"{LABELS.get(kind, kind)} {what} (z {z:.1f})")
        return (f"another person? disagrees with the other photos (score {self.score[i]:.2f} > {self.threshold:.2f}): "
                + "; ".join(parts))


def consensus_check(descriptors: list[dict[str, np.ndarray | None]], candidates: np.ndarray | None = None,
                    threshold: float = THRESHOLD) -> Consensus:
    """Judge the photos (their ``facealign.merge.evidence`` descriptor vectors) against each other; only the
    ``candidates`` (bool, default all) take part. Fewer than MIN_PHOTOS candidates: nobody is left out."""
    n = len(descriptors)
    cand = np.ones(n, bool) if candidates is None else np.asarray(candidates, bool)
    idx = np.flatnonzero(cand)
    res = Consensus(score=np.full(n, np.nan), flags=np.zeros(n, bool), threshold=threshold)
    if len(idx) < MIN_PHOTOS:
        return res
    mats = {k: distance_matrix([descriptors[i].get(k) for i in idx]) for k in KINDS}
    z = evidence_z(mats)
    s = combined_score(z)
    res.score[idx] = s
    res.z = {k: np.full(n, np.nan) for k in z}
    for k, v in z.items():
        res.z[k][idx] = v
    res.flags[idx] = s > threshold
    return res


def check_photos(images: list[np.ndarray], faces: list, candidates: np.ndarray | None = None,
                 threshold: float = THRESHOLD) -> Consensus:
    """The consensus check of photos and their faces (68 landmarks; the 3D fit used when present)."""
    cand = np.ones(len(faces), bool) if candidates is None else np.asarray(candidates, bool)
    descs = [describe(img, f).vectors if c else {} for img, f, c in zip(images, faces, cand)]
    return consensus_check(descs, cand, threshold)


def fit_error_ratio(fit_error: float, points68: np.ndarray) -> float:
    """A 3D fit's RMS landmark residual as a fraction of the face size (square root of the points' box area)."""
    p = np.asarray(points68, dtype=np.float64)
    wh = p.max(0) - p.min(0)
    return float(fit_error / max(np.sqrt(wh[0] * wh[1]), 1e-9))
