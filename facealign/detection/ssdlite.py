"""The project's SSD-lite face detector at run time (onnxruntime + numpy + OpenCV; no torch).

Resolution (facealign.detection.resolution): by default the photo is searched at its own resolution and on a
pyramid of 1/3, 1/9, ... below it, large levels in overlapping tiles, so faces from about 12 px up are found in
photos of any size, in time and memory linear in the pixels. ``det_size`` (the fast setting) first shrinks the
photo so its long side is at most that many pixels, e.g. 320 for webcam frames with near faces. Images are never
upscaled. Each network input is padded (bottom/right, black) to a multiple of 32. Images whose shorter side is
below ``MIN_SIDE`` px cannot hold a detectable face: they return an empty list without running the network.
Post-processing per run: decode the anchors (facealign.detection.anchors), keep scores >= ``score_threshold``,
greedy NMS, map boxes and the 5 points back to the original pixels (0-based pixel centres); the runs of the
levels and tiles are merged by NMS and by dropping fragments inside a better box (``large_faces=False`` runs
level 0 only).
"""
from __future__ import annotations

import cv2
import numpy as np

from facealign.detection.anchors import decode, priors
from facealign.detection.base import Detector
from facealign.detection.nms import nms
from facealign.detection.resolution import LEVEL_FACTOR, inner_edge_mask, levels, tiles
from facealign.io.images import as_bgr
from facealign.runtime import registry
from facealign.runtime.session import create_session
from facealign.types import Face

MIN_SIDE = 8
PAD = 32
MAX_CANDIDATES = 1000


def preprocess(image: np.ndarray, det_size: int | None) -> tuple[np.ndarray, float]:
    """(1, H, W, 3) uint8 network input with H, W multiples of 32, and the scale factor input/original."""
    work, scale = working_image(image, det_size)
    return pad_input(work), scale


def working_image(image: np.ndarray, det_size: int | None) -> tuple[np.ndarray, float]:
    """The image scaled (never up) so its long side is at most ``det_size`` (None: as it is), and the factor
    working/original."""
    h, w = image.shape[:2]
    scale = 1.0 if det_size is None else min(1.0, det_size / max(h, w))
    if scale >= 1.0:
        return image, 1.0
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    # the exact resize factor per axis can differ from ``scale`` by rounding; use the mean of both
    return cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA), (nw / w + nh / h) / 2


