"""The data set sample: one annotated face, in facealign's 0-based pixel convention."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# schema name -> number of points. "ibug68": 300-W 68 points; "five": eye centres, nose tip, mouth corners
# (image left first); "wflw98", "cofw29", "aflw19", "lapa106": those benchmarks' own point sets.
SCHEMAS: dict[str, int] = {"ibug68": 68, "five": 5, "wflw98": 98, "cofw29": 29, "aflw19": 19, "lapa106": 106}
SCHEMA_BY_COUNT: dict[int, str] = {n: name for name, n in SCHEMAS.items()}


@dataclass
class Sample:
    """One annotated face.

    ``points`` are (K, 2) float64 x, y in 0-based pixels of the image as stored (reader converts 1-based files).
    ``visible`` is (K,) bool where the format says which points are labelled/visible, else None.
    ``attributes`` holds per-face labels such as MTFL ``pose`` (1..5) or WFLW ``pose``/``occlusion`` flags.
    ``box`` is the file's own face box [x1, y1, x2, y2] if it has one (informational: evaluation boxes come from
    the points, see facealign.evaluation.landmarks_eval).
    ``id`` is unique within the data set (relative image path, plus ``#k`` for the k-th face of an image).
    """

    image: Path
    points: np.ndarray
    schema: str
    id: str = ""
    visible: np.ndarray | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    box: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.image = Path(self.image)
        self.points = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        if self.schema not in SCHEMAS:
            raise ValueError(f"unknown schema {self.schema!r}; one of {', '.join(SCHEMAS)}")
        if len(self.points) != SCHEMAS[self.schema]:
            raise ValueError(f"{self.schema} needs {SCHEMAS[self.schema]} points, got {len(self.points)}")
        if not self.id:
            self.id = self.image.name


def schema_for_count(n: int, source: str = "") -> str:
    """The schema name for an annotation with ``n`` points (raises ValueError for unknown layouts)."""
    try:
        return SCHEMA_BY_COUNT[n]
    except KeyError:
        raise ValueError(f"{source or 'annotation'}: {n} points is no known layout ({sorted(SCHEMA_BY_COUNT)})") from None


IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp", ".JPG", ".PNG", ".JPEG")


def image_next_to(annotation: Path) -> Path | None:
    """The image with the annotation's stem in its folder (or in a sibling ``imgs`` folder, 300-VW layout)."""
    folders = [annotation.parent]
    if annotation.parent.name == "annot":
        folders.append(annotation.parent.parent / "imgs")
    for folder in folders:
        for ext in IMAGE_EXTENSIONS:
            p = folder / (annotation.stem + ext)
            if p.exists():
                return p
    return None
