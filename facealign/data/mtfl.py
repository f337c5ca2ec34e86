"""5-point tables: MTFL (``path x1..x5 y1..y5 gender smile glasses pose``, 1-based) and CelebA's
``list_landmarks*.txt`` (count line, header line, then ``name lx ly rx ry nx ny mlx mly mrx mry``).

MTFL attributes: gender 1 male 2 female; smile, glasses 1 yes 2 no; pose 1 left profile, 2 left, 3 frontal,
4 right, 5 right profile. Image paths are relative to the table's folder (backslashes allowed).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.data.sample import Sample

MTFL_ATTRIBUTES = ("gender", "smile", "glasses", "pose")


def read_mtfl(path: str | Path, image_root: str | Path | None = None, one_based: bool = True) -> list[Sample]:
    """Faces of an MTFL table (``one_based``: subtract 1, the MTFL convention) or a CelebA landmark list.

    CelebA's tables are read as given (``one_based=False`` is the default for them: their convention is not
    documented).
    """
    path = Path(path)
    root = Path(image_root) if image_root else path.parent
    lines = [ln.split() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    if lines and len(lines[0]) == 1 and lines[0][0].isdigit():
        return _read_celeba(lines[2:], root)
    off = 1.0 if one_based else 0.0
    samples = []
    for i, f in enumerate(lines):
        if len(f) < 11:
            raise ValueError(f"{path}:{i + 1}: expected path and 10 coordinates, got {len(f)} fields")
        v = np.array(f[1:11], dtype=np.float64)
        pts = np.stack([v[:5], v[5:10]], axis=1) - off
        attrs = {k: int(float(x)) for k, x in zip(MTFL_ATTRIBUTES, f[11:15])}
        rel = f[0].replace("\\", "/")
        samples.append(Sample(image=root / rel, points=pts, schema="five", id=rel, attributes=attrs))
    return samples


def _read_celeba(rows: list[list[str]], root: Path) -> list[Sample]:
    samples = []
    for f in rows:
        v = np.array(f[1:11], dtype=np.float64).reshape(5, 2)  # interleaved x, y
        samples.append(Sample(image=root / f[0], points=v, schema="five", id=f[0]))
    return samples
