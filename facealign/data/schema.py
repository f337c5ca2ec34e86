"""Mapping annotations to the evaluation schemas: 68 iBUG points or the 5 alignment points.

- ``ibug68`` evaluates all 68 points.
- ``wflw98`` evaluates the standard 98 -> 68 subset (the index map used with WFLW since its release: every
  second contour point, the upper brow points, nose, 6 of the 8 eye points per eye, the 20 mouth points). The
  subset has the 68-point *order*; WFLW's contour and brows were annotated to WFLW's own definition, so those
  points differ slightly from 300-W's (report the subset's NME as "68-subset", not as 300-W NME).
- ``five``, ``cofw29``, ``aflw19``, ``lapa106`` evaluate 5 points: eye centres, nose tip, mouth corners.
"""
from __future__ import annotations

import numpy as np

from facealign.alignment.points import five_from_68

# WFLW index of each of the 68 iBUG points.
WFLW98_TO_68 = np.array(
    list(range(0, 33, 2))  # jaw: every second of the 33 contour points
    + [33, 34, 35, 36, 37]  # brow on the image left: upper edge
    + [42, 43, 44, 45, 46]  # other brow: upper edge
    + [51, 52, 53, 54, 55, 56, 57, 58, 59]  # nose bridge and base
    + [60, 61, 63, 64, 65, 67]  # eye on the image left: corner, 2 upper, corner, 2 lower
    + [68, 69, 71, 72, 73, 75]  # other eye
    + list(range(76, 96))  # mouth
)

# (indices averaged into the left eye centre, right eye centre, nose tip, left mouth corner, right mouth corner)
FIVE_RULES: dict[str, tuple] = {
    "wflw98": (range(60, 68), range(68, 76), 54, 76, 82),  # eye centres as the mean of the 8 eye points
    "cofw29": (16, 17, 20, 22, 23),  # pupils, nose tip, mouth corners
    "aflw19": (7, 10, 13, 15, 17),  # eye centres, nose tip, mouth corners
    "lapa106": (104, 105, 54, 84, 90),  # pupils, nose tip, mouth corners
}


def five_points(points: np.ndarray, schema: str) -> np.ndarray:
    """The 5 alignment points of an annotation in ``schema``."""
    p = np.asarray(points, dtype=np.float64)
    if schema == "five":
        return p
    if schema == "ibug68":
        return five_from_68(p)
    if schema not in FIVE_RULES:
        raise ValueError(f"no 5-point rule for {schema}")
    out = []
    for r in FIVE_RULES[schema]:
        out.append(p[list(r)].mean(0) if isinstance(r, range) else p[r])
    return np.stack(out)


def eval_schema(schema: str) -> str:
    """The schema a data set of ``schema`` is evaluated in: "ibug68" or "five"."""
    return "ibug68" if schema in ("ibug68", "wflw98") else "five"


def to_eval(points: np.ndarray, schema: str) -> np.ndarray:
    """Ground truth in its evaluation schema: (68, 2) for 68/98-point data, else (5, 2)."""
    p = np.asarray(points, dtype=np.float64)
    if schema == "ibug68":
        return p
    if schema == "wflw98":
        return p[WFLW98_TO_68]
    return five_points(p, schema)


def prediction_to_eval(pred68: np.ndarray, target: str) -> np.ndarray:
    """A 68-point prediction in the evaluation schema ``target`` ("ibug68" or "five")."""
    return np.asarray(pred68, dtype=np.float64) if target == "ibug68" else five_from_68(pred68)
