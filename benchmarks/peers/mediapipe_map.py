"""MediaPipe face mesh (478 vertices) -> iBUG 68 points.

KNOWN: the widely used correspondence published by Peizhi Yan (github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks,
2024): one mesh vertex per iBUG point, or the mean of two. Written here as data (mesh vertex indices).
FITTED (optional, see fit_mediapipe_map.py): for each iBUG point the single mesh vertex nearest to the
ground truth on average over 300-W training faces (lfpw_train + helen_train), after nothing but the mesh's own
pixel placement: the mapping that suits 300-W's annotation convention best among single vertices.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

KNOWN = [
    [127], [234], [93], [132, 58], [58, 172], [136], [150], [176], [152],  # jaw 0-8
    [400], [379], [365], [397, 288], [361], [323], [454], [356],  # jaw 9-16
    [156], [63], [105], [66], [107],  # brow, image left
    [336], [296], [334], [293], [383],  # brow, image right
    [168, 6], [197, 195], [5], [4],  # nose bridge
    [98], [97], [2], [326], [327],  # nose base
    [33], [160], [158], [133], [153], [144],  # eye, image left
    [362], [385], [387], [263], [373], [380],  # eye, image right
    [61], [39], [37], [0], [267], [269], [291],  # outer lip, upper
    [321], [314], [17], [84], [91],  # outer lip, lower
    [78], [82], [13], [312], [308],  # inner lip, upper
    [317], [14], [87],  # inner lip, lower
]
assert len(KNOWN) == 68

FITTED_FILE = Path(__file__).with_name("mediapipe_map_fitted.json")


def mapping(name: str = "known") -> list[list[int]]:
    """The vertex lists of a mapping: "known" or "fitted" (needs mediapipe_map_fitted.json)."""
    if name == "known":
        return KNOWN
    if name == "fitted":
        return [[int(i)] for i in json.loads(FITTED_FILE.read_text())["vertices"]]
    raise ValueError(f"unknown mapping {name!r}")


def to68(mesh: np.ndarray, name: str = "known") -> np.ndarray:
    """(68, 2) iBUG points from a (478, 2) mesh in pixels."""
    mesh = np.asarray(mesh, dtype=np.float64)
    return np.stack([mesh[idx].mean(0) for idx in mapping(name)])
