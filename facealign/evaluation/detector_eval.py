"""Detector evaluation: recall of labelled faces at a false-detection budget, AP on composed scenes, latency.

- Recall: every labelled image (ytf68/val, the AFLW faces of mtfl/val.txt) holds one labelled face (boxes by the
  project rule: tight box of the 68 points, box_from_five for 5 points); it is found when a detection has IoU >= 0.5
  with it. Unlabelled faces in these images are not counted either way.
- False detections: face-free images are 640x480 mosaics of background patches cut from the validation images
  away from their faces (we have no face-free photo set; the wild photos hold unlabelled faces). The operating
  threshold is the lowest score giving <= ``fppi`` false detections per such image.
- AP@0.5: composed scenes from validation identities only, faces down to 16 px (smaller: ignore regions).
- Latency: median of ``detect`` on a 640x480 image.
"""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from facealign.alignment.boxes import iou_matrix
from facealign.alignment.points import tight_box
from facealign.data.backgrounds import background_patch
from facealign.data.face_crops import iter_labelled, load_split
from facealign.data.scenes import SceneParams, compose_scene
from facealign.detection.base import Detector
from facealign.evaluation.detection_metrics import average_precision, match_image, threshold_for_fppi


class VerifiedDetector(Detector):
    """The detector followed by the pipeline's landmark check (FaceAligner ``verify``): what `align` keeps."""

    def __init__(self, detector: Detector, verify: float, threads: int | None = None) -> None:
        from facealign.pipeline import FaceAligner

        self.name = f"{detector.name}+verify{verify:g}"
        self.fa = FaceAligner(detector=detector, verify=verify, threads=threads)

    def detect(self, image: np.ndarray) -> list:
        faces = self.fa.detect(image)
        for f in faces:  # measured as a detector: its own boxes, not the tight boxes of the 68 points
            f.box = f.found_box
        return faces


# recall sets: report name -> detector source (facealign.data.face_crops.iter_labelled)
RECALL_SOURCES = {"ytf68_val": "ytf68/val", "mtfl_val_aflw": "mtfl:val.txt"}


def best_match_scores(det: Detector, data_root: Path, source: str, limit: int = 0) -> np.ndarray:
    """Per labelled image: the highest score of a detection with IoU >= 0.5 with the labelled face (0 if none)."""
    out = []
    for i, (path, pts68, _) in enumerate(iter_labelled(data_root, source)):
        if limit and i >= limit:
            break
        img = cv2.imread(str(path))
        if img is None:
            continue
        faces = det.detect(img)
        gt = tight_box(pts68)
        best = 0.0
        if faces:
            iou = iou_matrix(np.stack([f.box for f in faces]), gt[None])[:, 0]
            ok = iou >= 0.5
            if ok.any():
                best = max(f.score for f, o in zip(faces, ok) if o)
        out.append(best)
    return np.asarray(out)


def negative_images(data_root: Path, n: int = 100, seed: int = 7) -> list[np.ndarray]:
    """``n`` 640x480 face-free mosaics of validation background patches (see the module docstring)."""
    patches = []
    for src in RECALL_SOURCES.values():
        for path, pts68, _ in iter_labelled(data_root, src):
            img = cv2.imread(str(path))
            if img is not None:
                p = background_patch(img, tight_box(pts68))
                if p is not None:
                    patches.append(p)
    if not patches:
        raise FileNotFoundError(f"{data_root}: no readable labelled images in {', '.join(RECALL_SOURCES.values())}")
    rng = np.random.default_rng(seed)
    # draw patches without replacement (cycling through shuffled passes) so no patch repeats more than needed
    pool: list[int] = []

    def next_patch() -> np.ndarray:
        if not pool:
            pool.extend(rng.permutation(len(patches)).tolist())
        return patches[pool.pop()]

    out = []
    for _ in range(n):
        canvas = np.zeros((480, 640, 3), np.uint8)
        k = int(rng.integers(1, 5))
        xs = np.linspace(0, 640, k + 1).astype(int)
        ys = np.linspace(0, 480, k + 1).astype(int)
        for i in range(k):
            for j in range(k):
                p = next_patch()
                canvas[ys[i] : ys[i + 1], xs[j] : xs[j + 1]] = cv2.resize(p, (xs[j + 1] - xs[j], ys[i + 1] - ys[i]))
        out.append(canvas)
    return out


