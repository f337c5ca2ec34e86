"""Finding people and their 14 joints: from given person boxes, from the faces of a photo (the body hangs below
the head, facealign.alignment.body_frames.body_box_from_face), or the whole photo when it has no face and holds
one person. Arrays and Faces in, Bodies out."""
from __future__ import annotations

import numpy as np

from facealign.alignment.body_frames import body_box_from_face
from facealign.alignment.body_points import HEAD_TOP, NECK
from facealign.alignment.crop import roll_from_five
from facealign.types import Body, Face

# a whole-photo guess without a face is kept only when the network is this sure on average (else: no body);
# measured in docs/body.md: people of LSP's held-out photos score a median 0.33, noise and face close-ups < 0.08
WHOLE_PHOTO_MIN_SCORE = 0.1


def person_boxes(shape: tuple[int, ...], faces: list[Face] | None = None, boxes: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, list[int | None], str]:
    """(boxes (N, 4), crop angles (N,), face index of each box or None, source) where source is "boxes" (given),
    "faces" (one box below each face) or "photo" (the whole photo: no boxes and no faces)."""
    if boxes is not None:
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        return b, np.zeros(len(b)), [None] * len(b), "boxes"
    if faces:
        out, angles = [], []
        for f in faces:
            roll = float(roll_from_five(f.landmarks5)) if f.landmarks5 is not None else 0.0
            box, angle = body_box_from_face(f.found_box, roll)  # FACE_TO_BODY was measured on detector boxes
            out.append(box)
            angles.append(angle)
        return np.array(out), np.array(angles), list(range(len(faces))), "faces"
    h, w = shape[:2]
    return np.array([[-0.5, -0.5, w - 0.5, h - 0.5]]), np.zeros(1), [None], "photo"


def link_faces(bodies: list[Body], faces: list[Face]) -> None:
    """Set each body's ``face`` (when not set) to the face whose box centre is nearest its head (the mid-point of
    head top and neck), within one head length; each face to one body at most, nearest pairs first."""
    if not faces or not bodies:
        return
    taken = {b.face for b in bodies if b.face is not None}
    pairs = []
    centres = np.array([(f.found_box[:2] + f.found_box[2:]) / 2 for f in faces])
    for i, b in enumerate(bodies):
        if b.face is not None:
            continue
        head = (b.keypoints[HEAD_TOP] + b.keypoints[NECK]) / 2
        size = max(float(np.linalg.norm(b.keypoints[HEAD_TOP] - b.keypoints[NECK])), 1.0)
        d = np.linalg.norm(centres - head, axis=1)
        for k in np.flatnonzero(d <= size):
            pairs.append((d[k], i, int(k)))
    for _, i, k in sorted(pairs):
        if bodies[i].face is None and k not in taken:
            bodies[i].face = k
            taken.add(k)


def find_bodies(model, image: np.ndarray, faces: list[Face] | None = None, boxes: np.ndarray | None = None,
                box_scores: np.ndarray | None = None) -> list[Body]:
    """The bodies of a photo with ``model`` (an ONNXBody): one per given box, else one per face, else at most one
    for the whole photo (kept when the first pass's mean joint score reaches WHOLE_PHOTO_MIN_SCORE). Then each
    person is refined (``model.refine``: further passes on the box of its joints); ``Body.box`` is the box the
    joints were last found in. Faces are linked."""
    b, angles, face_idx, source = person_boxes(image.shape, faces, boxes)
    joints, scores = model.predict(image, b, angles)
    keep = np.ones(len(b), bool)
    if source == "photo":
        keep = scores.mean(1) >= WHOLE_PHOTO_MIN_SCORE
    idx = np.flatnonzero(keep)
    joints, scores, found = model.refine(image, joints[idx], scores[idx], b[idx], angles[idx])
    bodies = []
    for k, i in enumerate(idx):
        mean = float(scores[k].mean())
        score = float(box_scores[i]) if box_scores is not None else mean
        bodies.append(Body(found[k], score, joints[k], scores[k], face_idx[i], float(angles[i])))
    if source == "boxes":
        link_faces(bodies, faces or [])
    return bodies
