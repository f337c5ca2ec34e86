"""The body keypoint network (ONNX) at run time: 14 LSP joints of people given by person boxes. No torch.

Each box is cut with one warp from the original photo by the person crop rule
(facealign.alignment.body_points.body_crop_transform, the rule training uses) and the shared anti-aliased warp
(facealign.alignment.crop.warp_crop); all people of a photo run as one batch; joints come back to photo pixels
through each crop's inverse transform.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.alignment.body_points import BODY_CROP_SCALE, FLIP, N_JOINTS, body_crop_transform
from facealign.alignment.crop import warp_crop
from facealign.alignment.transforms import apply, invert
from facealign.io.images import as_bgr
from facealign.runtime import registry
from facealign.runtime.session import create_session

MAX_BATCH = 16  # people per network run: bounded memory for crowds


class ONNXBody:
    """14 body joints (LSP order, the subject's left/right) and per-joint scores from a registered body network
    (default: the first registered body model; see `facealign models`) or an ONNX file of the same contract
    (input uint8 NHWC BGR crops; outputs ``keypoints`` (N, 14, 2) crop pixels and ``scores`` (N, 14))."""

    def __init__(self, model: str | Path | None = None, threads: int | None = None, flip_tta: bool = False):
        """``flip_tta``: also run the mirrored crop (left/right joints swapped back) and average: a little more
        accurate for twice the network time (docs/body.md)."""
        self.flip_tta = flip_tta
        spec, path = registry.resolve(model, "body")
        self.name = spec.name if path == spec.path else str(path)
        self.size = int(spec.input_size)
        self.crop_scale = float(spec.options.get("crop_scale", BODY_CROP_SCALE))
        self.session = create_session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        shape = self.session.get_inputs()[0].shape
        if isinstance(shape[1], int) and shape[1] != self.size:
            self.size = int(shape[1])  # an ONNX file of another input size: its own graph says which

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
        """(joints (N, 14, 2) in photo pixels, scores (N, 14) in [0, 1]) for N person boxes (N, 4)."""
        crops, mats = self.crops(image, boxes, angles)
        n = len(crops)
        if n == 0:
            return np.zeros((0, N_JOINTS, 2), np.float32), np.zeros((0, N_JOINTS), np.float32)
        batch = np.concatenate([crops, crops[:, :, ::-1]]) if self.flip_tta else crops
        kps, scores = [], []
        for a in range(0, len(batch), MAX_BATCH):
            k, s = self.session.run(None, {self.input_name: np.ascontiguousarray(batch[a : a + MAX_BATCH])})
            kps.append(k)
            scores.append(s)
        kp, sc = np.concatenate(kps), np.concatenate(scores)
        if self.flip_tta:  # mirror the flipped half back: x -> size - 1 - x, left and right swapped
            kf = kp[n:, FLIP].copy()
            kf[..., 0] = (self.size - 1) - kf[..., 0]
            kp = (kp[:n] + kf) / 2
            sc = (sc[:n] + sc[n:, FLIP]) / 2
        joints = np.stack([apply(invert(mats[i]), kp[i]) for i in range(n)]).astype(np.float32)
        return joints, sc.astype(np.float32)
