"""`facealign video --body`: the body joints below each tracked face, smoothed per track (generated video, stand-in
face models, the shipped body network; a stub body aligner for the smoothing)."""
import json

import numpy as np
import pytest

pytest.importorskip("av")

from helpers import BrightSquareDetector  # noqa: E402
from video_helpers import SquareLandmarks, square_frames, write_video  # noqa: E402

from facealign.cli.main import main  # noqa: E402
from facealign.jobs import video as video_job  # noqa: E402
from facealign.jobs.video_bodies import VideoBodies, body_from_json, body_json  # noqa: E402
from facealign.pipeline import FaceAligner  # noqa: E402
from facealign.types import Body, Face  # noqa: E402


@pytest.fixture
def fake_faces(monkeypatch):
    monkeypatch.setattr(video_job, "video_aligner", lambda opts: FaceAligner(BrightSquareDetector(), SquareLandmarks()))


def test_cli_body_adds_joints_per_face_and_resumes(tmp_path, fake_faces):
    clip = write_video(tmp_path / "clip.mp4", square_frames(20, size=(240, 200)))
    out = tmp_path / "out"
    rc = main(["video", str(clip), "--out", str(out), "--body", "--temporal", "oneeuro", "--quiet",
               "--key-interval", "5", "--max-frames", "8"])
    assert rc == 0
    rc = main(["video", str(clip), "--out", str(out), "--body", "--temporal", "oneeuro", "--quiet",
               "--key-interval", "5", "--resume"])  # redraws the first 8 frames from their lines
    assert rc == 0
    recs = [json.loads(x) for x in (out / "landmarks.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in recs] == list(range(20))
    faces = [f for r in recs for f in r["faces"]]
    assert faces and all(set(f["body"]) == {"box", "score", "keypoints"} for f in faces)
    assert all(len(f["body"]["keypoints"]) == 14 and len(f["body"]["keypoints"][0]) == 3 for f in faces)
    # resuming with other options than the body run is refused (exit 2)
    rc = main(["video", str(clip), "--out", str(out), "--temporal", "oneeuro", "--quiet", "--key-interval", "5",
               "--resume"])
    assert rc == 2


class NoisyBodies:
    """A stand-in BodyAligner: one body per face, the same joints plus noise each frame."""

    def __init__(self, sigma: float = 3.0) -> None:
        self.rng = np.random.default_rng(0)
        self.sigma = sigma
        self.base = np.stack([np.linspace(100, 140, 14), np.linspace(50, 250, 14)], 1)

    def detect(self, image, faces=None, boxes=None):
        bodies = [Body(np.array([80.0, 30, 160, 270]), 0.5, self.base + self.rng.normal(0, self.sigma, (14, 2)),
                       np.full(14, 0.5), i) for i in range(len(faces))]
        return faces, bodies


def _face(track: int) -> Face:
    l5 = np.array([[110.0, 40], [130, 40], [120, 50], [112, 58], [128, 58]])
    return Face(box=np.array([105.0, 30, 135, 65]), score=0.9, landmarks5=l5, track=track)


@pytest.mark.parametrize("smooth", [True, False])
def test_video_bodies_smooth_a_still_person_per_track(smooth):
    stub = NoisyBodies()
    vb = VideoBodies(stub, smooth=smooth)
    img = np.zeros((300, 240, 3), np.uint8)
    got = np.stack([vb.step(img, [_face(3)], t / 25)[0].keypoints for t in range(100)])
    spread = np.std(got[50:] - stub.base, axis=0).mean()
    if smooth:
        assert spread < 0.7 * stub.sigma  # jitter of a still person (1.5 % of its height) reduced (x0.57)
        assert np.abs(got[50:].mean(0) - stub.base).max() < 2.0  # without a bias
    else:
        assert spread == pytest.approx(stub.sigma, rel=0.25)
    assert set(vb.filters) == ({3} if smooth else set())
    vb.step(img, [_face(4)], 5.0)  # track 3 gone: its filter is dropped
    assert set(vb.filters) == ({4} if smooth else set())
    assert vb.step(img, [], 5.1) == []


def test_video_bodies_follow_a_moving_person():
    stub = NoisyBodies()
    vb = VideoBodies(stub)
    img = np.zeros((300, 240, 3), np.uint8)
    base = stub.base.copy()
    lag = []
    for t in range(60):  # 4 person heights a second to the right
        stub.base = base + [800 * t / 25, 0]
        lag.append((vb.step(img, [_face(1)], t / 25)[0].keypoints - stub.base)[:, 0].mean())
    assert abs(np.mean(lag[20:])) < 4.0


def test_body_json_round_trip():
    b = Body(np.array([1.0, 2, 30, 40]), 0.25, np.arange(28, dtype=float).reshape(14, 2), np.linspace(0, 1, 14))
    r = body_json(b)
    assert set(r) == {"box", "score", "keypoints"} and body_json(None) is None
    back = body_from_json(json.loads(json.dumps(r)))
    assert np.allclose(back.keypoints, b.keypoints) and np.allclose(back.keypoint_scores, b.keypoint_scores, atol=1e-3)
    assert body_from_json(None) is None