def scene_ap(det: Detector, data_root: Path, cache_dir: Path, n: int = 300, size: int = 416) -> float:
    """AP@0.5 on ``n`` composed scenes from validation identities (faces >= 16 px; smaller ones ignored)."""
    faces, negs = load_split("val", data_root, cache_dir)
    rng = np.random.default_rng(2024)
    p = SceneParams(size=size, min_face=16.0)
    per, n_gt = [], 0
    for _ in range(n):
        sc = compose_scene(rng, faces, negs, p)
        dets = det.detect(sc.image)
        boxes = np.stack([f.box for f in dets]) if dets else np.zeros((0, 4))
        per.append(match_image(boxes, np.array([f.score for f in dets]), sc.boxes, sc.ignore))
        n_gt += len(sc.boxes)
    return average_precision(per, n_gt)


def latency_ms(det: Detector, image: np.ndarray | None = None, runs: int = 50) -> dict[str, float]:
    """Milliseconds of one ``detect`` call on ``image`` resized to 640x480 (default: random pixels).

    ``wall`` is the median wall time; ``cpu`` the median process CPU time, which is what the call costs when the
    machine is not shared (on a loaded machine the wall time includes waiting for a core).
    """
    if image is None:
        img = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    else:
        img = cv2.resize(image, (640, 480), interpolation=cv2.INTER_AREA)
    for _ in range(5):
        det.detect(img)
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        det.detect(img)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"wall": 1000 * float(np.median(wall)), "wall_min": 1000 * float(np.min(wall)), "cpu": 1000 * float(np.median(cpu))}


def evaluate_detector(det: Detector, data_root: Path, cache_dir: Path, fppi: float = 0.05, limit: int = 0,
                      scenes: int = 300, log=print) -> dict:
    """All detector metrics as one dict (the detector should run with a low score threshold, e.g. 0.05)."""
    res: dict = {}
    neg_scores = [np.array([f.score for f in det.detect(im)]) for im in negative_images(data_root)]
    thr = threshold_for_fppi(neg_scores, fppi)
    res["threshold_at_fppi"] = thr
    res["fppi_at_0.5"] = float(np.mean([np.sum(s >= 0.5) for s in neg_scores]))
    from facealign.runtime import registry

    shipped = float(registry.get("ssdlite-det").options.get("score_threshold", 0.5))  # what `align` uses
    res["shipped_threshold"] = shipped
    res["fppi_at_shipped"] = float(np.mean([np.sum(s >= shipped) for s in neg_scores]))
    for name, src in RECALL_SOURCES.items():
        s = best_match_scores(det, data_root, src, limit)
        res[name] = {"n": int(len(s)), f"recall_at_fppi{fppi}": float(np.mean(s >= max(thr, 1e-9))),
                     "recall_at_shipped": float(np.mean(s >= shipped)),
                     "recall_at_0.5": float(np.mean(s >= 0.5)), "recall_any": float(np.mean(s > 0))}
        log(f"{name}: {res[name]}")
    res["scene_ap50"] = scene_ap(det, data_root, cache_dir, scenes)
    # latency at the operating threshold, on a group photo when there is one (detections cost NMS time)
    from facealign.detection.ssdlite import SSDLiteDetector

    photo = cv2.imread(str(data_root / "wild" / "group_t1.jpg"))
    if isinstance(det, SSDLiteDetector):
        old = det.score_threshold
        det.score_threshold = max(thr, 0.05)
        res["latency_640x480_ms"] = latency_ms(det, photo)
        det.score_threshold = old
    else:
        res["latency_640x480_ms"] = latency_ms(det, photo)
    return res
