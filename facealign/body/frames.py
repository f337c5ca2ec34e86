"""Upper-body and full-body crops of a Body (templates in facealign.alignment.body_frames), each with its
transform and inverse."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facealign.alignment.body_frames import frame_size, full_body_transform, upper_body_transform
from facealign.alignment.body_points import L_ANKLE, L_HIP, R_ANKLE, R_HIP
from facealign.alignment.crop import prefilter
from facealign.alignment.transforms import invert
from facealign.types import Body, Face

FRAMES = ("upper_body", "full_body")
# a full-body frame needs hips and ankles found: their scores at least this, the ankles inside the photo
# (docs/body.md: the lowest of the four is above it for ~90 % of LSP's people, below it for 95 % of Buffy's
# upper bodies, whose legs are out of the frame)
FULL_BODY_MIN_SCORE = 0.04


@dataclass
class AlignedBody:
    """A person warped into a body frame."""

    image: np.ndarray  # (height, width, 3) uint8 BGR
    transform: np.ndarray  # (2, 3) original image -> crop
    inverse: np.ndarray  # (2, 3) crop -> original image
    frame: str  # "upper_body" or "full_body"


def has_full_body(body: Body, shape: tuple[int, ...]) -> bool:
    """Whether hips and ankles were found (scores, ankles within the photo): the full-body frame is meaningful."""
    h, w = shape[:2]
    legs = [R_HIP, L_HIP, R_ANKLE, L_ANKLE]
    if float(np.min(body.keypoint_scores[legs])) < FULL_BODY_MIN_SCORE:
        return False
    ankles = body.keypoints[[R_ANKLE, L_ANKLE]]
    return bool(np.all((ankles[:, 0] >= -0.5) & (ankles[:, 0] <= w - 0.5) & (ankles[:, 1] >= -0.5)
                       & (ankles[:, 1] <= h - 0.5)))


def frame_transform(body: Body, frame: str, face: Face | None = None, size: int | None = None) -> np.ndarray:
    """2x3 original -> crop of ``frame`` (upper_body: eyes of ``face`` and shoulders, or head top, neck and
    shoulders without a face; full_body: shoulders, hips, ankles)."""
    width = frame_size(frame, size)[0]
    if frame == "upper_body":
        eyes = face.landmarks5[:2] if face is not None and face.landmarks5 is not None else None
        return upper_body_transform(body.keypoints, eyes, width)
    return full_body_transform(body.keypoints, width)


def align_body(image: np.ndarray, body: Body, frame: str, face: Face | None = None, size: int | None = None
               ) -> AlignedBody | None:
    """The ``frame`` crop of ``body`` (None for a full body whose legs were not found)."""
    if frame == "full_body" and not has_full_body(body, image.shape):
        return None
    m = frame_transform(body, frame, face, size)
    w, h = frame_size(frame, size)
    src, m2 = prefilter(image, m, max(w, h))
    crop = cv2.warpAffine(src, m2, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return AlignedBody(crop, m, invert(m), frame)
