"""menpo ``.ljson`` landmark files (versions 1-3).

menpo stores points as (y, x) in 0-based pixels; we swap to (x, y). Version 3 keeps several groups
(e.g. ``LJSON`` with 68 points, ``pupils``): we take ``group`` if given, else the one with 68 points, else the
first. The image is the file with the same stem next to it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from facealign.data.sample import Sample, image_next_to, schema_for_count


def read_ljson_file(path: str | Path, group: str | None = None) -> np.ndarray:
    """Points (K, 2) x, y of one ljson file."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    if "groups" in data:  # version 3: {"groups": {name: {"landmarks": {"points": ...}, "labels": ...}}}
        groups = {name: g["landmarks"]["points"] for name, g in data["groups"].items()}
    else:  # versions 1-2: {"landmarks": {"points": ...}, "labels": ...}
        groups = {"LJSON": data["landmarks"]["points"]}
    if group is not None:
        if group not in groups:
            raise ValueError(f"{path}: no group {group!r} (groups: {', '.join(groups)})")
        pts = groups[group]
    else:
        pts = next((p for p in groups.values() if len(p) == 68), next(iter(groups.values())))
    yx = np.array([[np.nan if v is None else v for v in p] for p in pts], dtype=np.float64)
    return yx[:, ::-1].copy()


def read_ljson(path: str | Path, group: str | None = None) -> list[Sample]:
    """One sample per ``.ljson`` file (``path`` is a file or a folder searched recursively)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    files, root = ([path], path.parent) if path.is_file() else (sorted(path.rglob("*.ljson")), path)
    samples = []
    for f in files:
        image = image_next_to(f)
        if image is None:
            continue
        pts = read_ljson_file(f, group)
        samples.append(
            Sample(image=image, points=pts, schema=schema_for_count(len(pts), str(f)), id=f.relative_to(root).with_suffix("").as_posix())
        )
    return samples
