"""Build the texture atlas (UV parameterisation) of the shipped face mesh: facealign/models/face3d_ict_uv.npz.

    python scripts/build_texture_atlas.py [--axis-z -2] [--check]

A cylindrical unwrap of the neutral decimated mesh of facealign/models/face3d_ict.npz (model frame, cm: x towards
the subject's left, y up, z out of the face): about a vertical axis through ``(0, y, axis_z)``,
``u = r * atan2(x, z - axis_z)`` (arc length at the mesh's median radius ``r``) and ``v = -y``, both scaled by one
factor into [margin, 1 - margin] and centred. The unwrap is odd in x, so the subject's left and right halves are
mirror images in the texture (u -> 1 - u): the symmetry fill of the 3D merge flips the texture.

An axis 2 cm behind the head origin folds the fewest triangles (the surface turns away from the axis there:
nostril wings, eye corners, the lips' inside); their texels are shared with the surface over them, a small
blemish at those spots.

The face-area mesh has holes where the eyes and the mouth open. They are closed by caps over the 68 landmark
vertices (fans over the eyelid points 36-41, 42-47 and the inner lip points 60-67), so a rendered face has eyes
and a mouth; the surface is the mesh's V vertices followed by the 68 landmark vertices.

Output (a few tens of kB): ``uv`` (V + 68, 2) float32 in [0, 1], texture x to the right (the subject's right, as
in a frontal photo) and y down; ``cap_triangles`` (K, 3) into those V + 68 vertices; ``axis_z``, ``radius``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facealign.face3d.model import MODEL_PATH, load_model  # noqa: E402

OUT = MODEL_PATH.with_name("face3d_ict_uv.npz")


def cylindrical_uv(vertices: np.ndarray, axis_z: float, margin: float = 0.02) -> tuple[np.ndarray, float]:
    """(V, 2) UVs in [0, 1] of model-frame vertices (V, 3) and the unwrap radius (cm)."""
    x, y, z = vertices[:, 0], vertices[:, 1], vertices[:, 2] - axis_z
    r = float(np.median(np.hypot(x, z)))
    # a frontal photo shows the subject's left (model +x) on the image right: u grows with x
    u = r * np.arctan2(x, z)
    v = -y
    uv = np.stack([u, v], 1)
    lo, hi = uv.min(0), uv.max(0)
    scale = (1 - 2 * margin) / float((hi - lo).max())
    uv = (uv - (lo + hi) / 2) * scale + 0.5
    return uv.astype(np.float32), r


def cap_triangles(n_mesh: int) -> np.ndarray:
    """Fans over the eyelid and inner-lip landmark rings, as indices after the ``n_mesh`` mesh vertices."""
    rings = [list(range(36, 42)), list(range(42, 48)), list(range(60, 68))]
    tris = [[r[0], r[i], r[i + 1]] for r in rings for i in range(1, len(r) - 1)]
    return np.asarray(tris, dtype=np.int64) + n_mesh


def folded(uv: np.ndarray, triangles: np.ndarray) -> int:
    """How many triangles are mirrored in UV against the majority's orientation."""
    p = uv[triangles].astype(np.float64)
    a = (p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1]) - (p[:, 1, 1] - p[:, 0, 1]) * (p[:, 2, 0] - p[:, 0, 0])
    return int((a * np.sign(np.median(a)) <= 0).sum())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--axis-z", type=float, default=-2.0, help="depth (cm) of the unwrap axis in the model frame")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="print the folded triangles for a range of axes and stop")
    args = ap.parse_args(argv)
    model = load_model()
    verts = model.mesh.mean.T
    if args.check:
        for z in (-6, -4, -2, 0, 2, 4):
            uv, _ = cylindrical_uv(verts, z)
            print(f"axis z {z:+d} cm: {folded(uv, model.triangles)} of {len(model.triangles)} triangles folded")
        return 0
    surface = np.concatenate([verts, model.landmarks.mean.T])
    uv, r = cylindrical_uv(surface, args.axis_z)
    caps = cap_triangles(len(verts))
    # wind the caps like the mesh: their normals point out of the face where the mesh's do
    def normals_z(tris: np.ndarray) -> np.ndarray:
        p = surface[tris]
        return np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])[:, 2]

    sign = np.sign(normals_z(model.triangles).sum())
    flip = np.sign(normals_z(caps)) != sign
    caps[flip] = caps[flip][:, ::-1]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, uv=uv, cap_triangles=caps.astype(np.int32), axis_z=np.float32(args.axis_z),
                        radius=np.float32(r))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {len(uv)} vertices, "
          f"{folded(uv, model.triangles)} of {len(model.triangles)} triangles folded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
