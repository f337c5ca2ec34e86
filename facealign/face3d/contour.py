"""Jaw (contour) correspondence: the iBUG jaw points 0-16 slide along the face outline as the head turns.

We pick outline vertices per pose ("landmark marching"). Each jaw point has a line of candidate vertices at its
height, from the point itself towards the face's midline (built by scripts/build_face_model.py). Under the
current pose every candidate is projected and the one that is most outward along the face's horizontal image
direction (the projected model x axis, pointing away from the midline on the point's side) is taken:
- on the side turned away from the camera that is the silhouette, which is where annotators put the points;
- on the side turned towards the camera, and in frontal views, it is the original jaw vertex (the candidates lie
  medially of it, so they project inside), so nothing moves there;
- the chin point (8) stays fixed.
No weights are changed by this module; the fitter also gives the jaw points a lower weight (``jaw_weight``)
because their annotation is the least repeatable.
"""
from __future__ import annotations

import numpy as np

JAW = np.arange(17)
# which side of the midline each jaw point is on (model x sign): 0-7 subject's right, 9-16 subject's left
SIDE = np.sign(np.arange(17) - 8).astype(np.float64)


def horizontal_direction(uv_x_axis: np.ndarray) -> np.ndarray:
    """Unit 2D image direction of the model x axis (the subject's left) from its projected vector."""
    n = float(np.hypot(*uv_x_axis))
    return uv_x_axis / n if n > 1e-12 else np.array([1.0, 0.0])


def select(uv: np.ndarray, lines: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Per jaw point, the index (into the candidate set) of its outline vertex.

    ``uv`` (2, n): projected candidates; ``lines`` (17, C) candidate indices; ``direction`` (2,): unit image
    direction of the subject's left. Returns (17,) indices.
    """
    score = direction @ uv  # (n,) position along the face's horizontal
    s = score[lines] * SIDE[:, None]  # outward on each point's side
    return lines[JAW, np.argmax(s, axis=1)]


def select_along(along: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Like :func:`select` from each candidate's position ``along`` (n,) the subject's-left image direction."""
    s = along[lines] * SIDE[:, None]
    return lines[JAW, np.argmax(s, axis=1)]
