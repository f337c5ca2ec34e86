"""A 3D shape prior for teacher points: the 68 points fitted with the face3d model and projected back.

The ICT-FaceKit fit (facealign.face3d, weak perspective, weighted by the points' confidences) explains the points
by a pose and a plausible face shape; its projection in the 300-W convention (inner points 17-67 at their model
vertices, the jaw 0-16 on the visible outline under the fitted pose, as the profiling views label them:
facealign.training.profiling.render.outline_choice) is the prior. consistency.py pulls each teacher point towards
it by ``shape_prior`` x (1 - the point's confidence): sure points keep their place, unsure ones take the prior's.
"""
from __future__ import annotations

import numpy as np

from facealign.face3d.camera import project_model_points
from facealign.face3d.fit import default_fitter
from facealign.training.profiling.render import outline_choice


def project_on_fit(points: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """68 points (crop pixels of a ``size`` x ``size`` crop) and their weights (68,) -> the fitted model's 68
    points in the 2D convention (68, 2)."""
    fitter = default_fitter()
    fit = fitter.fit(np.asarray(points, np.float64), (size, size), weights=np.clip(weights, 1e-3, None))
    m = fitter.model
    cont = m.contour.shape(m.coeffs(fit.identity, fit.expression)).T
    sel = outline_choice(np.asarray(fit.rotation), cont, m.contour_lines)
    out = np.asarray(fit.landmarks3d, np.float64)[:, :2].copy()
    out[:17] = project_model_points(fit, cont[sel])[:, :2]
    return out


def pull_to_prior(points: np.ndarray, conf: np.ndarray, size: int, strength: float) -> np.ndarray:
    """Each point moved towards the prior by ``strength`` x (1 - its confidence)."""
    prior = project_on_fit(points, conf, size)
    a = (strength * (1.0 - np.clip(conf, 0.0, 1.0)))[:, None]
    return points + a * (prior - points)
