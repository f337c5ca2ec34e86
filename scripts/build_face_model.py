"""Build the compact 3D face model shipped as facealign/models/face3d_ict.npz from the ICT-FaceKit face-area model.

    python scripts/build_face_model.py [--src ICT_MODEL.npz] [--n-identity 50]   (default: ict-face/ under the data root)

What goes in (model units: cm; model frame: x towards the subject's left, y up, z out of the face):
- ``lm_mean`` (68, 3), ``lm_id`` (68, 3, K), ``lm_exp`` (68, 3, 53): the iBUG-68 landmark vertices
  (ICT's ``landmarks68_multipie``) with the first K identity directions and the 53 expression blendshapes.
- ``ct_*``: the contour candidates. For each jaw point 0-16 a "line" of up to ``C`` vertices at the point's height
  running from the point towards the face's midline (``ct_lines`` (17, C), indices into ``ct_mean``). The fitter
  picks, per pose, the candidate that lies on the silhouette (facealign.face3d.contour).
- ``mesh_*``: a decimated face mesh (vertex clustering, a few thousand vertices) with its bases, for export/overlay.
The bases are stored as float16 (their precision, 1e-3 relative, is far below landmark noise). The source model is
MIT-licensed (USC ICT); its licence is copied next to the output.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from facealign.paths import data_path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = data_path("ict-face/ict_face_area_model.npz")
OUT = ROOT / "facealign" / "models" / "face3d_ict.npz"

JAW = np.arange(17)


def contour_lines(neutral: np.ndarray, lm_idx: np.ndarray, n_cand: int, band: float = 0.35) -> np.ndarray:
    """(17, n_cand) vertex indices: per jaw point, vertices at its height from the point towards the midline.

    Candidates lie in a horizontal band around the point (neutral shape), on the medial side of the point and not
    behind it (z >= z_point - 0.3 cm), so the ear and neck never become candidates. They are spread evenly in x.
    """
    lines = np.zeros((17, n_cand), dtype=np.int64)
    for i in JAW:
        v = lm_idx[i]
        p = neutral[v]
        side = np.sign(p[0])
        if side == 0:  # the chin point stays where it is (it is on the silhouette in every yaw)
            lines[i] = v
            continue
        x = neutral[:, 0] * side
        ok = (np.abs(neutral[:, 1] - p[1]) < band) & (x <= x[v] + 1e-6) & (x >= 0.0) & (neutral[:, 2] >= p[2] - 0.3)
        cand = np.flatnonzero(ok)
        targets = np.linspace(x[v], 0.0, n_cand)
        picked = [v]
        for tx in targets[1:]:
            # nearest in x, and prefer vertices close to the point's height
            cost = np.abs(x[cand] - tx) + 0.5 * np.abs(neutral[cand, 1] - p[1])
            picked.append(int(cand[np.argmin(cost)]))
        lines[i] = picked
    return lines


def decimate(vertices: np.ndarray, triangles: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertex clustering on a ``cell``-cm grid: returns (kept vertex indices, re-indexed triangles).

    Each cell keeps the original vertex nearest to the cell's centroid, so the decimated bases are plain row subsets.
    """
    key = np.floor(vertices / cell).astype(np.int64)
    _, cluster = np.unique(key, axis=0, return_inverse=True)
    cluster = cluster.ravel()
    n = cluster.max() + 1
    cent = np.zeros((n, 3))
    np.add.at(cent, cluster, vertices)
    cent /= np.bincount(cluster, minlength=n)[:, None]
    d = np.linalg.norm(vertices - cent[cluster], axis=1)
    order = np.lexsort((d, cluster))  # by cluster, nearest first
    first = np.ones(len(order), dtype=bool)
    first[1:] = cluster[order][1:] != cluster[order][:-1]
    keep = order[first]  # keep[c] = representative of cluster c
    tri = cluster[triangles]
    good = (tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 0] != tri[:, 2])
    tri = tri[good]
    _, uniq = np.unique(np.sort(tri, axis=1), axis=0, return_index=True)
    tri = tri[np.sort(uniq)]
    # drop clusters no triangle uses (isolated points) and re-index
    used = np.unique(tri)
    remap = -np.ones(n, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return keep[used], remap[tri]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--n-identity", type=int, default=50)
    ap.add_argument("--n-candidates", type=int, default=12)
    ap.add_argument("--cell", type=float, default=0.45, help="decimation grid cell (cm)")
    a = ap.parse_args()

    d = np.load(a.src)
    neutral = d["neutral"].astype(np.float64)
    idb = d["identity_deltas"][: a.n_identity].astype(np.float32)  # (K, V, 3)
    exb = d["expression_deltas"].astype(np.float32)  # (53, V, 3)
    lm = d["landmarks68_multipie"].astype(np.int64)

    def basis(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # (n, 3), (n, 3, K), (n, 3, 53): vertex-major so a subset of rows is a subset of vertices
        return (
            neutral[idx].astype(np.float32),
            np.transpose(idb[:, idx], (1, 2, 0)).astype(np.float16),
            np.transpose(exb[:, idx], (1, 2, 0)).astype(np.float16),
        )

    lines = contour_lines(neutral, lm, a.n_candidates)
    ct_vert, ct_lines = np.unique(lines, return_inverse=True)
    ct_lines = ct_lines.reshape(lines.shape)
    keep, tri = decimate(neutral, d["triangles"].astype(np.int64), a.cell)

    out: dict[str, np.ndarray] = {}
    out["lm_mean"], out["lm_id"], out["lm_exp"] = basis(lm)
    out["ct_mean"], out["ct_id"], out["ct_exp"] = basis(ct_vert)
    out["ct_lines"] = ct_lines.astype(np.int16)
    out["mesh_mean"], out["mesh_id"], out["mesh_exp"] = basis(keep)
    out["mesh_triangles"] = tri.astype(np.int32)
    out["mesh_source_index"] = keep.astype(np.int32)  # vertex index in the ICT face-area mesh
    out["landmark_source_index"] = lm.astype(np.int32)
    out["expression_names"] = d["expression_names"]
    out["units"] = np.array("cm")
    out["source"] = np.array("ICT-FaceKit face area model (MIT, USC ICT); see LICENSE.ict-facekit")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(a.out, **out)
    lic = a.src.parent / "LICENSE"
    if lic.exists():
        shutil.copyfile(lic, a.out.parent / "LICENSE.ict-facekit")
    print(
        f"wrote {a.out} ({a.out.stat().st_size / 1e6:.2f} MB): {len(lm)} landmarks, {len(ct_vert)} contour vertices, "
        f"mesh {len(keep)} vertices / {len(tri)} triangles, {idb.shape[0]} identity + {exb.shape[0]} expression"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
