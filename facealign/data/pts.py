"""iBUG ``.pts`` folders (300-W, 300-VW, menpo layouts): one ``.pts`` file per face next to its image.

The files are 1-based (Matlab, as 300-W published them); we subtract 1 so points are 0-based pixels.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.data.sample import Sample, image_next_to, schema_for_count


def read_pts_file(path: str | Path, one_based: bool = True) -> np.ndarray:
    """Points (K, 2) of one ``.pts`` file (``version: 1`` / ``n_points: K`` / ``{`` x y lines ``}``)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        body = text[text.index("{") + 1 : text.rindex("}")]
    except ValueError:
        raise ValueError(f"{path}: not a .pts file (no {{ }} block)") from None
    values = np.array(body.split(), dtype=np.float64)
    if values.size % 2:
        raise ValueError(f"{path}: odd number of coordinates")
    pts = values.reshape(-1, 2)
    for line in text[: text.index("{")].splitlines():
        if line.strip().lower().startswith("n_points"):
            n = int(line.split(":")[1])
            if n != len(pts):
                raise ValueError(f"{path}: header says {n} points, file has {len(pts)}")
    return pts - 1.0 if one_based else pts


def read_pts_folder(folder: str | Path, one_based: bool = True) -> list[Sample]:
    """All ``.pts`` files under ``folder`` (recursive, sorted) whose image exists next to them."""
    folder = Path(folder)
    if folder.is_file():
        files, root = [folder], folder.parent
    elif folder.is_dir():
        files, root = sorted(folder.rglob("*.pts")), folder
    else:
        raise FileNotFoundError(f"no such folder: {folder}")
    samples = []
    for f in files:
        image = image_next_to(f)
        if image is None:
            continue  # an annotation without its image cannot be evaluated
        pts = read_pts_file(f, one_based)
        rel = f.relative_to(root).with_suffix("").as_posix()
        samples.append(Sample(image=image, points=pts, schema=schema_for_count(len(pts), str(f)), id=rel))
    return samples
