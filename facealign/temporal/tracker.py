"""Face tracking: the detector runs on key frames, the landmarks carry each face from frame to frame.

Per frame:
1. Each active track predicts its box from its previous landmarks (facealign.alignment.crop.upright_box: the
   tight box in the face's upright frame, plus the roll), so the landmark crop follows the face. The box moves
   through a dead band (``follow_box``): small changes, which on a still face are the landmarks' own noise,
   leave it where it is, so the noise is not fed back into the next frame's crop; changes of more than
   ``BOX_DEADBAND`` of the face size pass in full, so fast motion is followed at once.
2. The detector runs on key frames (every ``key_interval`` frames), every ``key_interval // 4`` frames while a
   track is lost (to find it again), and on every frame while there is no face. Detections are matched to
   tracks greedily by IoU (a near centre also matches: faces move between detections); matched lost tracks
   come back with their identity, unmatched detections start new tracks, active tracks no detection confirms
   become lost.
3. The landmark network runs once, as one batch, on the boxes of all active tracks.
4. A track whose mean landmark score falls below ``min_score``, or below ``score_drop`` times its usual score
   (the face left or is covered), becomes lost; a lost track is kept ``max_lost`` frames, so a face that comes
   back after a short occlusion keeps its id.
5. Tracks that converge on the same face are merged (the older id wins); a track, or a new detection, lying
   mostly inside a larger tracked face is a part of that face (a false eye or mouth box) and is dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facealign.alignment.boxes import iou_matrix
from facealign.alignment.crop import roll_from_five, upright_box
from facealign.types import Face


BOX_DEADBAND = 0.05  # fraction of the face size (box edges), or this many times 40 degrees of roll
BOX_RULE = "deadband-0.4-1.0x0.05"  # names the rule for caches of simulated tracking (training sequences)


def follow_box(box: np.ndarray, angle: float, landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """The next landmark crop's (box, roll) from the current one and this frame's landmarks (see step 1 above):
    changes below 0.4 x BOX_DEADBAND leave the box where it is, above BOX_DEADBAND it jumps to the target,
    in between it moves part of the way."""
    target, roll = upright_box(landmarks)
    box = np.asarray(box, np.float64)
    size = max(float(np.max(box[2:] - box[:2])), 1.0)
    d_angle = (roll - angle + 180) % 360 - 180
    change = max(float(np.abs(target - box).max()) / size, abs(d_angle) / 40.0) / BOX_DEADBAND
    w = float(np.clip((change - 0.4) / 0.6, 0.0, 1.0))
    return box + w * (target - box), angle + w * d_angle


@dataclass
class TrackerOptions:
    key_interval: int = 10  # run the detector every this many frames (1 = every frame)
    max_lost: int = 15  # frames a lost track is kept for re-identification
    min_score: float = 0.05  # mean landmark score below which a track counts as lost
    score_drop: float = 0.5  # ... or below this fraction of the track's usual score (scores vary by model)
    match_iou: float = 0.3  # detection-track match threshold
    merge_iou: float = 0.6  # two tracks overlapping this much are one face
    contain: float = 0.6  # a box lying this much (of its own area) inside another face's box is part of it
    redetect_iou: float = 0.5  # on a key frame, a track whose box disagrees more than this takes the detection's
    min_size: float = 16.0  # boxes smaller than this (pixels) are dropped: too small for 68 points


@dataclass
class Track:
    id: int
    box: np.ndarray  # box for the next landmark pass (tight-68 convention)
    angle: float  # roll for the next landmark crop
    score: float  # detection score of the last matching detection
    landmarks: np.ndarray | None = None  # last raw landmarks (68, 2)
    lost: int = 0  # frames since last seen (0 = active)
    age: int = 0
    usual_score: float | None = None  # running mean of the mean landmark score


def covered_by(box: np.ndarray, others: np.ndarray) -> float:
    """The largest fraction of ``box``'s area that lies inside one of ``others`` (M, 4)."""
    b = np.asarray(box, np.float64)
    o = np.asarray(others, np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(b[2], o[:, 2]) - np.maximum(b[0], o[:, 0]), 0, None)
    h = np.clip(np.minimum(b[3], o[:, 3]) - np.maximum(b[1], o[:, 1]), 0, None)
    area = max((b[2] - b[0]) * (b[3] - b[1]), 1e-9)
    return float((w * h).max() / area) if len(o) else 0.0


