"""`facealign eval body`: the body network (and MediaPipe Pose beside it) on labelled body sets.

PCK@0.2 (torso diameter: right shoulder to left hip), PCKh@0.5 (head top to neck), per joint; a photo where a
method finds no person counts as a miss for every joint. Person boxes (``person``): ``photo`` the whole photo
(what the targets are stated for), ``auto`` the runtime's own choice (one box below each detected face, else the
whole photo; of several people the one nearest the truth is scored). Buffy has no hips: PCKh only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.body_points import DECODE_WINDOW, JOINTS, REFINE_PASSES
from facealign.data.body import BODY_SETS, BodyRecord, read_set
from facealign.evaluation.body_metrics import head_size, pck_table, torso_size
from facealign.paths import data_root

PERSON_MODES = ("photo", "auto")


@dataclass
class BodyEvalOptions:
    """What to evaluate; ``check()`` raises ValueError with a one-line reason."""

    sets: list[str] = field(default_factory=lambda: ["lsp_val"])
    model: str | None = None  # registered body model or ONNX file (None: the default)
    person: str = "photo"
    mediapipe: bool = False
    mediapipe_env: str | None = None  # None: facealign.evaluation.body_peers.default_env()
    mapping: str = "fitted"  # MediaPipe's neck / head top: "fitted" or "rule"
    out: str | None = None
    limit: int = 0
    tta: bool = False  # our network also on the mirrored crop, averaged
    passes: int = REFINE_PASSES  # network passes per person (1: no refinement on the joints' box)
    window: int = DECODE_WINDOW  # heatmap cells around the peak the joints are decoded from (0: whole map)

    def check(self) -> "BodyEvalOptions":
        for s in self.sets:
            if s not in BODY_SETS:
                raise ValueError(f"unknown body set {s!r}; known: {', '.join(BODY_SETS)}")
        if self.person not in PERSON_MODES:
            raise ValueError(f"person must be one of {', '.join(PERSON_MODES)}, got {self.person!r}")
        if not isinstance(self.passes, int) or self.passes < 1:
            raise ValueError(f"passes must be an integer >= 1, got {self.passes!r}")
        if not isinstance(self.window, int) or self.window < 0:
            raise ValueError(f"window must be an integer >= 0, got {self.window!r}")
        if self.mapping not in ("fitted", "rule"):
            raise ValueError(f"mapping must be fitted or rule, got {self.mapping!r}")
        return self


def nearest_body(bodies, gt: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The joints of the body closest to the truth (mean distance over labelled joints); NaN without bodies."""
    if not bodies:
        return np.full((len(JOINTS), 2), np.nan)
    d = [np.linalg.norm(b.keypoints[mask] - gt[mask], axis=1).mean() for b in bodies]
    return np.asarray(bodies[int(np.argmin(d))].keypoints, np.float64)


def predict_ours(recs: list[BodyRecord], opts: BodyEvalOptions, progress: bool = False
                 ) -> tuple[np.ndarray, float, float]:
    """(N, 14, 2) joints of our model on the records' photos, seconds spent in the body stage, network crops run
    per person (a mirrored crop and each refinement pass count)."""
    import time

    from tqdm import tqdm

    from facealign.stages import build_model

    model = build_model(opts.model, "body", threads=1, flip_tta=opts.tta, window=opts.window, passes=opts.passes)
    aligner = None
    if opts.person == "auto":
        from facealign.body_pipeline import BodyAligner

        aligner = BodyAligner(opts.model, threads=1, tta=opts.tta, passes=opts.passes)
        aligner._model = model  # the same runtime (its decoding window and crop count)
    out = np.full((len(recs), len(JOINTS), 2), np.nan)
    spent = 0.0
    people = 0
    for i, r in enumerate(tqdm(recs, desc="body", disable=not progress, leave=False)):
        img = cv2.imread(str(r.path), cv2.IMREAD_COLOR)
        if img is None:
            continue
        h, w = img.shape[:2]
        t = time.perf_counter()
        if aligner is None:  # the whole photo is the person box, then the runtime's refinement
            box = np.array([[-0.5, -0.5, w - 0.5, h - 0.5]])
            joints, scores = model.predict(img, box)
            joints, _, _ = model.refine(img, joints, scores, box)
            out[i] = joints[0]
            people += 1
        else:
            _, bodies = aligner.detect(img)
            out[i] = nearest_body(bodies, r.joints, r.mask)
            people += len(bodies)
        spent += time.perf_counter() - t
    return out, spent, model.crops_run / max(people, 1)


