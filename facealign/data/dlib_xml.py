"""dlib imglab XML (``<dataset><images><image file=..><box top left width height><part name x y/>``).

Parts are ordered by their numeric names; coordinates are dlib's 0-based pixels. Boxes flagged ``ignore`` and
boxes without parts are skipped. Image paths are relative to the XML file's folder.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from facealign.data.sample import Sample, schema_for_count


def _part_key(name: str) -> tuple[int, str]:
    return (int(name), name) if name.isdigit() else (10**9, name)


def read_dlib_xml(path: str | Path, image_root: str | Path | None = None) -> list[Sample]:
    """Faces with landmarks in a dlib imglab XML file."""
    path = Path(path)
    root = Path(image_root) if image_root else path.parent
    tree = ET.parse(path)
    samples = []
    for image in tree.getroot().iter("image"):
        rel = image.get("file", "")
        k = 0
        for box in image.iter("box"):
            if box.get("ignore", "0") not in ("0", "false", ""):
                continue
            parts = sorted(box.iter("part"), key=lambda p: _part_key(p.get("name", "")))
            if not parts:
                continue
            pts = np.array([[float(p.get("x")), float(p.get("y"))] for p in parts])
            left, top = float(box.get("left", 0)), float(box.get("top", 0))
            w, h = float(box.get("width", 0)), float(box.get("height", 0))
            samples.append(
                Sample(
                    image=root / rel,
                    points=pts,
                    schema=schema_for_count(len(pts), f"{path} {rel}"),
                    id=rel if k == 0 else f"{rel}#{k}",
                    box=np.array([left, top, left + w - 1, top + h - 1]),
                )
            )
            k += 1
    return samples
