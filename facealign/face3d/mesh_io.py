"""Write a fitted face mesh as Wavefront OBJ or PLY (ASCII), e.g. ``fitter.mesh(fit)`` or ``fitter.model_vertices(fit)``.

Vertices in image coordinates (x right, y down, depth away from the camera, pixels) describe a left-handed
frame as seen by 3D viewers; ``flip_y`` (default on) writes (x, -y, -z) so the mesh opens upright and facing the
viewer in MeshLab/Blender, with the same scale. Triangles are written counter-clockwise seen from outside.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.io.atomic import write_bytes_atomic


def _prepare(vertices: np.ndarray, triangles: np.ndarray, flip_y: bool) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    f = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    if len(f) and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError("triangle index out of range")
    if flip_y:
        v = v * np.array([1.0, -1.0, -1.0])
    return v, f


def write_obj(path: str | Path, vertices: np.ndarray, triangles: np.ndarray, flip_y: bool = True) -> Path:
    """Write an OBJ file (1-based face indices) and return its path."""
    v, f = _prepare(vertices, triangles, flip_y)
    lines = ["# facealign fitted face mesh (ICT-FaceKit topology, decimated; MIT)"]
    lines += [f"v {a:.4f} {b:.4f} {c:.4f}" for a, b, c in v]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in f]
    path = Path(path)
    write_bytes_atomic(path, ("\n".join(lines) + "\n").encode())
    return path


def write_ply(path: str | Path, vertices: np.ndarray, triangles: np.ndarray, flip_y: bool = True) -> Path:
    """Write an ASCII PLY file and return its path."""
    v, f = _prepare(vertices, triangles, flip_y)
    header = [
        "ply", "format ascii 1.0", "comment facealign fitted face mesh",
        f"element vertex {len(v)}", "property float x", "property float y", "property float z",
        f"element face {len(f)}", "property list uchar int vertex_indices", "end_header",
    ]
    body = [f"{a:.4f} {b:.4f} {c:.4f}" for a, b, c in v] + [f"3 {a} {b} {c}" for a, b, c in f]
    path = Path(path)
    write_bytes_atomic(path, ("\n".join(header + body) + "\n").encode())
    return path


def write_mesh(path: str | Path, vertices: np.ndarray, triangles: np.ndarray, flip_y: bool = True) -> Path:
    """Write OBJ or PLY by the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".obj":
        return write_obj(path, vertices, triangles, flip_y)
    if suffix == ".ply":
        return write_ply(path, vertices, triangles, flip_y)
    raise ValueError(f"unknown mesh format {suffix!r} (use .obj or .ply)")
