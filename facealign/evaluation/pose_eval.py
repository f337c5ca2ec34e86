"""Evaluation of the 3D fit: synthetic faces with known pose/camera, and the MTFL (AFLW) pose classes.

Synthetic ground truth. A face of the full ICT model (all 100 identity directions, standard normal; sparse random
expressions) is posed (yaw U(-90, 90), pitch U(-45, 45), roll U(-45, 45)) and projected by a weak-perspective or a
pinhole camera (random focal 0.5-3 x max(w, h), head at least 30 cm away, principal point at the image centre),
face width 100-350 px in a 640x480 image. The jaw points are placed as an annotator sees them: on the side turned
away from the camera each one moves to the silhouette of the *full-resolution* mesh at its height (the extreme
vertex along the face's horizontal among all mesh vertices of its height band, medial of the point); the fitter
only knows 12 candidates per line of its decimated model, only 50 identity directions, and not the expressions'
sparsity, so the test is not a copy of the fitter's model. Gaussian noise of 0 or 2% of the face size (sqrt of the
68-point box area) per coordinate is added. Without the shared data the compact shipped model stands in.

Errors: yaw, pitch, roll absolute differences (degrees; Euler angles are ill-defined near yaw +-90, so the
geodesic rotation error is reported too), relative focal error, 3D landmark error (image-pixel landmarks3d with
mean depth removed, mean point distance / face size).

MTFL pose classes: 1 left profile, 2 left, 3 frontal, 4 right, 5 right profile, where "left" means the face
points to the image left (the subject turns to their right), i.e. negative yaw in our convention (checked by
looking at val images; see docs/face3d.md). A fitted yaw is classed by |yaw| thresholds.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facealign.face3d import camera as cam
from facealign.face3d.fit import Face3DFitter
from facealign.face3d.model import load_model
from facealign.face3d.pose import angles_from_rotation, rotation_from_angles
from facealign.paths import data_path

ICT_MODEL = "ict-face/ict_face_area_model.npz"  # under the data root (facealign.paths.data_path)
IMAGE_SIZE = (640, 480)
FACE_WIDTH_CM = 14.0
YAW_CLASSES = ("left profile", "left", "frontal", "right", "right profile")


@dataclass
class SyntheticFace:
    """One synthetic face: observed 2D points and its ground truth."""

    points: np.ndarray  # (68, 2) observed (with contour behaviour and noise)
    yaw: float
    pitch: float
    roll: float
    rotation: np.ndarray
    focal: float  # 0 for weak perspective
    landmarks3d: np.ndarray  # (68, 3) semantic landmarks, image x, y, depth (pixels)
    face_size: float


class SyntheticFaces:
    """Random posed faces of the ICT model (full model when the shared data is there, else the compact one)."""

    def __init__(self, source: str | Path | None = ICT_MODEL, band: float = 0.35) -> None:
        """``source``: the full ICT model's .npz (relative: under the data root); None: the compact model."""
        source = data_path(source) if source is not None else None
        if source is not None and Path(source).exists():
            d = np.load(source)
            neutral = d["neutral"].astype(np.float64)
            lm = d["landmarks68_multipie"].astype(np.int64)
            idb = d["identity_deltas"].astype(np.float32)
            exb = d["expression_deltas"].astype(np.float32)
            self.full_model = True
        else:  # compact model: mesh vertices stand in for the full mesh
            m = load_model()
            neutral = np.concatenate([m.landmarks.mean, m.mesh.mean], axis=1).T
            lm = np.arange(68)
            b = np.concatenate([m.landmarks.basis, m.mesh.basis], axis=1)  # (3, n, K)
            idb = b[:, :, : m.n_identity].transpose(2, 1, 0)
            exb = b[:, :, m.n_identity :].transpose(2, 1, 0)
            self.full_model = False
        # per jaw point: every vertex of its height band, medial of it and not behind it
        lines = []
        for i in range(17):
            p = neutral[lm[i]]
            side = np.sign(p[0])
            if side == 0:
                lines.append(np.array([lm[i]]))
                continue
            x = neutral[:, 0] * side
            ok = (np.abs(neutral[:, 1] - p[1]) < band) & (x <= x[lm[i]] + 1e-6) & (x >= 0) & (neutral[:, 2] >= p[2] - 0.3)
            lines.append(np.concatenate([[lm[i]], np.flatnonzero(ok)]))
        verts = np.unique(np.concatenate([lm] + lines))
        pos = {v: j for j, v in enumerate(verts)}
        self.lm = np.array([pos[v] for v in lm])
        self.lines = [np.array([pos[v] for v in line]) for line in lines]
        self.mean = neutral[verts].T  # (3, n)
        self.id_basis = idb[:, verts].transpose(2, 1, 0).astype(np.float64)  # (3, n, K)
        self.exp_basis = exb[:, verts].transpose(2, 1, 0).astype(np.float64)

    def sample(self, rng: np.random.Generator, camera: str, noise: float) -> SyntheticFace:
        """One random face seen by a random ``camera``; ``noise`` is the point noise as a fraction of face size."""
        nid, nexp = self.id_basis.shape[2], self.exp_basis.shape[2]
        alpha = np.clip(rng.standard_normal(nid), -3, 3)
        beta = np.where(rng.random(nexp) < 0.15, rng.uniform(0, 0.8, nexp), 0.0)
        x = self.mean + self.id_basis @ alpha + self.exp_basis @ beta
        yaw, pitch, roll = rng.uniform(-90, 90), rng.uniform(-45, 45), rng.uniform(-45, 45)
        rot = rotation_from_angles(yaw, pitch, roll)
        p = rot @ x
        w, h = IMAGE_SIZE
        c = np.array(cam.principal_point(IMAGE_SIZE))
        s = rng.uniform(100, 350) / FACE_WIDTH_CM
        k = 0.0
        if camera == cam.PERSPECTIVE:
            while True:
                f = rng.uniform(0.5, 3.0) * max(w, h)
                if f / s >= 30.0:
                    break
            k = 1.0 / f
        t = rng.uniform(-0.15, 0.15, 2) * np.array([w, h])
        uv, _ = cam.project(p, s, k, t, c)
        pts = uv[:, self.lm].copy()
        # the annotator's jaw: the silhouette vertex of each line, along the face's horizontal image direction
        axis = rot[:2, 0] / max(np.hypot(*rot[:2, 0]), 1e-12)
        along = axis @ uv
        for i, line in enumerate(self.lines):
            side = np.sign(i - 8)
            if side != 0:
                pts[:, i] = uv[:, line[np.argmax(side * along[line])]]
        lm3 = np.vstack([uv[:, self.lm], s * p[2, self.lm]]).T
        size = float(np.sqrt(np.prod(pts.max(1) - pts.min(1))))
        obs = pts.T + rng.standard_normal((68, 2)) * noise * size
        return SyntheticFace(obs, yaw, pitch, roll, rot, 1.0 / k if k else 0.0, lm3, size)


