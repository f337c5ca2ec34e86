"""The tracker with stand-in models: ids stable through a short occlusion, new faces picked up, few detections."""
import numpy as np
import pytest

from helpers import BrightSquareDetector
from video_helpers import SquareLandmarks, square_frames

from facealign.pipeline import FaceAligner
from facealign.alignment.boxes import iou_matrix
from facealign.temporal.tracker import FaceTracker, TrackerOptions, greedy_match


def _run(frames, **kw):
    fa = FaceAligner(BrightSquareDetector(), SquareLandmarks())
    return list(fa.track(frames, temporal="off", **kw)), fa


def test_ids_survive_short_occlusion_and_follow_motion():
    out, _ = _run(square_frames(30, hide=(12, 16)), key_interval=5, max_lost=10)
    ids = [sorted(f.track for f in faces) for _, _, faces in out]
    assert ids[0] == [0, 1]
    for i in range(12, 16):  # the still square is hidden
        assert len(ids[i]) == 1
    assert ids[-1] == [0, 1]  # same two ids after the occlusion: no new track
    moving = [f for _, _, faces in out for f in faces if f.box[1] < 65]
    assert len({f.track for f in moving}) == 1
    # the moving square's box follows it between key frames (landmark tracking)
    xs = [f.box[0] for _, _, faces in out for f in faces if f.box[1] < 65]
    assert xs[-1] - xs[0] == pytest.approx(2 * 29, abs=2)


def test_long_occlusion_gives_new_id_and_new_faces_are_picked_up():
    frames = square_frames(40, hide=(5, 30))
    out, _ = _run(frames, key_interval=5, max_lost=5)
    late = {f.track for _, _, faces in out[-5:] for f in faces}
    assert len(late) == 2 and max(late) >= 2  # the still square came back as a new track


def test_detector_runs_on_key_frames_only_when_tracking():
    frames = square_frames(30, hide=(100, 100))
    fa = FaceAligner(BrightSquareDetector(), SquareLandmarks())
    tr = FaceTracker(fa, TrackerOptions(key_interval=10))
    for i, f in enumerate(frames):
        tr.step(f, i)
    assert tr.detector_runs == 3


def test_iou_and_greedy_matching():
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    b = np.array([[21, 21, 31, 31], [0, 0, 10, 10]], float)
    iou = iou_matrix(a, b)
    assert iou[0, 1] == pytest.approx(1.0)
    assert greedy_match(iou, 0.3) == [(0, 1), (1, 0)]
