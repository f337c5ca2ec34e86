"""Readers of the body keypoint sets (numpy only): LSP and PARSE ``joints.json``, Buffy ``upper_body.json``.

Every record carries the 14 joints in LSP order (the subject's left/right, see docs/body.md), 0-based pixels with
pixel centres at integers, and a per-joint mask of which joints are labelled: Buffy labels 8 upper-body points, its
hips, knees and ankles are masked, and so are its ``uncertain`` points. ``visible`` is the set's occlusion flag
(LSP; PARSE and Buffy say 1 for every labelled joint); occluded joints keep their best-guess position and are
trained and scored like the others.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facealign.alignment.body_points import JOINTS, N_JOINTS

# named sets: (reader, file relative to the data root, image-name filter). Validation holds out LSP train
# im0801-im1000 and Buffy's episode 2 (Ferrari et al.'s test frames); the trainer never sees them.
BODY_SETS = {
    "lsp_train": ("joints", "body/lsp/train/joints.json", ("im0001", "im0800")),
    "lsp_val": ("joints", "body/lsp/train/joints.json", ("im0801", "im1000")),
    "parse_train": ("joints", "body/parse/train/joints.json", None),
    "buffy_train": ("buffy", "body/buffy/upper_body.json", ("s5e3", "s5e4", "s5e5", "s5e6")),
    "buffy_val": ("buffy", "body/buffy/upper_body.json", ("s5e2",)),
}


@dataclass
class BodyRecord:
    """One labelled person: image path, joints (14, 2) float64, labelled mask (14,) bool, visible (14,) bool."""

    path: Path
    joints: np.ndarray
    mask: np.ndarray
    visible: np.ndarray
    extra: dict | None = None  # Buffy: {"mid_hip": (2,)}


def read_joints(path: str | Path) -> list[BodyRecord]:
    """LSP / PARSE ``joints.json``: one person per image, all 14 joints labelled; sorted by image name."""
    path = Path(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    if list(doc["joints"]) != list(JOINTS):
        raise ValueError(f"{path}: joints are not in LSP order")
    out = []
    for name in sorted(doc["images"]):
        a = np.asarray(doc["images"][name], np.float64).reshape(N_JOINTS, 3)
        out.append(BodyRecord(path.parent / name, a[:, :2].copy(), np.ones(N_JOINTS, bool), a[:, 2] > 0))
    return out


def read_buffy(path: str | Path) -> list[BodyRecord]:
    """Buffy ``upper_body.json``: 8 upper-body points placed in their LSP slots, the others and ``uncertain``
    points masked; sorted by image name."""
    path = Path(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    slots = np.array([JOINTS.index(n) for n in doc["joints"]])
    out = []
    for name in sorted(doc["images"]):
        for person in doc["images"][name]:
            a = np.asarray(person["keypoints"], np.float64).reshape(len(slots), 3)
            joints = np.zeros((N_JOINTS, 2))
            mask = np.zeros(N_JOINTS, bool)
            joints[slots] = a[:, :2]
            mask[slots] = True
            for n in person.get("uncertain", []):
                mask[JOINTS.index(n)] = False
            extra = {"mid_hip": np.asarray(person["mid_hip"], np.float64)} if "mid_hip" in person else None
            out.append(BodyRecord(path.parent / name, joints, mask, mask.copy(), extra))
    return out


def _keep(name: str, rule: tuple | None, kind: str) -> bool:
    if rule is None:
        return True
    if kind == "joints":  # an inclusive range of image names
        stem = Path(name).stem
        return rule[0] <= stem <= rule[1]
    return any(f"_{ep}_" in name for ep in rule)  # Buffy: episodes


def read_set(name: str, root: str | Path) -> list[BodyRecord]:
    """The records of a named set (see BODY_SETS) under the data root ``root``."""
    if name not in BODY_SETS:
        raise KeyError(f"unknown body set {name!r}; known: {', '.join(BODY_SETS)}")
    kind, rel, rule = BODY_SETS[name]
    recs = read_joints(Path(root) / rel) if kind == "joints" else read_buffy(Path(root) / rel)
    return [r for r in recs if _keep(r.path.name, rule, kind)]
