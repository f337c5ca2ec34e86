"""Face detection on real photos against reference boxes: recall per face size, unmatched boxes, time per photo.

The reference (``wild/reference_boxes.json`` under the data root) holds the clear faces of 16 real group, crowd and
portrait photos: boxes, not ground truth, and never training data. A reference face is *found*
- by IoU when a detection overlaps it with IoU >= 0.4 (one detection per face, highest score first), and
- by the convention-free centre rule when a detection's centre lies inside its box and the detection's size
  (sqrt of the area) is within a factor of 2 of the face's: this judges detectors whose boxes follow another
  convention (peers) on equal terms.
Recall is reported overall and per face-size bin (reference box width in px of the original photo, also for the
enlarged set, so its bins name the same faces). Detections
that match no reference face by the centre rule are "unmatched boxes": false detections, or real faces the
reference leaves out (blurred, turned away, tiny), so an upper bound of the false boxes.

"Enlarged" repeats everything on the same photos scaled (bicubic) to about ``megapixels`` MP, with the reference
boxes scaled alike: what a phone camera's photo of the same scene asks of a detector.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from facealign.alignment.boxes import iou_matrix

REFERENCE_FILE = "wild/reference_boxes.json"
BINS: tuple[tuple[float, float], ...] = ((8, 16), (16, 24), (24, 32), (32, 64), (64, math.inf))
IOU_THRESHOLD = 0.4

# a detector under test: BGR image -> (boxes (n, 4) x1, y1, x2, y2 in its pixels, scores (n,))
DetectFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class PhotoResult:
    """One photo (at one scale) seen by one detector."""

    name: str
    scale: float
    reference: np.ndarray  # (m, 4) reference boxes in this photo's pixels
    boxes: np.ndarray  # (n, 4) detections
    scores: np.ndarray  # (n,)
    seconds: float
    width: int
    height: int
    found_iou: np.ndarray = field(init=False)
    found_centre: np.ndarray = field(init=False)
    unmatched: np.ndarray = field(init=False)  # detections matching no reference face by the centre rule

    def __post_init__(self) -> None:
        self.found_iou, _ = match_iou(self.boxes, self.scores, self.reference)
        self.found_centre, used = match_centre(self.boxes, self.scores, self.reference)
        self.unmatched = ~used


def load_reference(path: Path) -> dict[str, np.ndarray]:
    """{photo file name: (m, 4) boxes} from a reference_boxes.json file."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name: np.asarray(b, np.float64).reshape(-1, 4) for name, b in doc.items()}


def enlarge_factor(width: int, height: int, megapixels: float) -> float:
    """The scale that brings a width x height photo to about ``megapixels`` MP (never below 1)."""
    return max(1.0, math.sqrt(megapixels * 1e6 / (width * height)))


