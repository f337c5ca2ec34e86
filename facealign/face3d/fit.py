"""Fit the compact morphable model to 2D landmarks: head pose, camera, identity and expression.

    from facealign.face3d.fit import Face3DFitter, fit_face
    fitter = Face3DFitter()                         # loads the model once
    fit = fitter.fit(landmarks68, (w, h))           # weak perspective
    fit = fitter.fit(landmarks68, (w, h), camera="perspective")           # focal estimated
    fit = fitter.fit(landmarks68, (w, h), camera="perspective", focal=800) # focal given
    pose = pose_from_rotation(fit.rotation)         # yaw, pitch, roll in degrees (facealign.face3d.pose)
    vertices, triangles = fitter.mesh(fit)          # decimated mesh in image coordinates

Method. Initialisation: an affine camera fitted to the mean shape's inner points (17-67) by least squares, made
a scaled rotation by SVD. Then a few damped Gauss-Newton steps on all parameters at once: rotation (a local
axis-angle update), image translation, log scale, (perspective) log focal, identity and expression coefficients.
The cost is ``sum_i w_i |u_i - obs_i|^2 / (s_ref sigma)^2 + |alpha / sigma_id|^2 + |beta / sigma_exp|^2 +
(log(f / f0) / sigma_f)^2``: residuals in model units (cm) against a landmark noise ``sigma``, standard-normal identity,
small expressions (clipped to [0, 1] after every step), focal pulled weakly towards ``f0 = max(w, h)``.
The jaw points use the outline vertex picked per pose (facealign.face3d.contour) and a lower weight.
Everything is vectorised numpy; a fit takes well under a millisecond (benchmarks/face3d_bench.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from facealign.face3d import camera as cam
from facealign.face3d import contour
from facealign.face3d.model import FaceModel3D, PointSet, load_model
from facealign.face3d.pose import pose_from_rotation
from facealign.types import Fit3D, Pose

__all__ = ["Face3DFitter", "FitOptions", "fit_face", "pose_from_rotation"]

INNER = np.arange(17, 68)
# the 5 alignment points as model vertices: eye centres are means of the eye rings
_FIVE_WEIGHTS = np.zeros((5, 68))
_FIVE_WEIGHTS[0, 36:42] = 1 / 6
_FIVE_WEIGHTS[1, 42:48] = 1 / 6
_FIVE_WEIGHTS[2, 30] = _FIVE_WEIGHTS[3, 48] = _FIVE_WEIGHTS[4, 54] = 1.0


@dataclass
class FitOptions:
    """Knobs of the fitter (defaults tuned on the synthetic benchmark, `facealign eval pose`)."""

    pose_iterations: int = 2  # Gauss-Newton steps on pose and camera only (mean shape), from the affine start
    iterations: int = 3  # then joint steps on pose, camera, identity and expression
    n_identity: int = 20  # identity directions fitted (later ones barely move the landmarks; they stay 0)
    # blendshapes not fitted (stay 0): eye gaze is not what 68 eyelid/contour points measure
    skip_expressions: tuple[str, ...] = ("eyeLook",)
    sigma: float = 0.2  # landmark noise (cm) the data term is normalised by
    identity_sigma: float = 1.0  # prior std of identity coefficients
    expression_sigma: float = 0.25  # prior std of blendshape weights
    focal_log_sigma: float = 1.0  # prior std of log(focal / max(w, h)) when the focal is estimated
    jaw_weight: float = 0.5  # weight of jaw points 0-16 (the rest have 1)
    damping: float = 1e-3  # Levenberg-Marquardt damping (relative to the diagonal)
    min_distance: float = 20.0  # perspective: the head origin stays at least this far (cm) from the camera
    contour: bool = True  # pick outline vertices per pose for the jaw points


def _rotvec(x: float, y: float, z: float) -> np.ndarray:
    """Rodrigues' formula with scalar arithmetic (a numpy version costs more than the rest of a step)."""
    th = math.sqrt(x * x + y * y + z * z)
    if th < 1e-12:
        return np.eye(3)
    a, b, c = x / th, y / th, z / th
    sn, cs = math.sin(th), math.cos(th)
    v = 1.0 - cs
    return np.array([
        [cs + a * a * v, a * b * v - c * sn, a * c * v + b * sn],
        [a * b * v + c * sn, cs + b * b * v, b * c * v - a * sn],
        [a * c * v - b * sn, b * c * v + a * sn, cs + c * c * v],
    ])


