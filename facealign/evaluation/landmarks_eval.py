"""Run a landmark model over a data set, compute its metrics and write its predictions.

Boxes (``boxes="gt"``): the model gets the ground truth's box in the project convention: the tight box of the
68 ground-truth points (68-point data; for WFLW the tight box of its 68-point subset), or for 5-point data the
box facealign.alignment.crop.box_from_five(gt5) (the mean shape fitted to the 5 points by a similarity).

Boxes (``boxes="detector"``): ``fa.detect`` runs end to end and each ground-truth face is matched to one
detection (match_faces: best IoU >= 0.3 with the ground-truth box, else a detection whose centre lies in the
box at a similar size); an unmatched face is a miss: error +inf, a failure at every threshold.

Predictions are written as JSON (``write_predictions``) so that other methods' files, in the same format, can
be scored by the same code (``score_predictions``).
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from facealign.alignment.boxes import iou
from facealign.alignment.crop import box_from_five
from facealign.alignment.points import tight_box
from facealign.evaluation.metrics import NORMS, THRESHOLDS, nme_all, per_bin, summarize
from facealign.data.sample import Sample
from facealign.data.schema import eval_schema, five_points, prediction_to_eval, to_eval

PREDICTIONS_FORMAT = "facealign-landmarks-predictions/1"


def gt_box(sample: Sample) -> np.ndarray:
    """The evaluation box of a sample: tight box of its 68 points, or box_from_five of its 5 points."""
    g = to_eval(sample.points, sample.schema)
    return tight_box(g) if len(g) == 68 else box_from_five(g)


def match_faces(gt_boxes: np.ndarray, det_boxes: np.ndarray, min_iou: float = 0.3) -> list[int | None]:
    """For each ground-truth box the index of its detection (one-to-one, greedy by IoU) or None.

    A pair with IoU < ``min_iou`` still matches when the detection's centre lies inside the ground-truth box and
    its size (sqrt of area) is within a factor 2 of the box's: detectors whose boxes follow another convention
    (peers) are matched too.
    """
    gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    det_boxes = np.asarray(det_boxes, dtype=np.float64).reshape(-1, 4)
    pairs = []
    for i, g in enumerate(gt_boxes):
        gs = np.sqrt(max((g[2] - g[0]) * (g[3] - g[1]), 1e-9))
        for j, d in enumerate(det_boxes):
            o = iou(g, d)
            c = (d[:2] + d[2:]) / 2
            ds = np.sqrt(max((d[2] - d[0]) * (d[3] - d[1]), 1e-9))
            inside = g[0] <= c[0] <= g[2] and g[1] <= c[1] <= g[3] and 0.5 <= ds / gs <= 2.0
            if o >= min_iou or inside:
                pairs.append((o, -np.hypot(*(c - (g[:2] + g[2:]) / 2)), i, j))
    out: list[int | None] = [None] * len(gt_boxes)
    used = set()
    for _, _, i, j in sorted(pairs, reverse=True):
        if out[i] is None and j not in used:
            out[i] = j
            used.add(j)
    return out


@dataclass
class FaceResult:
    """One evaluated face. ``pred`` is the 68-point prediction (None: missed or image unreadable)."""

    sample: Sample
    box: np.ndarray
    pred: np.ndarray | None
    status: str = "ok"  # "ok" | "miss" | "unreadable"
    errors: dict[str, float] = field(default_factory=dict)
    closed_loop: dict | None = None


def _load(path: Path) -> tuple[np.ndarray, float]:
    from facealign.io.images import load_image

    im = load_image(path)
    return im.pixels, im.scale


def _score(r: FaceResult) -> None:
    target = eval_schema(r.sample.schema)
    gt = to_eval(r.sample.points, r.sample.schema)
    # a visibility mask applies only where the evaluated points are the annotated ones (not derived points)
    vis = r.sample.visible if r.sample.schema in ("ibug68", "five") else None
    pred = None if r.pred is None else prediction_to_eval(r.pred, target)
    r.errors = nme_all(pred, gt, vis)


def evaluate_samples(
    fa,
    samples: list[Sample],
    boxes: str = "gt",
    closed_loop: bool = False,
    template: str = "arcface112",
    progress: bool = True,
    report: Callable[[str], None] | None = None,
) -> list[FaceResult]:
    """Predict every sample's landmarks with FaceAligner ``fa`` and score them (see module doc for boxes).

    Faces of one image are predicted together. Unreadable images are reported through ``report`` (default:
    a line on stderr) and left out of the metrics (status "unreadable").
    """
    if boxes not in ("gt", "detector"):
        raise ValueError("boxes must be 'gt' or 'detector'")
    from facealign.io.images import ImageError

    report = report or (lambda msg: print(msg, file=sys.stderr))
    by_image: dict[Path, list[Sample]] = defaultdict(list)
    for s in samples:
        by_image[s.image].append(s)
    results: list[FaceResult] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(samples), unit="face", leave=False, dynamic_ncols=True)
    for path, group in by_image.items():
        boxes_gt = np.stack([gt_box(s) for s in group])
        try:
            image, scale = _load(path)
        except ImageError as e:
            report(f"unreadable image {path}: {e} (skipped)")
            results += [FaceResult(s, b, None, "unreadable") for s, b in zip(group, boxes_gt)]
            if bar:
                bar.update(len(group))
            continue
        # huge JPEGs may be decoded reduced: work in decoded pixels, map back by ``scale``
        if boxes == "gt":
            faces = fa.landmarks_for_boxes(image, boxes_gt / scale)
            matched = list(faces)
            used_boxes = boxes_gt
        else:
            found = fa.detect(image)
            det_boxes = np.array([tight_box(f.landmarks) if f.landmarks is not None else f.box for f in found]) * scale
            idx = match_faces(boxes_gt, det_boxes.reshape(-1, 4))
            matched = [None if j is None else found[j] for j in idx]
            used_boxes = np.array([boxes_gt[i] if j is None else det_boxes[j] for i, j in enumerate(idx)])
        group_results = []
        for s, f, b in zip(group, matched, used_boxes):
            pred = None if f is None or f.landmarks is None else np.asarray(f.landmarks, np.float64) * scale
            r = FaceResult(s, np.asarray(b, np.float64), pred, "ok" if pred is not None else "miss")
            _score(r)
            group_results.append(r)
        if closed_loop:
            ok = [(r, f) for r, f in zip(group_results, matched) if r.pred is not None]
            if ok:
                from facealign.evaluation.closed_loop import closed_loop_faces

                eyes = [five_points(r.sample.points, r.sample.schema)[:2] / scale for r, _ in ok]
                cl = closed_loop_faces(fa, image, [f for _, f in ok], template=template, gt_eyes=eyes)
                for (r, _), c in zip(ok, cl):
                    r.closed_loop = c
        results += group_results
        if bar:
            bar.update(len(group))
    if bar:
        bar.close()
    return results


def dataset_metrics(results: list[FaceResult], thresholds: Iterable[float] = THRESHOLDS) -> dict:
    """Metrics of one data set: NME (io/ip/box) over found faces, AUC/FR (io) over all readable faces, misses,
    per-pose-bin results where samples have a ``pose`` attribute, and closed-loop means when measured."""
    thresholds = tuple(thresholds)
    rs = [r for r in results if r.status != "unreadable"]
    out: dict = {
        "n": len(rs),
        "unreadable": len(results) - len(rs),
        "misses": sum(r.status == "miss" for r in rs),
        "points": eval_schema(rs[0].sample.schema) if rs else None,
    }
    by_norm = {n: summarize([r.errors[n] for r in rs], thresholds) for n in NORMS}
    out["nme"] = {n: by_norm[n]["nme"] for n in NORMS}
    out["miss_rate"] = out["misses"] / len(rs) if rs else float("nan")
    for t in thresholds:
        out[f"auc@{t:.2f}"] = by_norm["io"][f"auc@{t:.2f}"]
        out[f"fr@{t:.2f}"] = by_norm["io"][f"fr@{t:.2f}"]
    out["by_norm"] = by_norm
    if any("pose" in r.sample.attributes for r in rs):
        out["per_pose"] = per_bin([r.errors["io"] for r in rs], [r.sample.attributes.get("pose") for r in rs], thresholds)
    cl = [r.closed_loop for r in rs if r.closed_loop]
    if cl:
        out["closed_loop"] = {
            k: float(np.mean(v)) if (v := [c[k] for c in cl if c.get(k) is not None]) else None
            for k in ("consistency", "template", "eye")
        }
        out["closed_loop"]["n"] = len(cl)
    return out


def write_predictions(results: list[FaceResult], path: str | Path, method: str, dataset: str, boxes: str) -> Path:
    """Write predictions as JSON: {format, method, dataset, boxes, faces: [{id, image, box, landmarks|null}]}."""

    def r2(a):
        return None if a is None else np.round(np.asarray(a, dtype=np.float64), 2).tolist()

    doc = {
        "format": PREDICTIONS_FORMAT,
        "method": method,
        "dataset": dataset,
        "boxes": boxes,
        "faces": [
            {"id": r.sample.id, "image": str(r.sample.image), "box": r2(r.box), "status": r.status, "landmarks": r2(r.pred)}
            for r in results
        ],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    return path


def read_predictions(path: str | Path) -> dict:
    """A predictions file (see write_predictions); raises ValueError when it is not one."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or "faces" not in doc:
        raise ValueError(f"{path}: not a landmark predictions file (no 'faces')")
    return doc


def score_predictions(samples: list[Sample], doc: dict) -> list[FaceResult]:
    """Score another method's predictions ({id: 68 points or null}) against ``samples``: a sample without a
    prediction counts as a miss; faces marked "unreadable" are left out as such."""
    preds = {f["id"]: f for f in doc["faces"]}
    results = []
    for s in samples:
        f = preds.get(s.id)
        if f is not None and f.get("status") == "unreadable":
            results.append(FaceResult(s, gt_box(s), None, "unreadable"))
            continue
        lm = None if f is None or f.get("landmarks") is None else np.asarray(f["landmarks"], dtype=np.float64)
        box = gt_box(s) if f is None or f.get("box") is None else np.asarray(f["box"], dtype=np.float64)
        r = FaceResult(s, box, lm, "ok" if lm is not None else "miss")
        _score(r)
        results.append(r)
    return results
