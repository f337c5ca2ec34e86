"""Rotation matrices <-> head pose angles (yaw, pitch, roll in degrees).

Frames. Camera frame: right-handed, camera looking along +z, x to image right, y down (OpenCV). Model frame (ICT):
x towards the subject's left, y up, z out of the face. A subject facing the camera has
``R0 = diag(1, -1, -1)`` (model -> camera): the subject's left is image right, up is image up, the face looks at
the camera.

Angles. ``R = Rz(roll) @ Ry(-yaw) @ Rx(-pitch) @ R0`` with the usual right-handed axis rotations about the camera
axes (Rx, Ry, Rz), i.e. pitch is applied first (a nod about the head's ear-to-ear axis), then yaw (a turn about
the vertical), then roll (an in-plane rotation of the whole picture of the head). Consequences, all checked by
tests/test_face3d.py:
- yaw > 0: the subject turns to their left, the nose moves towards image right;
- pitch > 0: the subject looks up, the nose moves up in the image;
- roll > 0: the head tilts clockwise in the image (the image-right eye goes down), the same sign as the eye-line
  angle ``atan2(dy, dx)`` in image coordinates (facealign.alignment.crop.roll_from_five).
Ranges: yaw in [-90, 90], pitch and roll in (-180, 180].
"""
from __future__ import annotations

import numpy as np

from facealign.types import Pose

R0 = np.diag([1.0, -1.0, -1.0])


def _rx(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1.0, 0], [-s, 0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def rotation_from_angles(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Model -> camera rotation (3, 3) of a head with the given pose (degrees)."""
    y, p, r = np.radians([yaw, pitch, roll])
    return _rz(r) @ _ry(-y) @ _rx(-p) @ R0


def angles_from_rotation(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a model -> camera rotation; the inverse of rotation_from_angles."""
    m = np.asarray(rot, dtype=np.float64) @ R0  # R0 is its own inverse
    # m = Rz(r) Ry(a) Rx(b) with a = -yaw, b = -pitch
    a = np.arcsin(np.clip(-m[2, 0], -1.0, 1.0))
    if abs(m[2, 0]) < 1 - 1e-9:
        b = np.arctan2(m[2, 1], m[2, 2])
        r = np.arctan2(m[1, 0], m[0, 0])
    else:  # gimbal lock at yaw = +-90: put everything in roll
        b = 0.0
        r = np.arctan2(-m[0, 1], m[1, 1])
    return float(np.degrees(-a)), float(np.degrees(-b)), float(np.degrees(r))


def pose_from_rotation(rot: np.ndarray) -> Pose:
    """Head pose (degrees, convention of this module and facealign.types.Pose) of a model -> camera rotation."""
    return Pose(*angles_from_rotation(rot))


def rodrigues(w: np.ndarray) -> np.ndarray:
    """Rotation matrix exp([w]x) of an axis-angle vector ``w`` (radians)."""
    th = float(np.sqrt(w @ w))
    if th < 1e-12:
        return np.eye(3)
    k = w / th
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(th) * kx + (1 - np.cos(th)) * (kx @ kx)


def nearest_rotation(m: np.ndarray) -> np.ndarray:
    """The rotation closest (Frobenius) to a 3x3 matrix."""
    u, _, vt = np.linalg.svd(m)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt
