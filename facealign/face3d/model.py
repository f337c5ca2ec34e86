"""The compact ICT-FaceKit morphable model shipped in facealign/models/face3d_ict.npz (see scripts/build_face_model.py).

A shape is ``mean + B @ c`` with ``c = [identity (K_id), expression (53)]``: identity coefficients are unitless with
a standard-normal prior, expression coefficients are ARKit-style blendshape weights in [0, 1].
Model frame (cm): x towards the subject's left, y up, z out of the face (towards a camera the subject faces).
Bases are stored coordinate-major, ``(3, n, K)``, so rotating every basis vector is one (3x3) @ (3, n*K) product.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).resolve().parents[1] / "models" / "face3d_ict.npz"


@dataclass(frozen=True)
class PointSet:
    """Some model vertices: ``mean`` (3, n) and ``basis`` (3, n, K)."""

    mean: np.ndarray
    basis: np.ndarray

    def shape(self, coeffs: np.ndarray) -> np.ndarray:
        """(3, n) vertex positions for coefficients ``coeffs`` (K,)."""
        return self.mean + self.basis @ coeffs

    def take(self, idx: np.ndarray) -> "PointSet":
        return PointSet(self.mean[:, idx], self.basis[:, idx])


@dataclass(frozen=True)
class FaceModel3D:
    """Landmarks, contour candidates and a decimated mesh of the ICT face model."""

    landmarks: PointSet  # the 68 iBUG landmark vertices
    contour: PointSet  # contour candidate vertices
    contour_lines: np.ndarray  # (17, C) indices into ``contour``: per jaw point, from the point to the midline
    mesh: PointSet  # decimated face mesh
    triangles: np.ndarray  # (F, 3) into ``mesh``
    n_identity: int
    n_expression: int
    expression_names: tuple[str, ...]

    @property
    def n_coeffs(self) -> int:
        return self.n_identity + self.n_expression

    def coeffs(self, identity: np.ndarray | None = None, expression: np.ndarray | None = None) -> np.ndarray:
        """Stack identity and expression coefficients (zeros where not given) into one vector."""
        c = np.zeros(self.n_coeffs)
        if identity is not None:
            idn = np.asarray(identity, dtype=np.float64)[: self.n_identity]
            c[: len(idn)] = idn
        if expression is not None:
            c[self.n_identity :] = np.asarray(expression, dtype=np.float64)
        return c


def _points(d: np.lib.npyio.NpzFile, prefix: str, n_id: int) -> PointSet:
    mean = d[f"{prefix}_mean"].astype(np.float64).T.copy()  # (3, n)
    idb = d[f"{prefix}_id"][:, :, :n_id].astype(np.float64)  # (n, 3, K)
    exb = d[f"{prefix}_exp"].astype(np.float64)
    basis = np.concatenate([idb, exb], axis=2).transpose(1, 0, 2).copy()  # (3, n, K)
    return PointSet(mean, basis)


@lru_cache(maxsize=4)
def load_model(path: str | Path | None = None, n_identity: int | None = None) -> FaceModel3D:
    """Load (once per process) the compact model; ``n_identity`` keeps only the first identity directions."""
    with np.load(Path(path) if path else MODEL_PATH) as d:
        n_id = d["lm_id"].shape[2] if n_identity is None else min(int(n_identity), d["lm_id"].shape[2])
        return FaceModel3D(
            landmarks=_points(d, "lm", n_id),
            contour=_points(d, "ct", n_id),
            contour_lines=d["ct_lines"].astype(np.int64),
            mesh=_points(d, "mesh", n_id),
            triangles=d["mesh_triangles"].astype(np.int64),
            n_identity=n_id,
            n_expression=d["lm_exp"].shape[2],
            expression_names=tuple(str(s) for s in d["expression_names"]),
        )
