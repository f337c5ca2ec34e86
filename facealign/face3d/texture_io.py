"""Write a textured face mesh: Wavefront OBJ with texture coordinates, its MTL material and the texture PNG.

    paths = write_textured_obj("face.obj", vertices, uv, triangles, texture)   # face.obj, face.mtl, face.png

Vertices in the model frame (cm; x to the subject's left, y up, z out of the face) open upright and facing the
viewer in MeshLab or Blender as they are. OBJ's texture origin is the bottom-left corner, so v is flipped from the
atlas' top-down rows.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facealign.io.atomic import write_bytes_atomic


def write_textured_obj(path: str | Path, vertices: np.ndarray, uv: np.ndarray, triangles: np.ndarray,
                       texture: np.ndarray, texture_name: str | None = None) -> dict[str, Path]:
    """Write ``path`` (.obj), the .mtl beside it (same stem) and the texture (``texture_name``, default the
    stem + .png); returns {"obj", "mtl", "texture"} paths.

    ``uv`` (V, 2) in [0, 1] with y down (image rows), one per vertex; ``texture`` uint8 BGR."""
    path = Path(path)
    if path.suffix.lower() != ".obj":
        raise ValueError(f"a textured mesh is written as .obj, not {path.suffix!r}")
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    t = np.asarray(uv, dtype=np.float64).reshape(-1, 2)
    f = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    if len(t) != len(v):
        raise ValueError("need one texture coordinate per vertex")
    if len(f) and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError("triangle index out of range")
    mtl = path.with_suffix(".mtl")
    png = path.with_name(texture_name) if texture_name else path.with_suffix(".png")
    if png.suffix.lower() != ".png":
        raise ValueError(f"the texture is written as .png, not {png.name!r}")
    lines = ["# facealign unified face (ICT-FaceKit topology, decimated; MIT)", f"mtllib {mtl.name}", "usemtl face"]
    lines += [f"v {a:.4f} {b:.4f} {c:.4f}" for a, b, c in v]
    lines += [f"vt {a:.5f} {1.0 - b:.5f}" for a, b in t]
    lines += [f"f {a}/{a} {b}/{b} {c}/{c}" for a, b, c in (f + 1)]
    material = ["newmtl face", "Ka 1 1 1", "Kd 1 1 1", "Ks 0 0 0", "d 1", "illum 1", f"map_Kd {png.name}"]
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(texture))
    if not ok:
        raise ValueError("the texture could not be encoded as PNG")
    write_bytes_atomic(png, buf.tobytes())
    write_bytes_atomic(mtl, ("\n".join(material) + "\n").encode())
    write_bytes_atomic(path, ("\n".join(lines) + "\n").encode())
    return {"obj": path, "mtl": mtl, "texture": png}
