"""The shipped landmark network (ONNX) behind the LandmarkModel interface.

Every box is cropped from the original image by facealign.alignment.crop (crop_transform and warp_crop: the
crop rule and warp training uses), all faces of an image run as one batch, and the points come back to image pixels
through the inverse of each crop's transform. No torch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.alignment.crop import crop_transform, warp_crop
from facealign.alignment.points import FLIP68
from facealign.alignment.transforms import apply, invert
from facealign.io.images import as_bgr
from facealign.landmarks.base import LandmarkModel, LandmarkOutput
from facealign.runtime import registry
from facealign.runtime.session import create_session


MAX_BATCH = 16  # faces per network run (see predict)


class ONNXLandmarks(LandmarkModel):
    """68 iBUG points and per-point scores from a registered heatmap network (default: the registry's default
    landmark model; see `facealign models`) or an ONNX file of the same contract (``model`` as a path, or
    ``path``). Build it with ``facealign.stages.build_model(model, "landmarks", ...)``."""

    OUTPUTS = ["landmarks", "scores"]  # the contract; a graph with more outputs runs, the rest are not fetched
    OPTIONAL = ["landmarks3d"]  # fetched when the graph has them (the 3D-convention head)

    def __init__(
        self,
        model: str | Path | None = None,
        path: str | Path | None = None,
        threads: int | None = None,
        flip_tta: bool = False,
    ):
        """``flip_tta``: also run the mirrored crop and average (test-time augmentation): lower NME for twice the
        network time (docs/runtime.md)."""
        self.flip_tta = flip_tta
        spec, model_path = registry.resolve(path or model, "landmarks")
        self.name = spec.name if model_path == spec.path else str(model_path)
        self.size = int(spec.input_size)
        self.crop_scale = float(spec.options.get("crop_scale", 1.4))
        self.session = create_session(model_path, threads)
        self.input_name = self.session.get_inputs()[0].name
        graph_outputs = {o.name for o in self.session.get_outputs()}
        self.outputs = self.OUTPUTS + [k for k in self.OPTIONAL if k in graph_outputs]
        self._batch = np.zeros((0, self.size, self.size, 3), np.uint8)  # grown on demand, then reused

    @property
    def has_3d(self) -> bool:
        """Whether the network has the 3D-convention head (its graph outputs `landmarks3d`)."""
        return "landmarks3d" in self.outputs

    def _buffer(self, n: int) -> np.ndarray:
        if len(self._batch) < n:
            self._batch = np.zeros((max(n, 2 * len(self._batch)), self.size, self.size, 3), np.uint8)
        return self._batch

    def crops(
        self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(uint8 crops (N, S, S, 3), transforms (N, 2, 3) image -> crop): the network input of each box."""
        image = as_bgr(image)
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        n = len(boxes)
        buf = self._buffer(n)
        mats = np.zeros((n, 2, 3))
        for i, box in enumerate(boxes):
            angle = 0.0 if angles is None else float(angles[i])
            mats[i] = crop_transform(box, self.size, angle, self.crop_scale)
            warp_crop(image, mats[i], self.size, dst=buf[i])
        return buf[:n], mats

    def predict(
        self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(landmarks (N, 68, 2) in image pixels, scores (N, 68) in [0, 1]) for N boxes (N, 4)."""
        r = self.predict_all(image, boxes, angles)
        return r.landmarks, r.scores

    def predict_all(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None) -> LandmarkOutput:
        """:meth:`predict` and, when the network has the 3D-convention head, its points in image pixels."""
        crops, mats = self.crops(image, boxes, angles)
        n = len(crops)
        if n == 0:
            empty = np.zeros((0, 68, 2), np.float32)
            return LandmarkOutput(empty, np.zeros((0, 68), np.float32), empty.copy() if self.has_3d else None)
        batch = np.concatenate([crops, crops[:, :, ::-1]]) if self.flip_tta else crops
        # one run per image, in chunks of MAX_BATCH faces for crowds: per-face time is lowest for batches of ~4-16
        # (activations stay in cache) and memory stays bounded for photos with hundreds of faces
        m = len(batch)
        chunks = [self.session.run(self.outputs, {self.input_name: batch[i : i + MAX_BATCH]}) for i in range(0, m, MAX_BATCH)]
        outs = {k: v[0] if len(chunks) == 1 else np.concatenate(v) for k, *v in zip(self.outputs, *chunks)}
        scores = outs["scores"][:n]
        if self.flip_tta:
            scores = (scores + outs["scores"][n:, FLIP68]) / 2
        inv = [invert(m) for m in mats]
        lm = self._to_image(outs["landmarks"], n, inv)
        lm3d = self._to_image(outs["landmarks3d"], n, inv) if self.has_3d else None
        return LandmarkOutput(lm, scores, lm3d)

    def _to_image(self, points: np.ndarray, n: int, inv: list[np.ndarray]) -> np.ndarray:
        """Crop points of the batch (the mirrored half after the first ``n`` with flip_tta) -> image pixels."""
        lm = points[:n]
        if self.flip_tta:  # mirror the flipped half's points back (x -> size-1-x, left/right order swapped)
            lm_f = points[n:, FLIP68].copy()
            lm_f[..., 0] = (self.size - 1) - lm_f[..., 0]
            lm = (lm + lm_f) / 2
        out = np.empty_like(lm)
        for i in range(n):
            out[i] = apply(inv[i], lm[i])
        return out
