"""WFLW annotation tables (``list_98pt_rect_attr_*.txt``): per line 196 coordinates (x0 y0 x1 y1 ...), the face
box (x_min y_min x_max y_max), 6 attribute flags (pose, expression, illumination, make-up, occlusion, blur)
and the image path relative to ``WFLW_images``. Coordinates are taken as given (0-based pixels, as released).

mmpose's WFLW JSON is COCO keypoint JSON with 98 points: read it with facealign.data.coco.read_coco.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facealign.data.sample import Sample

WFLW_ATTRIBUTES = ("pose", "expression", "illumination", "makeup", "occlusion", "blur")


def _find_image_root(path: Path, first_image: str) -> Path:
    # the release keeps tables in WFLW_annotations/list_98pt_rect_attr_train_test/ beside WFLW_images/
    candidates = [path.parent, path.parent / "WFLW_images"] + [p / "WFLW_images" for p in path.parents[:3]]
    for c in candidates:
        if (c / first_image).exists():
            return c
    return path.parent


def read_wflw(path: str | Path, image_root: str | Path | None = None) -> list[Sample]:
    """Faces of a WFLW ``list_98pt_rect_attr`` table (98 points, box, attributes)."""
    path = Path(path)
    rows = [ln.split() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not rows:
        return []
    root = Path(image_root) if image_root else _find_image_root(path, rows[0][-1])
    samples, seen = [], {}
    for i, f in enumerate(rows):
        if len(f) != 196 + 4 + 6 + 1:
            raise ValueError(f"{path}:{i + 1}: expected 207 fields (196 coords, 4 box, 6 attributes, path), got {len(f)}")
        v = np.array(f[:200], dtype=np.float64)
        rel = f[-1]
        k = seen.get(rel, 0)
        seen[rel] = k + 1
        samples.append(
            Sample(
                image=root / rel,
                points=v[:196].reshape(98, 2),
                schema="wflw98",
                id=rel if k == 0 else f"{rel}#{k}",
                attributes={a: int(x) for a, x in zip(WFLW_ATTRIBUTES, f[200:206])},
                box=v[196:200],
            )
        )
    return samples
