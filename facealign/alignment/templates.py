"""Reference templates for aligned crops, by name.

- ``arcface112``: the 5-point ArcFace/InsightFace template at 112x112, scaled to any ``size``.
- ``ffhq``: the FFHQ data set's rule (an oriented square from the eye and mouth centres), default 256.
- ``mean68``: the 300-W mean shape (68 points); fitted by similarity or affine on chosen point groups
  (``inner``: eyes, brows, nose, mouth; ``contour``: adds the jaw line, as the seed system did; ``all``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facealign.alignment.points import five_from_68
from facealign.alignment.transforms import estimate_affine, estimate_similarity

# Procrustes mean of the 300-W training shapes (LFPW + HELEN), centred on its tight box, max side 1.
MEAN68: np.ndarray = np.load(Path(__file__).with_name("mean68.npy")).astype(np.float64)

ARCFACE112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)

POINT_GROUPS = {
    "inner": np.arange(17, 68),
    "contour": np.arange(0, 68),
    "all": np.arange(0, 68),
    "eyes_nose_mouth": np.array(list(range(27, 48)) + [48, 54]),
}


@dataclass(frozen=True)
class Template:
    """A named alignment template."""

    name: str
    default_size: int
    description: str


TEMPLATES: dict[str, Template] = {
    "arcface112": Template("arcface112", 112, "ArcFace 5-point template (eyes, nose tip, mouth corners)"),
    "ffhq": Template("ffhq", 256, "FFHQ rule: oriented square from eye and mouth centres"),
    "mean68": Template("mean68", 128, "300-W mean shape, 68 points, similarity fit on eyes/brows/nose/mouth"),
    "mean68_contour": Template("mean68_contour", 128, "300-W mean shape incl. jaw contour, similarity fit"),
    "mean68_affine": Template("mean68_affine", 128, "300-W mean shape, affine fit on all 68 points"),
}


def template_points(name: str, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(points in the crop, indices into 68 landmarks or None-like empty array for 5-point templates)."""
    t = get_template(name)
    size = size or t.default_size
    if name == "arcface112":
        return ARCFACE112 * (size / 112.0), np.empty(0, dtype=int)
    if name.startswith("mean68"):
        # the mean face's tight box fills 75% of the crop, shifted down a little so the brows have room
        pts = MEAN68 * (0.75 * size) + np.array([(size - 1) / 2, (size - 1) / 2 + 0.04 * size])
        return pts, np.arange(68)
    raise ValueError(f"template {name!r} has no fixed points (it is rule-based)")


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ValueError(f"unknown template {name!r}; choose from {', '.join(TEMPLATES)}") from None


def ffhq_transform(p5: np.ndarray, size: int) -> np.ndarray:
    """The FFHQ alignment rule (Karras et al. 2019) as a 2x3 similarity from the image to a size x size crop.

    FFHQ uses eye centres and the mouth centre (here: the mean of the two mouth corners).
    """
    p5 = np.asarray(p5, dtype=np.float64)
    eye_l, eye_r = p5[0], p5[1]
    eye_avg = (eye_l + eye_r) / 2
    eye_to_eye = eye_r - eye_l
    mouth_avg = (p5[3] + p5[4]) / 2
    eye_to_mouth = mouth_avg - eye_avg
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    quad = np.stack([c - x - y, c - x + y, c + x + y, c + x - y])  # top-left, bottom-left, bottom-right, top-right
    dst = np.array([[0, 0], [0, size], [size, size], [size, 0]], dtype=np.float64) - 0.5
    return estimate_similarity(quad, dst)


def fit_template(
    name: str,
    size: int | None = None,
    landmarks68: np.ndarray | None = None,
    landmarks5: np.ndarray | None = None,
) -> np.ndarray:
    """2x3 transform mapping the original image to the template crop, from the face's landmarks."""
    t = get_template(name)
    size = size or t.default_size
    if landmarks5 is None and landmarks68 is not None:
        landmarks5 = five_from_68(landmarks68)
    if name == "arcface112":
        if landmarks5 is None:
            raise ValueError("arcface112 needs 5 or 68 landmarks")
        dst, _ = template_points(name, size)
        return estimate_similarity(landmarks5, dst)
    if name == "ffhq":
        if landmarks5 is None:
            raise ValueError("ffhq needs 5 or 68 landmarks")
        return ffhq_transform(landmarks5, size)
    if landmarks68 is None:
        raise ValueError(f"{name} needs 68 landmarks")
    dst, _ = template_points(name, size)
    if name == "mean68_affine":
        return estimate_affine(landmarks68, dst)
    idx = POINT_GROUPS["contour" if name == "mean68_contour" else "inner"]
    return estimate_similarity(np.asarray(landmarks68)[idx], dst[idx])
