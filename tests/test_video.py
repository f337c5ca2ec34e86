"""Video input/output and the `facealign video` command, with generated videos and stand-in models."""
import json

import cv2
import numpy as np
import pytest

pytest.importorskip("av")

from helpers import BrightSquareDetector  # noqa: E402
from video_helpers import SquareLandmarks, square_frames, write_video  # noqa: E402

from facealign.cli.main import main  # noqa: E402
from facealign.jobs import video as video_job  # noqa: E402
from facealign.io.video import FolderSource, VideoError, open_frames  # noqa: E402
from facealign.pipeline import FaceAligner  # noqa: E402
from facealign.runtime import registry  # noqa: E402


@pytest.fixture
def clip(tmp_path):
    return write_video(tmp_path / "clip.mp4", square_frames(30))


def test_frame_source_reads_generated_video(clip):
    src = open_frames(clip)
    assert src.fps == pytest.approx(25.0) and src.frame_count == 30
    frames = list(src)
    assert [f.index for f in frames] == list(range(30))
    assert frames[1].time == pytest.approx(0.04, abs=1e-3)
    img = frames[5].image
    assert img.dtype == np.uint8 and img.shape == (120, 160, 3)
    assert img[40, 30:60].mean() > 200  # the moving square, through H.264
    assert src.error is None


def test_max_frames_and_truncated_video(clip, tmp_path):
    assert len(list(open_frames(clip, max_frames=7))) == 7
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) - 250])  # drop the last few frames
    src = open_frames(cut)
    frames = list(src)
    assert 0 < len(frames) < 30
    assert src.error and "cut.mp4" in src.error


def test_not_a_video(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 50)
    with pytest.raises(VideoError, match="bad.mp4"):
        open_frames(bad)
    with pytest.raises(VideoError, match="no such"):
        open_frames(tmp_path / "missing.mp4")


def test_folder_of_frames_natural_order_and_bad_frame(tmp_path):
    for i in (1, 2, 10):
        cv2.imwrite(str(tmp_path / f"frame{i}.png"), np.full((8, 8, 3), i, np.uint8))
    (tmp_path / "frame3.jpg").write_bytes(b"broken")
    src = FolderSource(tmp_path, fps=10)
    frames = list(src)
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 2, 10]
    assert frames[2].time == pytest.approx(0.3)  # index 3 of the sorted folder (frame3 skipped)
    assert "frame3.jpg" in src.error


def test_track_api_yields_every_frame_with_ids(clip):
    fa = FaceAligner(BrightSquareDetector(), SquareLandmarks())
    out = list(fa.track(str(clip), temporal="oneeuro", key_interval=5))
    assert len(out) == 30
    index, time, faces = out[3]
    assert index == 3 and time == pytest.approx(0.12, abs=1e-3)
    assert {f.track for f in faces} == {0, 1}
    assert out[3].image.shape == (120, 160, 3)


@pytest.fixture
def fake_models(monkeypatch):
    monkeypatch.setattr(video_job, "video_aligner", lambda opts: FaceAligner(BrightSquareDetector(), SquareLandmarks()))


def _modes():
    return ["off", "oneeuro"] + [m for m in ("causal", "offline") if registry.get(f"temporal-{m}").available]


@pytest.mark.parametrize("mode", _modes())
def test_cli_writes_landmarks_jsonl_overlay_and_crops(clip, tmp_path, fake_models, mode):
    out = tmp_path / "out"
    rc = main(["video", str(clip), "--out", str(out), "--temporal", mode, "--crops", "--quiet", "--key-interval", "5"])
    assert rc == 0
    lines = (out / "landmarks.jsonl").read_text().splitlines()
    assert len(lines) == 30
    rec = json.loads(lines[0])
    assert set(rec) == {"frame", "time", "faces"}
    assert set(rec["faces"][0]) == {"track", "box", "score", "landmarks", "landmarks5"}
    assert len(rec["faces"][0]["landmarks"]) == 68 and len(rec["faces"][0]["landmarks5"]) == 5
    assert [json.loads(l)["frame"] for l in lines] == list(range(30))
    assert len(list(open_frames(out / "overlay.mp4"))) == 30
    crops = sorted(p.name for p in (out / "crops").iterdir())
    assert crops == ["track_0.mp4", "track_1.mp4"]
    assert open_frames(out / "crops" / "track_0.mp4").width == 112
    assert not list(out.rglob("*.tmp.mp4"))


def test_cli_damaged_video_exit_1_and_keeps_frames(clip, tmp_path, fake_models, capsys):
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) - 250])  # drop the last few frames
    out = tmp_path / "out"
    rc = main(["video", str(cut), "--out", str(out), "--temporal", "off", "--quiet", "--no-overlay"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "cut.mp4" in err and "Traceback" not in err
    assert 0 < len((out / "landmarks.jsonl").read_text().splitlines()) < 30
    rc = main(["video", str(tmp_path / "nothing.mp4"), "--out", str(out), "--quiet"])
    assert rc == 1


def test_cli_bad_arguments_exit_2(clip, tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["video", str(clip), "--out", str(tmp_path), "--temporal", "sometimes"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["video", str(clip), "--out", str(tmp_path), "--key-interval", "0"])
    assert e.value.code == 2


def test_cli_3d_adds_pose_and_folder_input(tmp_path, fake_models):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(square_frames(6)):
        cv2.imwrite(str(folder / f"{i:03d}.png"), f)
    out = tmp_path / "out"
    rc = main(["video", str(folder), "--out", str(out), "--temporal", "off", "--3d", "--no-overlay", "--quiet", "--fps", "10"])
    assert rc == 0
    recs = [json.loads(l) for l in (out / "landmarks.jsonl").read_text().splitlines()]
    assert len(recs) == 6 and recs[1]["time"] == pytest.approx(0.1)
    assert set(recs[0]["faces"][0]["pose"]) == {"yaw", "pitch", "roll"}
    assert not (out / "overlay.mp4").exists()
