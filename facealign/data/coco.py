"""COCO keypoint JSON for faces (mmpose's 300W, WFLW, COFW, AFLW, LaPa, 300-VW files).

``keypoints`` are [x, y, v] triples in 0-based pixels (COCO convention); v = 0 means not labelled, 1 labelled
but occluded, 2 visible. The schema follows the number of points (68, 98, 29, 19, 106, 5). ``bbox`` is [x, y, w, h].
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from facealign.data.sample import Sample, schema_for_count


def read_coco(path: str | Path, image_root: str | Path | None = None) -> list[Sample]:
    """Faces of a COCO keypoint file; image paths are relative to ``image_root`` (default: the file's folder)."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    root = Path(image_root) if image_root else path.parent
    images = {im["id"]: im for im in data.get("images", [])}
    samples, seen = [], {}
    for ann in data.get("annotations", []):
        kp = np.asarray(ann.get("keypoints") or [], dtype=np.float64)
        if kp.size == 0 or kp.size % 3:
            continue  # a face without points (or a broken triple list) cannot be evaluated
        kp = kp.reshape(-1, 3)
        im = images.get(ann["image_id"])
        if im is None:
            raise ValueError(f"{path}: annotation {ann.get('id')} names unknown image {ann['image_id']}")
        rel = im["file_name"]
        k = seen.get(rel, 0)
        seen[rel] = k + 1
        box = None
        if ann.get("bbox"):
            x, y, w, h = map(float, ann["bbox"][:4])
            box = np.array([x, y, x + w, y + h])
        samples.append(
            Sample(
                image=root / rel,
                points=kp[:, :2],
                schema=schema_for_count(len(kp), str(path)),
                id=rel if k == 0 else f"{rel}#{k}",
                visible=kp[:, 2] > 0,
                box=box,
            )
        )
    return samples
