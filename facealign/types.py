"""Result dataclasses shared by every stage. No logic beyond (de)serialisation.

Conventions (see docs/conventions.md):
- Coordinates are 0-based pixels of the original image as stored, after EXIF orientation is applied;
  the centre of the top-left pixel is (0, 0).
- ``box`` is ``[x1, y1, x2, y2]``, the tight box of the face's 68 iBUG points (jaw, brows, nose, mouth); a face
  without 68 points (the fast path) has the detector's box. ``detector_box`` keeps the detector's own box.
- ``landmarks`` follow the iBUG 68 order; ``landmarks5`` are left eye centre, right eye centre, nose tip,
  left mouth corner, right mouth corner, "left" meaning image left.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Pose:
    """Head pose in degrees.

    Right-handed camera frame, camera looking along +z, x to image right, y down.
    ``yaw`` > 0: the subject turns to their left (towards image right); ``pitch`` > 0: the subject looks up;
    ``roll`` > 0: the head tilts clockwise in the image.
    """

    yaw: float
    pitch: float
    roll: float

    def to_json(self) -> dict[str, float]:
        return {"yaw": round(float(self.yaw), 3), "pitch": round(float(self.pitch), 3), "roll": round(float(self.roll), 3)}


@dataclass
class Camera:
    """Camera of a 3D fit. ``model`` is ``"weak_perspective"`` or ``"perspective"``; focal in pixels."""

    model: str
    focal: float
    cx: float
    cy: float

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "focal": float(self.focal), "cx": float(self.cx), "cy": float(self.cy)}


@dataclass
class Fit3D:
    """A morphable-model fit of one face (see facealign.face3d)."""

    rotation: np.ndarray  # (3, 3) model -> camera
    translation: np.ndarray  # (3,) camera frame, model units (cm) for perspective; pixels for weak perspective x, y
    camera: Camera
    scale: float  # weak perspective: pixels per model unit; perspective: 1.0
    identity: np.ndarray  # identity coefficients
    expression: np.ndarray  # expression (blendshape) weights
    landmarks3d: np.ndarray  # (68, 3) in image pixels for x, y and depth in pixels (z away from camera)
    error: float = 0.0  # RMS reprojection error in pixels


@dataclass
class Face:
    """One detected face and everything the pipeline learned about it."""

    box: np.ndarray  # (4,) float x1, y1, x2, y2: the tight box of ``landmarks`` when there are 68 points
    score: float
    landmarks: np.ndarray | None = None  # (68, 2)
    landmarks5: np.ndarray | None = None  # (5, 2)
    landmark_scores: np.ndarray | None = None  # (68,) per-point confidence in [0, 1]
    pose: Pose | None = None
    fit: Fit3D | None = None
    track: int | None = None
    # the detector's own box (what the landmark crop and the detection score refer to); None for given boxes
    detector_box: np.ndarray | None = None
    # (68, 2) x, y of the points in the 3D convention from a landmark network with that head (docs/conventions.md);
    # the 3D fit is made to them and reports them as the x, y of ``landmarks3d``
    landmarks3d_xy: np.ndarray | None = None

    @property
    def landmarks3d(self) -> np.ndarray | None:
        return None if self.fit is None else self.fit.landmarks3d

    @property
    def found_box(self) -> np.ndarray:
        """The box the face was found with: the detector's own box when kept, else ``box``. For whatever measures
        or was calibrated on the detector (detection metrics, the verify threshold, the face-to-body rule)."""
        return self.box if self.detector_box is None else self.detector_box

    def to_json(self, decimals: int = 2) -> dict[str, Any]:
        """The results.jsonl face object (keys documented in docs/json.md)."""

        def pts(a: np.ndarray | None) -> list | None:
            return None if a is None else np.round(np.asarray(a, dtype=np.float64), decimals).tolist()

        out: dict[str, Any] = {
            "box": pts(self.box),
            "score": round(float(self.score), 4),
            "landmarks": pts(self.landmarks),
            "landmarks5": pts(self.landmarks5),
        }
        if self.detector_box is not None:
            out["detector_box"] = pts(self.detector_box)
        if self.track is not None:
            out["track"] = int(self.track)
        if self.fit is not None:
            f = self.fit
            out["pose"] = self.pose.to_json() if self.pose else None
            out["rotation"] = np.round(f.rotation, 6).tolist()
            out["translation"] = np.round(f.translation, 4).tolist()
            out["camera"] = f.camera.to_json()
            out["scale"] = round(float(f.scale), 6)
            out["landmarks3d"] = pts(f.landmarks3d)
            out["identity"] = np.round(f.identity, 4).tolist()
            out["expression"] = np.round(f.expression, 4).tolist()
            out["fit_error"] = round(float(f.error), 3)
        elif self.pose is not None:
            out["pose"] = self.pose.to_json()
        return out


@dataclass
class AlignedFace:
    """A face warped into a template frame."""

    image: np.ndarray  # (size, size, 3) uint8 BGR
    transform: np.ndarray  # (2, 3) original image -> crop
    inverse: np.ndarray  # (2, 3) crop -> original image
    template: str


@dataclass
class Body:
    """One person's 14 body joints (LSP order, the subject's left/right; see docs/body.md)."""

    box: np.ndarray  # (4,) the person box the joints were found in
    score: float  # mean joint score, or the given box's score
    keypoints: np.ndarray  # (14, 2) 0-based pixels of the original image
    keypoint_scores: np.ndarray  # (14,) in [0, 1]
    face: int | None = None  # index of the person's face in the photo's faces
    angle: float = 0.0  # degrees the network crop was turned by (from the face's roll)

    def to_json(self, decimals: int = 2) -> dict[str, Any]:
        """The results.jsonl body object without crops (keys documented in docs/body.md)."""
        kp = np.concatenate([np.asarray(self.keypoints, np.float64), np.asarray(self.keypoint_scores)[:, None]], 1)
        return {
            "box": np.round(np.asarray(self.box, np.float64), decimals).tolist(),
            "score": round(float(self.score), 4),
            "keypoints": [[round(float(x), decimals), round(float(y), decimals), round(float(s), 3)] for x, y, s in kp],
            "face": None if self.face is None else int(self.face),
        }