def enlarge(image: np.ndarray, boxes: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo enlarged by ``factor`` (bicubic; each side rounded) and its boxes mapped by the exact per-axis
    factors (pixel centres: (x + 0.5) * f - 0.5)."""
    h, w = image.shape[:2]
    nw, nh = round(w * factor), round(h * factor)
    big = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_CUBIC) if factor != 1.0 else image
    f = np.array([nw / w, nh / h, nw / w, nh / h])
    return big, (boxes + 0.5) * f - 0.5


def _order(scores: np.ndarray) -> np.ndarray:
    return np.argsort(-np.asarray(scores, np.float64), kind="stable")


def match_iou(boxes: np.ndarray, scores: np.ndarray, ref: np.ndarray,
              thr: float = IOU_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """(found per reference face, used per detection): greedy one-to-one matching by IoU >= ``thr``."""
    found = np.zeros(len(ref), bool)
    used = np.zeros(len(boxes), bool)
    if len(boxes) == 0 or len(ref) == 0:
        return found, used
    iou = iou_matrix(boxes, ref)
    for i in _order(scores):
        cand = np.where(found, -1.0, iou[i])
        j = int(cand.argmax())
        if cand[j] >= thr:
            found[j] = used[i] = True
    return found, used


def _size(b: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(b[..., 2] - b[..., 0], 1.0) * np.maximum(b[..., 3] - b[..., 1], 1.0))


def match_centre(boxes: np.ndarray, scores: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found per reference face, used per detection) by the centre rule (see the module docstring); among the
    free faces a detection qualifies for, it takes the one whose centre is nearest its own."""
    found = np.zeros(len(ref), bool)
    used = np.zeros(len(boxes), bool)
    if len(boxes) == 0 or len(ref) == 0:
        return found, used
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    rc = (ref[:, :2] + ref[:, 2:]) / 2
    inside = ((c[:, None, 0] >= ref[None, :, 0]) & (c[:, None, 0] <= ref[None, :, 2])
              & (c[:, None, 1] >= ref[None, :, 1]) & (c[:, None, 1] <= ref[None, :, 3]))
    ratio = _size(boxes)[:, None] / _size(ref)[None, :]
    ok = inside & (ratio >= 0.5) & (ratio <= 2.0)
    dist = np.linalg.norm(c[:, None] - rc[None], axis=2)
    for i in _order(scores):
        cand = np.where(ok[i] & ~found, dist[i], np.inf)
        j = int(cand.argmin())
        if np.isfinite(cand[j]):
            found[j] = used[i] = True
    return found, used


def face_widths(ref: np.ndarray) -> np.ndarray:
    """The size a reference face is binned by: its box width."""
    return ref[:, 2] - ref[:, 0]


def summarise(results: list[PhotoResult]) -> dict:
    """Recall (IoU and centre rule) overall and per size bin, unmatched boxes per photo, time per photo and MP."""
    if not results:
        return {}
    widths = np.concatenate([face_widths(r.reference) / r.scale for r in results])
    f_iou = np.concatenate([r.found_iou for r in results])
    f_cen = np.concatenate([r.found_centre for r in results])
    secs = np.array([r.seconds for r in results])
    mp = np.array([r.width * r.height / 1e6 for r in results])
    out = {"photos": len(results), "faces": int(len(widths)),
           "recall_iou": float(f_iou.mean()) if len(f_iou) else float("nan"),
           "recall_centre": float(f_cen.mean()) if len(f_cen) else float("nan"),
           "unmatched_per_photo": float(np.mean([r.unmatched.sum() for r in results])),
           "seconds_total": float(secs.sum()), "megapixels_total": float(mp.sum()),
           "ms_per_megapixel": float(1000 * secs.sum() / mp.sum()), "bins": {}}
    for lo, hi in BINS:
        sel = (widths >= lo) & (widths < hi)
        key = f"{lo:g}-{hi:g}" if np.isfinite(hi) else f"{lo:g}+"
        out["bins"][key] = {"faces": int(sel.sum()),
                            "recall_iou": float(f_iou[sel].mean()) if sel.any() else None,
                            "recall_centre": float(f_cen[sel].mean()) if sel.any() else None}
    out["per_photo"] = {r.name: {"faces": int(len(r.reference)), "found_iou": int(r.found_iou.sum()),
                                 "found_centre": int(r.found_centre.sum()), "unmatched": int(r.unmatched.sum()),
                                 "seconds": round(r.seconds, 4), "size": [r.width, r.height]} for r in results}
    return out


def draw(image: np.ndarray, res: PhotoResult) -> np.ndarray:
    """Found reference faces green, missed ones red, unmatched detections yellow (scores written beside them)."""
    out = image.copy()
    t = max(1, round(max(out.shape[:2]) / 800))
    for b, ok in zip(res.reference.round().astype(int), res.found_centre):
        cv2.rectangle(out, (b[0], b[1]), (b[2], b[3]), (0, 200, 0) if ok else (0, 0, 255), t + (0 if ok else 1))
    for b, s in zip(res.boxes[res.unmatched].round().astype(int), res.scores[res.unmatched]):
        cv2.rectangle(out, (b[0], b[1]), (b[2], b[3]), (0, 255, 255), t)
        cv2.putText(out, f"{s:.2f}", (b[0], max(0, b[1] - 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.35 * t, (0, 255, 255), t)
    return out


def photo_jobs(data_root: Path, megapixels: float | None,
               names: list[str] | None = None) -> list[tuple[str, Path, np.ndarray, float]]:
    """(name, path, reference boxes in original pixels, scale) per photo: scale 1, or the enlargement factor."""
    ref = load_reference(data_root / REFERENCE_FILE)
    jobs = []
    for name in sorted(ref):
        if names and name not in names and Path(name).stem not in names:
            continue
        path = data_root / "wild" / name
        img = cv2.imread(str(path))
        if img is None:
            raise ValueError(f"{path}: cannot read the photo")
        scale = 1.0 if not megapixels else enlarge_factor(img.shape[1], img.shape[0], megapixels)
        jobs.append((name, path, ref[name], scale))
    return jobs


def evaluate_photos(detect: DetectFn, jobs: list[tuple[str, Path, np.ndarray, float]],
                    draw_dir: Path | None = None) -> list[PhotoResult]:
    """Run ``detect`` on every photo (enlarged as the job says); draws into ``draw_dir`` when given."""
    out = []
    for name, path, ref, scale in jobs:
        img = cv2.imread(str(path))
        img, boxes_ref = enlarge(img, ref, scale)
        t0 = time.perf_counter()
        boxes, scores = detect(img)
        dt = time.perf_counter() - t0
        res = PhotoResult(name, scale, boxes_ref, np.asarray(boxes, np.float64).reshape(-1, 4),
                          np.asarray(scores, np.float64).reshape(-1), dt, img.shape[1], img.shape[0])
        out.append(res)
        if draw_dir is not None:
            draw_dir.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(draw_dir / (Path(name).stem + ".jpg")), draw(img, res), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return out


def peer_results(doc: dict, jobs: list[tuple[str, Path, np.ndarray, float]]) -> list[PhotoResult]:
    """PhotoResults from a peer runner's output (benchmarks/peers/run_detect_wild.py), in ``jobs`` order."""
    out = []
    for (name, path, ref, scale), r in zip(jobs, doc["results"]):
        w0 = cv2.imread(str(path)).shape[1::-1]
        f = np.array([r["width"] / w0[0], r["height"] / w0[1]] * 2)
        d = np.asarray(r["boxes"], np.float64).reshape(-1, 5)
        out.append(PhotoResult(name, scale, (ref + 0.5) * f - 0.5, d[:, :4], d[:, 4], float(r["seconds"]),
                               int(r["width"]), int(r["height"])))
    return out


def redraw(results: list[PhotoResult], jobs: list[tuple[str, Path, np.ndarray, float]], draw_dir: Path) -> None:
    """Pictures of already computed results (peers), one per photo."""
    draw_dir.mkdir(parents=True, exist_ok=True)
    for res, (name, path, ref, scale) in zip(results, jobs):
        img, _ = enlarge(cv2.imread(str(path)), ref, scale)
        cv2.imwrite(str(draw_dir / (Path(name).stem + ".jpg")), draw(img, res), [cv2.IMWRITE_JPEG_QUALITY, 85])


def format_table(summaries: dict[str, dict]) -> str:
    """A markdown table: one row per method and photo set."""
    keys = [f"{lo:g}-{hi:g}" if np.isfinite(hi) else f"{lo:g}+" for lo, hi in BINS]
    head = ("| method | photos | faces | recall IoU>=0.4 | recall centre | " + " | ".join(f"{k} px" for k in keys)
            + " | unmatched / photo | s total | ms / MP |")
    lines = [head, "|" + "---|" * (9 + len(keys) - 1)]
    for name, s in summaries.items():
        if not s:
            continue
        bins = []
        for k in keys:
            b = s["bins"][k]
            bins.append("-" if b["recall_centre"] is None else f"{100 * b['recall_iou']:.0f} / {100 * b['recall_centre']:.0f} ({b['faces']})")
        lines.append(f"| {name} | {s['photos']} | {s['faces']} | {100 * s['recall_iou']:.1f}% | "
                     f"{100 * s['recall_centre']:.1f}% | " + " | ".join(bins)
                     + f" | {s['unmatched_per_photo']:.2f} | {s['seconds_total']:.2f} | {s['ms_per_megapixel']:.0f} |")
    return "\n".join(lines)