def shrink_exact(image: np.ndarray, factor: int) -> np.ndarray:
    """``image`` reduced by an integer ``factor`` (mean of factor x factor blocks; the last rows/columns that do not
    fill a block are dropped): output pixel j covers input pixels [j * factor, (j + 1) * factor), so coordinates map
    back exactly by (x + 0.5) * factor - 0.5."""
    h, w = image.shape[:2]
    hh, ww = max(1, h // factor), max(1, w // factor)
    src = image[: hh * factor, : ww * factor]
    if factor % 2 == 1 and min(h, w) >= factor:
        # for odd factors a box filter sampled at the block centres is the same block mean (bit-exact with
        # INTER_AREA, tested) at about half the cost on 640x480
        return cv2.resize(cv2.boxFilter(src, -1, (factor, factor)), (ww, hh), interpolation=cv2.INTER_NEAREST_EXACT)
    return cv2.resize(src, (ww, hh), interpolation=cv2.INTER_AREA)


def pad_input(image: np.ndarray) -> np.ndarray:
    """(1, H, W, 3) with the image at the top left and black padding to multiples of 32."""
    nh, nw = image.shape[:2]
    ph, pw = -(-nh // PAD) * PAD, -(-nw // PAD) * PAD
    x = np.zeros((1, ph, pw, 3), np.uint8)
    x[0, :nh, :nw] = image
    return x


def postprocess(scores: np.ndarray, t_box: np.ndarray, t_kps: np.ndarray, pri: np.ndarray, score_threshold: float,
                nms_iou: float, max_faces: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes (n, 4), scores (n,), points (n, 5, 2)) in network-input pixels from one image's raw outputs."""
    keep = np.nonzero(scores >= score_threshold)[0]
    if keep.size > MAX_CANDIDATES:  # bound the NMS work (quadratic) on pathological inputs or low thresholds
        keep = keep[np.argsort(-scores[keep])[:MAX_CANDIDATES]]
    boxes, kps = decode(pri[keep], t_box[keep], t_kps[keep])
    sel = nms(boxes, scores[keep], nms_iou, max_faces)
    return boxes[sel], scores[keep][sel], kps[sel]


class SSDLiteDetector(Detector):
    """Finds faces with the shipped SSD-lite model ("ssdlite-det"); see the module docstring for the rules."""

    name = "ssdlite"

    def __init__(self, model: str = "ssdlite-det", det_size: int | None = None, score_threshold: float | None = None,
                 nms_iou: float = 0.4, max_faces: int = 1000, threads: int | None = None, path: str | None = None,
                 large_faces: bool = True) -> None:
        spec, model_path = registry.resolve(model, "detector")
        # None: the photo's own resolution (see the module docstring); a number caps the long side
        self.det_size = int(det_size) if det_size else None
        if self.det_size is not None and self.det_size < PAD:
            raise ValueError(f"det_size must be >= {PAD}, got {self.det_size}")
        # the shipped threshold (registry option) is the one chosen for <= 0.05 false detections per face-free image
        self.score_threshold = float(spec.options.get("score_threshold", 0.5) if score_threshold is None else score_threshold)
        self.nms_iou = nms_iou
        self.max_faces = max_faces
        self.large_faces = large_faces
        self.session = create_session(path or model_path, threads)

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR uint8 image (grey H x W and BGRA are accepted), highest score first."""
        image = as_bgr(np.asarray(image))
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 BGR image, got shape {image.shape}")
        if image.dtype != np.uint8:
            raise ValueError(f"expected uint8 pixels, got {image.dtype}")
        if min(image.shape[:2]) < MIN_SIDE:
            return []
        h, w = image.shape[:2]
        work_img, scale = working_image(image, self.det_size)
        parts = []
        level_img = work_img
        pyramid = levels(*work_img.shape[:2], large_faces=self.large_faces)
        for k, lv in enumerate(pyramid):
            if k:
                level_img = shrink_exact(level_img, LEVEL_FACTOR)
            lscale = scale / lv.factor
            b, s, p = self._run_tiled(level_img, lscale)
            size = np.max(b[:, 2:] - b[:, :2], 1) * lscale  # in this level's pixels
            keep = (size >= lv.min_size) & (size <= lv.max_size)
            parts.append((b[keep], s[keep], p[keep]))
        boxes, sc, kps = (np.concatenate(x) for x in zip(*parts))
        if len(parts) > 1 or len(tiles(*work_img.shape[:2])) > 1:
            sel = merge_boxes(boxes, sc, self.nms_iou)
            boxes, sc, kps = boxes[sel], sc[sel], kps[sel]
        # boxes clipped to the image (pixel centres -0.5 .. size - 0.5), all at once; slivers dropped
        boxes = np.clip(boxes, -0.5, np.array([w, h, w, h], np.float64) - 0.5)
        ok = ((boxes[:, 2] - boxes[:, 0]) >= 1) & ((boxes[:, 3] - boxes[:, 1]) >= 1)
        kps = kps.astype(np.float64)
        faces = [Face(box=boxes[i], score=float(sc[i]), landmarks5=kps[i]) for i in np.flatnonzero(ok)]
        return faces[: self.max_faces]

    def _run_tiled(self, level_img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One level (``scale`` = its size / the original's), in tiles when it is large: boxes, scores and points
        in original pixels."""
        lh, lw = level_img.shape[:2]
        spans = tiles(lh, lw)
        if len(spans) == 1:
            return self._run(level_img, scale)
        parts = []
        for t in spans:
            y0, x0, y1, x1 = t
            b, s, p = self._run(level_img[y0:y1, x0:x1], 1.0)
            ok = inner_edge_mask(b, t, lh, lw)
            off = np.array([x0, y0], np.float64)
            parts.append((np.concatenate([b[ok, :2] + off, b[ok, 2:] + off], 1), s[ok], p[ok] + off))
        b, s, p = (np.concatenate(x) for x in zip(*parts))
        # level pixels -> original pixels, as _run maps a whole level
        return (b + 0.5) / scale - 0.5, s, (p + 0.5) / scale - 0.5

    def _run(self, work_img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One network run over an already scaled image (``scale`` = its size / the original's): boxes, scores and
        points in original pixels."""
        x = pad_input(work_img)
        scores, t_box, t_kps = self.session.run(["scores", "boxes", "kps"], {"input": x})
        pri = priors(x.shape[1], x.shape[2])
        boxes, sc, kps = postprocess(scores[0], t_box[0], t_kps[0], pri, self.score_threshold, self.nms_iou, self.max_faces)
        # input pixel centres map back by (x + 0.5) / scale - 0.5
        boxes = (boxes.astype(np.float64) + 0.5) / scale - 0.5
        kps = (kps.astype(np.float64) + 0.5) / scale - 0.5
        return boxes, sc, kps


def merge_boxes(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, inside: float = 0.7) -> np.ndarray:
    """Indices kept when merging two passes: NMS, then drop a box lying mostly (``inside`` of its area) within a
    higher-scoring kept box (a fragment of a large face found by the fine pass)."""
    keep = nms(boxes, scores, iou_threshold)
    out: list[int] = []
    for i in keep:
        b = boxes[i]
        area = max(1e-9, (b[2] - b[0]) * (b[3] - b[1]))
        frag = False
        for j in out:
            c = boxes[j]
            iw = min(b[2], c[2]) - max(b[0], c[0])
            ih = min(b[3], c[3]) - max(b[1], c[1])
            if iw > 0 and ih > 0 and iw * ih / area >= inside:
                frag = True
                break
        if not frag:
            out.append(int(i))
    return np.asarray(out, dtype=np.int64)
