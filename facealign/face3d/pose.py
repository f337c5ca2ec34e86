"""Rotation matrices <-> head pose angles (yaw, pitch, roll in degrees).

Frames. Camera frame: right-handed, camera looking along +z, x to image right, y down (OpenCV). Model frame (ICT):
x towards the subject's left, y up, z out of the face. A subject facing the camera has
``R0 = diag(1, -1, -1)`` (model -> camera): the subject's left is image right, up is image up, the face looks at
the camera.

Angles. ``R = Rz(roll) @ Rx(-pitch) @ Ry(-yaw) @ R0`` with the usual right-handed axis rotations about the camera
axes (Rx, Ry, Rz), i.e. yaw is applied first (a turn about the head's own vertical axis), then pitch (a nod about
the camera's horizontal axis), then roll (an in-plane rotation of the whole picture of the head). Consequences, all
checked by tests/test_face3d.py:
- yaw > 0: the subject turns to their left, the nose moves towards image right;
- pitch > 0: the subject looks up, the nose moves up in the image;
- roll > 0: the head tilts clockwise in the image (the image-right eye goes down), the same sign as the eye-line
  angle ``atan2(dy, dx)`` in image coordinates (facealign.alignment.crop.roll_from_five).
Ranges: pitch in [-90, 90], yaw and roll in (-180, 180].
Why this order: Euler angles are singular (gimbal lock) where the middle angle is +-90. Faces are seen at any yaw up
to full profile but never at pitch +-90 (looking straight up or down hides the landmarks), so pitch is the middle
angle and every head a photo can show has well-defined angles. The order Rz(roll) Ry(yaw) Rx(pitch) of 300W-LP-style
labels is singular at yaw +-90, where a 1 degree rotation error can read as 6 degrees of pitch and roll; the two
orders agree to first order at small angles and exactly when only one angle is non-zero.
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
    return _rz(r) @ _rx(-p) @ _ry(-y) @ R0


def angles_from_rotation(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a model -> camera rotation; the inverse of rotation_from_angles."""
    m = np.asarray(rot, dtype=np.float64) @ R0  # R0 is its own inverse
    # m = Rz(c) Rx(b) Ry(a) with a = -yaw, b = -pitch, c = roll
    b = np.arcsin(np.clip(m[2, 1], -1.0, 1.0))
    if abs(m[2, 1]) < 1 - 1e-9:
        a = np.arctan2(-m[2, 0], m[2, 2])
        c = np.arctan2(-m[0, 1], m[1, 1])
    else:  # gimbal lock at pitch = +-90 (a face seen from straight above or below): put everything in yaw
        c = 0.0
        a = np.arctan2(m[0, 2], m[0, 0])
    return float(np.degrees(-a)), float(np.degrees(-b)), float(np.degrees(c))


def pose_from_rotation(rot: np.ndarray) -> Pose:
    """Head pose (degrees, convention of this module and facealign.types.Pose) of a model -> camera rotation."""
    return Pose(*angles_from_rotation(rot))