def angle_diff(a: float, b: float) -> float:
    """|a - b| in degrees, wrapped to [0, 180]."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


def rotation_error(r1: np.ndarray, r2: np.ndarray) -> float:
    """Geodesic angle (degrees) between two rotations."""
    c = (np.trace(r1 @ r2.T) - 1) / 2
    return float(np.degrees(np.arccos(np.clip(c, -1, 1))))


def landmarks3d_error(fit3d: np.ndarray, gt3d: np.ndarray, size: float) -> float:
    """Mean 3D point distance / face size, depth compared up to its mean (the depth origin is not observable)."""
    a = fit3d.copy()
    b = gt3d.copy()
    a[:, 2] -= a[:, 2].mean()
    b[:, 2] -= b[:, 2].mean()
    return float(np.linalg.norm(a - b, axis=1).mean() / size)


def evaluate_synthetic(n: int = 500, noises: tuple[float, ...] = (0.0, 0.02),
                       cameras: tuple[str, ...] = (cam.WEAK, cam.PERSPECTIVE), seed: int = 0,
                       fitter: Face3DFitter | None = None, generator: SyntheticFaces | None = None) -> list[dict]:
    """One row of mean errors per (camera, noise): yaw/pitch/roll MAE, rotation error, focal error, 3D error.

    ``yaw75`` etc. are the same errors over the faces with |yaw| <= 75, where Euler angles are well conditioned
    (at yaw +-90 pitch and roll share one axis, so a 1 degree rotation error can read as 10 degrees of pitch).
    """
    fitter = fitter or Face3DFitter()
    gen = generator or SyntheticFaces()
    rows = []
    for camera in cameras:
        for noise in noises:
            rng = np.random.default_rng(seed)
            err: dict[str, list[float]] = {k: [] for k in ("yaw", "pitch", "roll", "rotation", "focal", "lm3d",
                                                            "rmse", "yaw75", "pitch75", "roll75")}
            for _ in range(n):
                smp = gen.sample(rng, camera, noise)
                fit = fitter.fit(smp.points, IMAGE_SIZE, camera=camera)
                y, p, r = angles_from_rotation(fit.rotation)
                err["yaw"].append(angle_diff(y, smp.yaw))
                err["pitch"].append(angle_diff(p, smp.pitch))
                err["roll"].append(angle_diff(r, smp.roll))
                err["rotation"].append(rotation_error(fit.rotation, smp.rotation))
                if camera == cam.PERSPECTIVE:
                    err["focal"].append(abs(fit.camera.focal - smp.focal) / smp.focal)
                err["lm3d"].append(landmarks3d_error(fit.landmarks3d, smp.landmarks3d, smp.face_size))
                err["rmse"].append(fit.error / smp.face_size)
                if abs(smp.yaw) <= 75:
                    for key in ("yaw", "pitch", "roll"):
                        err[key + "75"].append(err[key][-1])
            row = {"camera": camera, "noise": noise, "n": n}
            for key, v in err.items():
                if v:
                    row[key] = float(np.mean(v))
            if err["focal"]:
                row["focal_median"] = float(np.median(err["focal"]))
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------- MTFL / AFLW
def yaw_class(yaw: float, frontal: float = 15.0, profile: float = 45.0) -> int:
    """MTFL class (1 left profile .. 5 right profile) of a yaw in our convention (left = negative yaw)."""
    a = abs(yaw)
    if a < frontal:
        return 3
    if yaw < 0:
        return 1 if a >= profile else 2
    return 5 if a >= profile else 4


def confusion(labels: list[int], predicted: list[int]) -> np.ndarray:
    """5x5 counts: rows the labelled class, columns the class of the fitted yaw."""
    m = np.zeros((5, 5), dtype=np.int64)
    for a, b in zip(labels, predicted):
        m[a - 1, b - 1] += 1
    return m