def score(pred: np.ndarray, recs: list[BodyRecord]) -> dict:
    """PCK@0.2 and PCKh@0.5 (total and per joint), misses, and per-joint errors over the torso / head size."""
    gt = np.stack([r.joints for r in recs])
    mask = np.stack([r.mask for r in recs])
    res: dict = {"n": len(recs), "missed": int(np.isnan(pred).any(axis=(1, 2)).sum())}
    for kind, alpha in (("pck", 0.2), ("pckh", 0.5)):
        total, per = pck_table(pred, gt, mask, alpha, kind)
        if np.isfinite(total):
            res[f"{kind}@{alpha}"] = round(total, 4)
            res[f"{kind}@{alpha}_joints"] = {j: (None if not np.isfinite(v) else round(float(v), 4))
                                             for j, v in zip(JOINTS, per)}
    ref = torso_size(gt) if mask[:, 3].any() else head_size(gt)
    err = np.linalg.norm(pred - gt, axis=-1) / np.maximum(ref, 1e-6)[:, None]
    res["_errors"] = np.where(np.isnan(err), np.inf, err)[mask]
    return res


def evaluate_body(opts: BodyEvalOptions, progress: bool = False, log=print) -> dict:
    """Every set with our model (and MediaPipe Pose when asked): {set: {method: metrics}}; writes metrics.json,
    predictions and a CED-like picture per set under ``opts.out`` when given."""
    opts.check()
    results: dict = {}
    curves: dict = {}
    for name in opts.sets:
        recs = read_set(name, data_root())
        if opts.limit:
            recs = recs[: opts.limit]
        preds = {}
        pred, spent, crops = predict_ours(recs, opts, progress)
        ours = "facealign" + (" (flip TTA)" if opts.tta else "")
        preds[ours] = pred
        results.setdefault(name, {})[ours] = {"ms_per_person": round(1000 * spent / max(len(recs), 1), 2),
                                              "network_crops_per_person": round(crops, 2),
                                              "passes": opts.passes, "window": opts.window, "tta": opts.tta}
        if opts.mediapipe:
            from facealign.evaluation.body_peers import run_mediapipe_pose, to_lsp

            doc = run_mediapipe_pose([r.path for r in recs], opts.mediapipe_env)
            mp_pred = np.stack([to_lsp(x["points"], opts.mapping) for x in doc["results"]])
            preds[f"mediapipe-pose ({opts.mapping} neck/head)"] = mp_pred
        curves[name] = {}
        for method, p in preds.items():
            res = score(p, recs)
            curves[name][method] = res.pop("_errors")
            results[name].setdefault(method, {}).update(res)
        if opts.out:
            out = Path(opts.out)
            out.mkdir(parents=True, exist_ok=True)
            for method, p in preds.items():
                doc = {r.path.name: (None if np.isnan(q).any() else np.round(q, 2).tolist()) for r, q in zip(recs, p)}
                (out / f"predictions_{name}_{method.split()[0]}.json").write_text(json.dumps(doc))
    if opts.out:
        out = Path(opts.out)
        (out / "metrics.json").write_text(json.dumps(results, indent=1))
        try:
            from facealign.evaluation.plots import plot_ced_panels

            plot_ced_panels(curves, out / "ced_body.png", max_error=0.5,
                            xlabel="joint error / torso diameter (Buffy: / head size)")
        except RuntimeError as e:  # no matplotlib
            log(f"no picture: {e}")
    return results


def format_table(results: dict) -> str:
    """A text table: one row per set and method, PCK@0.2, PCKh@0.5, misses, then per-joint PCK (PCKh for Buffy)."""
    short = ["r_ank", "r_kne", "r_hip", "l_hip", "l_kne", "l_ank", "r_wri", "r_elb", "r_sho", "l_sho", "l_elb",
             "l_wri", "neck", "head"]
    lines = [f"{'set':<11} {'method':<34} {'PCK@0.2':>8} {'PCKh@0.5':>9} {'missed':>7} {'net/person':>10}  "
             + " ".join(f"{s:>5}" for s in short)]
    for name, methods in results.items():
        for method, r in methods.items():
            pj = r.get("pck@0.2_joints") or r.get("pckh@0.5_joints") or {}
            joints = " ".join(f"{'  -  ' if pj.get(j) is None else f'{pj[j]:5.3f}'}" for j in JOINTS)
            pck = r.get("pck@0.2")
            lines.append(f"{name:<11} {method:<34} {'-' if pck is None else f'{pck:.3f}':>8} "
                         f"{r.get('pckh@0.5', float('nan')):>9.3f} {r.get('missed', 0):>4}/{r.get('n', 0):<3} "
                         f"{r.get('network_crops_per_person', '-'):>10}  {joints}")
    return "\n".join(lines)
