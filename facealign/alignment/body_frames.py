"""Body geometry beyond the crop rule: the person box that hangs below a face, and the upper-body and full-body
alignment frames (templates, like the face templates).

Face -> person box: in the face's frame (origin the face box centre, unit the face box's longer side; the
detector's own box, ``Face.found_box``, which estimates the tight box of the 68 points), the tight box of a full-body person's 14 joints has its centre at (FACE_TO_BODY["cx"],
FACE_TO_BODY["cy"]) and size FACE_TO_BODY["w"] x FACE_TO_BODY["h"]: medians over the people of LSP and PARSE
training photos whose face the shipped face model found (docs/body.md). The body is mostly upright whatever
the head's roll: the box turns by ``ROLL_FOLLOW`` x the face's roll, the fitted slope of the torso angle on it.

Templates (crop pixels, fractions of the crop's width and height):
- ``upper_body`` (square, default 256): eye centres and shoulders, from the median head-and-shoulders of Buffy's
  people in units of the eye distance (shoulders 5.4 eye distances apart, 3.45 below the eyes); without a face,
  head top, neck and shoulders of the same template.
- ``full_body`` (1:2, default 256 x 512): the mid-points of shoulders, hips and ankles on the vertical centre line
  at 22 %, 50 % and 88 % of the height: the person upright, centred, at a fixed height.
"""
from __future__ import annotations

import numpy as np

from facealign.alignment.body_points import (
    HEAD_TOP, L_ANKLE, L_HIP, L_SHOULDER, NECK, R_ANKLE, R_HIP, R_SHOULDER,
)
from facealign.alignment.transforms import estimate_similarity

FACE_TO_BODY = {"cx": 0.0, "cy": 4.1, "w": 4.4, "h": 10.3}
ROLL_FOLLOW = 0.25

# upper body, fractions of the square side: eye distance 0.125, eye mid-point at (0.5, 0.3)
_IPD, _EYE_Y = 0.125, 0.30
UPPER_EYES = np.array([[0.5 - _IPD / 2, _EYE_Y], [0.5 + _IPD / 2, _EYE_Y]])  # image-left eye, image-right eye
UPPER_JOINTS = {  # joint index -> template point; right_* (subject's) on the image left
    R_SHOULDER: (0.5 - 2.7 * _IPD, _EYE_Y + 3.45 * _IPD),
    L_SHOULDER: (0.5 + 2.7 * _IPD, _EYE_Y + 3.45 * _IPD),
    NECK: (0.5, _EYE_Y + 2.45 * _IPD),
    HEAD_TOP: (0.5, _EYE_Y - 1.2 * _IPD),
}
FULL_MIDPOINTS = np.array([[0.5, 0.22], [0.5, 0.50], [0.5, 0.88]])  # shoulders, hips, ankles


def body_box_from_face(face_box: np.ndarray, roll: float = 0.0) -> tuple[np.ndarray, float]:
    """(person box x1, y1, x2, y2, crop angle in degrees) of the body below a face box (the detector's box, as
    FACE_TO_BODY was measured; a tight 68-point box for given faces) with the face's roll in degrees."""
    b = np.asarray(face_box, np.float64)[:4]
    c = (b[:2] + b[2:]) / 2
    s = max(b[2] - b[0], b[3] - b[1], 1.0)
    angle = ROLL_FOLLOW * float(roll)
    a = np.radians(angle)
    # the offset is "down" in the turned frame: rotate (cx, cy) by the angle (clockwise positive, y down)
    off = np.array([FACE_TO_BODY["cx"], FACE_TO_BODY["cy"]]) * s
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    centre = c + rot @ off
    half = np.array([FACE_TO_BODY["w"], FACE_TO_BODY["h"]]) * s / 2
    return np.concatenate([centre - half, centre + half]), angle


def frame_size(name: str, size: int | None = None) -> tuple[int, int]:
    """(width, height) of a body frame: ``upper_body`` square of ``size`` (default 256), ``full_body`` ``size``
    wide and twice as high (default 256 x 512)."""
    side = int(size or 256)
    if name == "upper_body":
        return side, side
    if name == "full_body":
        return side, 2 * side
    raise ValueError(f"unknown body frame {name!r}; choose upper_body or full_body")


def _pixels(frac: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    return np.asarray(frac, np.float64) * np.array([w, h]) - 0.5  # pixel centres at integers


def upper_body_transform(joints: np.ndarray, eyes: np.ndarray | None = None, size: int = 256) -> np.ndarray:
    """2x3 similarity original -> square upper-body crop of side ``size``: eye centres (image-left, image-right;
    the face's 5 points 0 and 1) and shoulders when ``eyes`` is given, else head top, neck and shoulders."""
    j = np.asarray(joints, np.float64)
    idx = [R_SHOULDER, L_SHOULDER] if eyes is not None else [R_SHOULDER, L_SHOULDER, NECK, HEAD_TOP]
    src = [j[i] for i in idx]
    dst = [UPPER_JOINTS[i] for i in idx]
    if eyes is not None:
        src += list(np.asarray(eyes, np.float64)[:2])
        dst += list(UPPER_EYES)
    return estimate_similarity(np.array(src), _pixels(np.array(dst), (size, size)))


def full_body_transform(joints: np.ndarray, size: int = 256) -> np.ndarray:
    """2x3 similarity original -> full-body crop ``size`` wide and ``2 * size`` high, from the mid-points of the
    shoulders, hips and ankles (mid-points, so a left/right mix-up cannot turn the frame)."""
    j = np.asarray(joints, np.float64)
    src = np.stack([(j[R_SHOULDER] + j[L_SHOULDER]) / 2, (j[R_HIP] + j[L_HIP]) / 2, (j[R_ANKLE] + j[L_ANKLE]) / 2])
    return estimate_similarity(src, _pixels(FULL_MIDPOINTS, frame_size("full_body", size)))