def _centre_affinity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - centre distance / size (clipped at 0): a match score for boxes that moved while lost."""
    ca = (a[:, None, :2] + a[:, None, 2:]) / 2
    cb = (b[None, :, :2] + b[None, :, 2:]) / 2
    size = np.maximum((a[:, None, 2:] - a[:, None, :2]).max(-1), (b[None, :, 2:] - b[None, :, :2]).max(-1))
    return np.clip(1 - np.linalg.norm(ca - cb, axis=-1) / np.maximum(size, 1e-9), 0, None)


def greedy_match(score: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs (row, col) taken greedily by descending score, each row and column once, score >= threshold."""
    pairs = []
    if score.size == 0:
        return pairs
    s = score.copy()
    while True:
        i, j = np.unravel_index(np.argmax(s), s.shape)
        if s[i, j] < threshold:
            return pairs
        pairs.append((int(i), int(j)))
        s[i, :] = -1
        s[:, j] = -1


class FaceTracker:
    """Tracks faces through a video with one FaceAligner's detector and landmark model.

    ``step(image, index)`` returns the raw per-frame faces (landmarks of this frame, ``Face.track`` set) of
    the active tracks; temporal fusion is applied afterwards (facealign.temporal.fusion).
    """

    def __init__(self, aligner, options: TrackerOptions | None = None) -> None:
        self.fa = aligner
        self.opt = options or TrackerOptions()
        self.tracks: list[Track] = []
        self._next_id = 0
        self._last_detection = -(10**9)
        self.detector_runs = 0

    def step(self, image: np.ndarray, index: int) -> list[Face]:
        o = self.opt
        for t in self.tracks:  # 1. boxes follow the previous landmarks
            if t.lost == 0 and t.landmarks is not None:
                t.box, t.angle = follow_box(t.box, t.angle, t.landmarks)
        active = [t for t in self.tracks if t.lost == 0]
        since = index - self._last_detection
        need = (
            since >= o.key_interval
            or not active  # nobody to follow: look for faces on every frame
            or (len(active) < len(self.tracks) and since >= max(1, o.key_interval // 4))  # someone to find again
        )
        if need:  # 2. detection and matching
            self._detect(image, index)
        active = [t for t in self.tracks if t.lost == 0 and _valid(t.box, image.shape, o.min_size)]
        for t in self.tracks:
            if t.lost == 0 and t not in active:
                t.lost = 1
        faces: list[Face] = []
        if active:  # 3. landmarks for all active tracks in one batch
            boxes = np.array([t.box for t in active])
            angles = np.array([t.angle for t in active])
            faces = self.fa.landmarks_for_boxes(image, boxes, angles)
            for t, f in zip(active, faces):
                mean = 1.0 if f.landmark_scores is None else float(np.mean(f.landmark_scores))
                usual = mean if t.usual_score is None else t.usual_score
                if mean < o.min_score or mean < o.score_drop * usual:  # 4. the face is gone or covered
                    t.lost = 1
                    continue
                t.usual_score = usual + 0.1 * (mean - usual)
                t.landmarks = np.asarray(f.landmarks, np.float64).copy()
                t.age += 1
                f.track = t.id
                f.score = t.score
        faces = [f for f in faces if f.track is not None]
        self._merge(faces)
        for t in self.tracks:  # age the lost tracks, forget the old ones
            if t.lost > 0 and not any(f.track == t.id for f in faces):
                t.lost += 1
        self.tracks = [t for t in self.tracks if t.lost <= o.max_lost]
        live = {t.id for t in self.tracks}
        return [f for f in faces if f.track in live]

    def _detect(self, image: np.ndarray, index: int) -> None:
        o = self.opt
        self._last_detection = index
        self.detector_runs += 1
        dets = [d for d in self.fa.detector.detect(image) if _valid(d.box, image.shape, o.min_size)]
        dboxes = np.array([d.box for d in dets]).reshape(-1, 4)
        tracks = self.tracks
        tboxes = np.array([t.box for t in tracks]).reshape(-1, 4)
        iou = iou_matrix(tboxes, dboxes)
        # a face may have moved since its box was last updated (fast motion, hidden while lost): a nearby centre
        # also matches, scored below any real overlap so IoU decides between close faces
        score = iou.copy()
        if len(tracks) and len(dets):
            score = np.maximum(score, o.match_iou * _centre_affinity(tboxes, dboxes))
        matched_t, matched_d = set(), set()
        for i, j in greedy_match(score, o.match_iou * 0.5):
            t, d = tracks[i], dets[j]
            matched_t.add(i)
            matched_d.add(j)
            t.score = float(d.score)
            if t.lost > 0 or iou[i, j] < o.redetect_iou or t.landmarks is None:
                # take the detection's box: the track was lost or has drifted
                t.box = np.asarray(d.box, np.float64).copy()
                t.angle = roll_from_five(d.landmarks5) if d.landmarks5 is not None else 0.0
                t.lost = 0
        for i, t in enumerate(tracks):
            if i not in matched_t and t.lost == 0:
                t.lost = 1  # not confirmed by the detector: hidden, or the landmarks drifted off the face
        held = np.array([t.box for t in tracks if t.lost == 0]).reshape(-1, 4)
        for j, d in enumerate(dets):
            if j not in matched_d and not (len(held) and covered_by(d.box, held) > o.contain):
                # (a detection mostly inside a tracked face is a part of it, e.g. a false eye/mouth box)
                angle = roll_from_five(d.landmarks5) if d.landmarks5 is not None else 0.0
                self.tracks.append(Track(self._next_id, np.asarray(d.box, np.float64).copy(), angle, float(d.score)))
                self._next_id += 1

    def _merge(self, faces: list[Face]) -> None:
        """Two tracks on one face (e.g. a lost track and its replacement): keep the older id. Judged on the tracks'
        boxes (the landmark crops' boxes this frame), not on the faces' tight 68-point boxes."""
        if len(faces) < 2:
            return
        box_of = {t.id: t.box for t in self.tracks}
        boxes = np.array([box_of[f.track] for f in faces], dtype=np.float64)
        iou = iou_matrix(boxes, boxes)
        np.fill_diagonal(iou, 0)
        drop = set()
        for i, j in zip(*np.nonzero(np.triu(iou) > self.opt.merge_iou)):
            a, b = faces[i].track, faces[j].track
            drop.add(max(a, b))
        for i, f in enumerate(faces):  # a small track inside a larger face is a part of it
            others = np.delete(boxes, i, axis=0)
            bigger = others[(others[:, 2:] - others[:, :2]).max(1) > (boxes[i, 2:] - boxes[i, :2]).max()]
            if len(bigger) and covered_by(boxes[i], bigger) > self.opt.contain:
                drop.add(f.track)
        if drop:
            self.tracks = [t for t in self.tracks if t.id not in drop]
            faces[:] = [f for f in faces if f.track not in drop]


def _valid(box: np.ndarray, shape: tuple, min_size: float) -> bool:
    """A usable box: large enough and overlapping the image."""
    x1, y1, x2, y2 = box
    h, w = shape[:2]
    return x2 - x1 >= min_size and y2 - y1 >= min_size and x2 > 0 and y2 > 0 and x1 < w - 1 and y1 < h - 1
