"""The body keypoint network (ONNX) at run time: 14 LSP joints of people given by person boxes. No torch.

Each box is cut with one warp from the original photo by the person crop rule
(facealign.alignment.body_points.body_crop_transform, the rule training uses) and the shared anti-aliased warp
(facealign.alignment.crop.warp_crop); all people of a photo run as one batch; joints come back to photo pixels
through each crop's inverse transform.

Decoding (docs/body.md, "Decoding and refinement"): when the graph also outputs its heatmap logits
(``heatmaps``), joints are the soft-argmax within DECODE_WINDOW cells of each heatmap's peak, and the mirrored
crop of the flip test-time augmentation is averaged as heatmap probabilities before decoding; graphs with only
``keypoints`` and ``scores`` give their own (whole-map) soft-argmax, averaged as coordinates. Refinement: further
passes on the tight box of the last pass's joints, grown by REFINE_MARGIN (``refine``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.alignment.body_points import (
    BODY_CROP_SCALE, DECODE_WINDOW, FLIP, N_JOINTS, REFINE_PASSES, REFINE_STOP_IOU, body_crop_transform, box_iou,
    decode_heatmaps, flip_heatmaps, heatmap_probs, refine_box,
)
from facealign.alignment.crop import warp_crop
from facealign.alignment.transforms import apply, invert
from facealign.io.images import as_bgr
from facealign.runtime import registry
from facealign.runtime.session import create_session

MAX_BATCH = 16  # people per network run: bounded memory for crowds


class ONNXBody:
    """14 body joints (LSP order, the subject's left/right) and per-joint scores from a registered body network
    (default: the first registered body model; see `facealign models`) or an ONNX file of the same contract
    (input uint8 NHWC BGR crops; outputs ``keypoints`` (N, 14, 2) crop pixels and ``scores`` (N, 14), optionally
    ``heatmaps`` (N, 14, S/4, S/4) logits)."""

    def __init__(self, model: str | Path | None = None, threads: int | None = None, flip_tta: bool = False,
                 window: int = DECODE_WINDOW, passes: int = REFINE_PASSES):
        """``flip_tta``: also run the mirrored crop (left/right joints swapped back) and average (twice the
        network time). ``window``: heatmap cells around each peak the joints are decoded from (0: the whole map).
        ``passes``: network passes per person in ``refine`` (1: no refinement). Numbers in docs/body.md."""
        self.flip_tta = flip_tta
        self.window = int(window)
        self.passes = max(1, int(passes))
        self.crops_run = 0  # crops through the network so far (a mirrored crop counts): the cost in network runs
        spec, path = registry.resolve(model, "body")
        self.name = spec.name if path == spec.path else str(path)
        self.size = int(spec.input_size)
        self.crop_scale = float(spec.options.get("crop_scale", BODY_CROP_SCALE))
        self.session = create_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        shape = self.session.get_inputs()[0].shape
        if isinstance(shape[1], int) and shape[1] != self.size:
            self.size = int(shape[1])  # an ONNX file of another input size: its own graph says which
        outputs = [o.name for o in self.session.get_outputs()]
        self.heatmaps = "heatmaps" in outputs  # decode from the heatmaps (else the graph's own keypoints)
        self.output_names = ["keypoints", "scores"] + (["heatmaps"] if self.heatmaps else [])

    def crops(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """(uint8 crops (N, S, S, 3), transforms (N, 2, 3) photo -> crop): the network input of each person box;
        ``angles`` (degrees, one a box) turn the crops."""
        image = as_bgr(image)
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        out = np.zeros((len(boxes), self.size, self.size, 3), np.uint8)
        mats = np.zeros((len(boxes), 2, 3))
        for i, box in enumerate(boxes):
            mats[i] = body_crop_transform(box, self.size, 0.0 if angles is None else float(angles[i]), self.crop_scale)
            warp_crop(image, mats[i], self.size, dst=out[i])
        return out, mats

    def predict(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """(joints (N, 14, 2) in photo pixels, scores (N, 14) in [0, 1]) for N person boxes (N, 4): one pass."""
        crops, mats = self.crops(image, boxes, angles)
        n = len(crops)
        if n == 0:
            return np.zeros((0, N_JOINTS, 2), np.float32), np.zeros((0, N_JOINTS), np.float32)
        kp, sc = self.run_crops(crops)
        joints = np.stack([apply(invert(mats[i]), kp[i]) for i in range(n)]).astype(np.float32)
        return joints, sc.astype(np.float32)

    def run_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(joints (N, 14, 2) in crop pixels, scores (N, 14)) of N network crops, with this runtime's decoding and
        flip test-time augmentation."""
        n = len(crops)
        batch = np.concatenate([crops, crops[:, :, ::-1]]) if self.flip_tta else crops
        outs: list[list[np.ndarray]] = [[] for _ in self.output_names]
        for a in range(0, len(batch), MAX_BATCH):
            got = self.session.run(self.output_names, {self.input_name: np.ascontiguousarray(batch[a : a + MAX_BATCH])})
            for o, g in zip(outs, got):
                o.append(g)
        self.crops_run += len(batch)
        kp, sc = np.concatenate(outs[0]), np.concatenate(outs[1])
        if self.flip_tta:
            sc = (sc[:n] + sc[n:, FLIP]) / 2
        if self.heatmaps:
            prob = heatmap_probs(np.concatenate(outs[2]))
            if self.flip_tta:
                prob = (prob[:n] + flip_heatmaps(prob[n:])) / 2
            return decode_heatmaps(prob, self.window), sc
        if self.flip_tta:  # mirror the flipped half back: x -> size - 1 - x, left and right swapped
            kf = kp[n:, FLIP].copy()
            kf[..., 0] = (self.size - 1) - kf[..., 0]
            kp = (kp[:n] + kf) / 2
        return kp, sc

    def refine(self, image: np.ndarray, joints: np.ndarray, scores: np.ndarray, boxes: np.ndarray,
               angles: np.ndarray | None = None, passes: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(joints, scores, boxes) after up to ``passes`` - 1 further passes (default: this runtime's ``passes``)
        over people whose ``joints``/``scores`` one pass on ``boxes`` gave. Each pass runs on the tight box of the
        last joints grown by REFINE_MARGIN (alignment.body_points.refine_box), until that box overlaps the last
        one by REFINE_STOP_IOU or more. Returns the boxes the joints were found in; each person keeps its angle."""
        joints = np.array(joints, np.float32).reshape(-1, N_JOINTS, 2)
        scores = np.array(scores, np.float32).reshape(-1, N_JOINTS)
        boxes = np.array(boxes, np.float64).reshape(-1, 4)
        angles = np.zeros(len(boxes)) if angles is None else np.asarray(angles, np.float64).reshape(-1)
        todo = list(range(len(boxes)))
        for _ in range((self.passes if passes is None else max(1, int(passes))) - 1):
            new = {i: refine_box(joints[i]) for i in todo}
            todo = [i for i in todo if box_iou(new[i], boxes[i]) < REFINE_STOP_IOU]
            if not todo:
                break
            nb = np.array([new[i] for i in todo])
            j, s = self.predict(image, nb, angles[todo])
            joints[todo], scores[todo], boxes[todo] = j, s, nb
        return joints, scores, boxes