def _gram(a: np.ndarray) -> np.ndarray:
    """``a.T @ a`` in column blocks small enough that OpenBLAS stays on one thread.

    A multi-threaded BLAS call on matrices this small costs far more than it saves (and 10-100x more when the
    cores are busy), and OpenBLAS threads GEMMs above m*n*k = 4 * 65536: the blocks stay below that.
    """
    m, n = a.shape
    step = max(1, (4 * 65536 - 1) // (m * n))
    out = np.empty((n, n))
    at = a.T
    for i in range(0, n, step):
        out[:, i : i + step] = at @ a[:, i : i + step]
    return out


def _scaled_rotation(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Nearest ``s * R[:2]`` to a 2x3 affine camera ``a``: rows orthonormalised by ``(a a^T)^(-1/2)``, s = mean
    singular value; the third row is the cross product (closed form: a 2x2 matrix square root, no SVD call)."""
    m00, m01, m11 = float(a[0] @ a[0]), float(a[0] @ a[1]), float(a[1] @ a[1])
    sq = math.sqrt(max(m00 * m11 - m01 * m01, 0.0))
    tr = math.sqrt(m00 + m11 + 2 * sq)  # sqrt(M) = (M + sq I) / tr; its trace = sum of singular values = tr
    if not sq > 1e-12 * max(m00 + m11, 1e-300):
        raise ValueError("landmarks are degenerate: they do not span an area")
    # inverse of sqrt(M) = (M + sq I) / tr, a 2x2 inverse
    p00, p01, p11 = (m00 + sq) / tr, m01 / tr, (m11 + sq) / tr
    det = p00 * p11 - p01 * p01
    i00, i01, i11 = p11 / det, -p01 / det, p00 / det
    r0 = i00 * a[0] + i01 * a[1]
    r1 = i01 * a[0] + i11 * a[1]
    r2 = np.array([r0[1] * r1[2] - r0[2] * r1[1], r0[2] * r1[0] - r0[0] * r1[2], r0[0] * r1[1] - r0[1] * r1[0]])
    return np.vstack([r0, r1, r2]), tr / 2


class Face3DFitter:
    """Holds the loaded model; ``fit`` is cheap and thread-safe (no state is changed)."""

    def __init__(self, model: FaceModel3D | None = None, options: FitOptions | None = None) -> None:
        self.model = model if model is not None else load_model()
        self.options = opt = options or FitOptions()
        m = self.model
        self._nid = nid = min(opt.n_identity, m.n_identity)
        self._exp_idx = np.array([i for i, name in enumerate(m.expression_names)
                                  if not name.startswith(tuple(opt.skip_expressions))], dtype=np.int64)
        keep = np.r_[np.arange(nid), m.n_identity + self._exp_idx]  # fitted coefficients

        def sub(ps: PointSet) -> PointSet:
            return PointSet(ps.mean, np.ascontiguousarray(ps.basis[:, :, keep]))

        lms = sub(m.landmarks)
        self._inner = lms.take(INNER)
        self._jaw0 = lms.take(np.arange(17))
        self._lm = lms
        self._cand = sub(m.contour)
        self._lines = m.contour_lines
        self._five = PointSet(lms.mean @ _FIVE_WEIGHTS.T, np.einsum("pn,cnk->cpk", _FIVE_WEIGHTS, lms.basis))
        self._k = len(keep)
        self._prior = np.concatenate(
            [np.full(nid, 1 / opt.identity_sigma**2), np.full(len(self._exp_idx), 1 / opt.expression_sigma**2)]
        )
        self._weights68 = np.ones(68)
        self._weights68[:17] = opt.jaw_weight
        # least-squares affine camera from the inner mean shape is a fixed linear map of the observations
        xi = self._inner.mean
        self._inner_centre = xi.mean(1)
        self._inner_pinv = np.linalg.pinv(xi - self._inner_centre[:, None])  # (51, 3)

    # ------------------------------------------------------------------ public
    def fit(self, landmarks68: np.ndarray, image_size: tuple[int, int], camera: str = cam.WEAK,
            focal: float | None = None, cx: float | None = None, cy: float | None = None,
            weights: np.ndarray | None = None, convention: str = "2d") -> Fit3D:
        """Fit pose, camera, identity and expression to 68 iBUG points (0-based image pixels, (68, 2)).

        ``image_size`` is (w, h); ``camera``: "weak_perspective" or "perspective" (focal in pixels estimated unless
        ``focal`` is given); principal point ``(cx, cy)`` defaults to the image centre; ``weights`` (68,) optional
        per-point confidences (multiplied with the jaw weight). ``convention``: "2d" for 300-W points (the jaw on
        the visible outline: outline vertices are picked per pose), "3d" for points in the 3D convention (the jaw
        where it is: the model's own jaw vertices).
        """
        if convention not in ("2d", "3d"):
            raise ValueError(f"convention must be '2d' or '3d', not {convention!r}")
        obs = np.asarray(landmarks68, dtype=np.float64).reshape(68, 2)
        # jaw first, then the inner points: the order of the point sets used inside
        obs = np.concatenate([obs[:17], obs[17:]]).T
        w = self._weights68 if weights is None else self._weights68 * np.asarray(weights, dtype=np.float64)
        return self._fit(obs, image_size, camera, focal, cx, cy, w, five=False, contour=convention == "2d")

    def fit_five(self, landmarks5: np.ndarray, image_size: tuple[int, int], camera: str = cam.WEAK,
                 focal: float | None = None, cx: float | None = None, cy: float | None = None) -> Fit3D:
        """Pose-only fit of the mean shape to the 5 alignment points (a fallback when 68 points are missing)."""
        obs = np.asarray(landmarks5, dtype=np.float64).reshape(5, 2).T
        return self._fit(obs, image_size, camera, focal, cx, cy, np.ones(5), five=True)

    def mesh(self, fit: Fit3D) -> tuple[np.ndarray, np.ndarray]:
        """The fitted decimated mesh: vertices (V, 3) as image x, y and depth (pixels), triangles (F, 3)."""
        return cam.project_model_points(fit, self.model_vertices(fit)), self.model.triangles

    def model_vertices(self, fit: Fit3D) -> np.ndarray:
        """The fitted decimated mesh in the model frame (V, 3), cm (for export without the pose)."""
        return self.model.mesh.shape(self.model.coeffs(fit.identity, fit.expression)).T

    # ------------------------------------------------------------------ internals
    def _init_pose(self, obs: np.ndarray, xs: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """Affine camera fitted to model points ``xs`` (3, n) -> (R, s, image position of the model origin)."""
        if xs is self._inner.mean and np.all(w == 1.0):
            xm = self._inner_centre
            om = obs.mean(1)
            a = self._inner_pinv.T @ (obs - om[:, None]).T  # (3, 2)
        else:
            sw = np.sqrt(w)
            xm = (xs * w).sum(1) / w.sum()
            om = (obs * w).sum(1) / w.sum()
            a, *_ = np.linalg.lstsq(((xs - xm[:, None]) * sw).T, ((obs - om[:, None]) * sw).T, rcond=None)
        rot, s = _scaled_rotation(a.T)
        return rot, s, om - s * (rot[:2] @ xm)

    def _jaw(self, rot: np.ndarray, s: float, k: float, t: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
        """Index (into the contour candidates) of the outline vertex of each jaw point under the current pose."""
        xc = self._cand.mean if not coeffs.any() else self._cand.shape(coeffs)
        # position along the image direction of the subject's left (a = the projected model x axis), up to the
        # principal point's offset and a positive factor, which do not change an argmax
        along = (rot[0, 0] * rot[0] + rot[1, 0] * rot[1]) @ xc
        if k:
            along = (s * along + (rot[0, 0] * t[0] + rot[1, 0] * t[1])) / (1.0 + s * k * (rot[2] @ xc))
        return contour.select_along(along, self._lines)

    def _points(self, sel: np.ndarray) -> PointSet:
        """The 68 model points, jaw 0-16 (outline vertices ``sel``, or the jaw's own) first, then 17-67."""
        jaw = self._jaw0 if sel is None else self._cand.take(sel)
        return PointSet(np.concatenate([jaw.mean, self._inner.mean], axis=1),
                        np.concatenate([jaw.basis, self._inner.basis], axis=1))

    def _fit(self, obs: np.ndarray, image_size: tuple[int, int], camera: str, focal: float | None,
             cx: float | None, cy: float | None, w: np.ndarray, five: bool, contour: bool = True) -> Fit3D:
        if camera not in (cam.WEAK, cam.PERSPECTIVE):
            raise ValueError(f"camera must be {cam.WEAK!r} or {cam.PERSPECTIVE!r}, not {camera!r}")
        if focal is not None and focal <= 0:
            raise ValueError("focal must be positive")
        if not np.isfinite(obs).all():
            raise ValueError("landmarks must be finite")
        opt = self.options
        c = np.array(cam.principal_point(image_size, cx, cy))
        n = obs.shape[1]
        coeffs = np.zeros(self._k)
        if five:
            rot, s, origin = self._init_pose(obs, self._five.mean, w)
        else:
            rot, s, origin = self._init_pose(obs[:, 17:], self._inner.mean, w[17:])
        t = origin - c
        persp = camera == cam.PERSPECTIVE
        f0 = cam.default_focal(image_size)
        free_focal = persp and focal is None
        q = 0.0  # log(f / f0)
        k_fixed = (1.0 / float(focal)) if (persp and focal is not None) else 0.0
        sw = np.sqrt(w) / (s * opt.sigma)  # residuals in model units at the initial scale, over the noise
        n_pose = 6 + int(free_focal)
        steps = [False] * (0 if five else opt.pose_iterations) + [not five] * opt.iterations
        if five:
            steps = [False] * (opt.pose_iterations + opt.iterations)
        pts, last_sel = None, None
        for it in range(len(steps) + 1):
            k = (math.exp(-q) / f0) if free_focal else k_fixed
            if five:
                pts = self._five
            else:
                # the outline vertices follow the pose; the last pass only measures the error and keeps them
                sel = self._jaw(rot, s, k, t, coeffs) if opt.contour and contour and it < len(steps) else last_sel
                if pts is None or (sel is not None and not np.array_equal(sel, last_sel)):
                    pts, last_sel = self._points(sel), sel
            x = pts.shape(coeffs)
            p = rot @ x
            d = 1.0 + s * k * p[2]
            uc = (s * p[:2] + t[:, None]) / d
            res = uc + c[:, None] - obs
            if it == len(steps):
                break
            shape = steps[it]
            npar = n_pose + (self._k if shape else 0)
            gw = (s * sw) / d  # d(u)/d(P_xy) per point, times the point's weight
            px, py, pz = p
            jw = np.empty((2, n, npar + 1))
            jx, jy = jw[0], jw[1]
            # rotation (left-multiplied axis-angle, dP/dw = -[P]x), translation, log scale, (log focal)
            if k:
                kx, ky = uc[0] * k, uc[1] * k
                jx[:, 0] = -gw * kx * py
                jx[:, 1] = gw * (pz + kx * px)
                jy[:, 0] = -gw * (pz + ky * py)
                jy[:, 1] = gw * ky * px
                jx[:, 5] = gw * (px - kx * pz)
                jy[:, 5] = gw * (py - ky * pz)
                if free_focal:
                    jx[:, 6] = gw * kx * pz
                    jy[:, 6] = gw * ky * pz
            else:
                jx[:, 0] = jy[:, 1] = 0.0
                jx[:, 1] = gw * pz
                jy[:, 0] = -jx[:, 1]
                jx[:, 5] = gw * px
                jy[:, 5] = gw * py
            jx[:, 2] = -gw * py
            jy[:, 2] = gw * px
            jx[:, 3] = jy[:, 4] = gw / s
            jx[:, 4] = jy[:, 3] = 0.0
            jx[:, npar] = res[0] * sw
            jy[:, npar] = res[1] * sw
            prior = np.zeros(npar)
            state = np.zeros(npar)
            if free_focal:
                prior[6], state[6] = 1 / opt.focal_log_sigma**2, q
            if shape:
                rb = (rot @ pts.basis.reshape(3, -1)).reshape(3, n, -1)
                if k:
                    jx[:, n_pose:npar] = gw[:, None] * (rb[0] - kx[:, None] * rb[2])
                    jy[:, n_pose:npar] = gw[:, None] * (rb[1] - ky[:, None] * rb[2])
                else:
                    np.multiply(rb[0], gw[:, None], out=jx[:, n_pose:npar])
                    np.multiply(rb[1], gw[:, None], out=jy[:, n_pose:npar])
                prior[n_pose:], state[n_pose:] = self._prior, coeffs
            hg = _gram(jw.reshape(2 * n, npar + 1))
            h = hg[:npar, :npar]
            grad = hg[:npar, npar] + prior * state
            hg.flat[0 : npar * (npar + 2) : npar + 2] *= 1.0 + opt.damping
            hg.flat[0 : npar * (npar + 2) : npar + 2] += prior
            try:
                step = -np.linalg.solve(h, grad)
            except np.linalg.LinAlgError:  # only for degenerate input: take the least-squares step
                step = -np.linalg.lstsq(h, grad, rcond=None)[0]
            rot = _rotvec(step[0], step[1], step[2]) @ rot
            t = t + step[3:5]
            s = s * math.exp(step[5])
            if free_focal:
                # keep every point in front of the camera: t_z = f / s >= min_distance
                q = max(q + min(max(float(step[6]), -0.5), 0.5), math.log(opt.min_distance * s / f0))
            if shape:
                coeffs = coeffs + step[n_pose:]
                coeffs[self._nid:] = np.clip(coeffs[self._nid:], 0.0, 1.0)
        k = (math.exp(-q) / f0) if free_focal else k_fixed
        identity = np.zeros(self.model.n_identity)
        identity[: self._nid] = coeffs[: self._nid]
        expression = np.zeros(self.model.n_expression)
        expression[self._exp_idx] = coeffs[self._nid:]
        # reported 3D landmarks: the semantic 68 vertices (the jaw's own vertices, not the outline ones)
        p68 = rot @ self._lm.shape(coeffs)
        uv68, _ = cam.project(p68, s, k, t, c)
        return Fit3D(
            rotation=rot,
            translation=cam.translation_of(s, k, t, c),
            camera=cam.camera_of(cam.PERSPECTIVE if persp else cam.WEAK, k, c),
            scale=1.0 if persp else float(s),
            identity=identity,
            expression=expression,
            landmarks3d=np.vstack([uv68, s * p68[2]]).T,
            error=float(np.sqrt((res**2).sum(0).mean())),
        )


_DEFAULT: Face3DFitter | None = None


def default_fitter() -> Face3DFitter:
    """A process-wide fitter (the model is loaded once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Face3DFitter()
    return _DEFAULT


def fit_face(landmarks68: np.ndarray, image_size: tuple[int, int], camera: str = cam.WEAK,
             focal: float | None = None, cx: float | None = None, cy: float | None = None) -> Fit3D:
    """Fit the 3D face model to 68 landmarks of one face (see Face3DFitter.fit)."""
    return default_fitter().fit(landmarks68, image_size, camera=camera, focal=focal, cx=cx, cy=cy)


def pose_of(fit: Fit3D) -> Pose:
    """Head pose (degrees) of a fit."""
    return pose_from_rotation(fit.rotation)
