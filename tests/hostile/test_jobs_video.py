"""`facealign video`: crop videos through a bounded number of encoders, outputs kept (and playable) on an
interrupt or SIGTERM, --resume, no stale track videos from an earlier run."""
from __future__ import annotations

import json
import signal
import time

import numpy as np
import pytest

pytest.importorskip("av")

from helpers import BrightSquareDetector  # noqa: E402
from jobs_helpers import start_cli  # noqa: E402
from video_helpers import SquareLandmarks, square_frames, write_video  # noqa: E402

from facealign.cli.main import main  # noqa: E402
from facealign.io.video import open_frames  # noqa: E402
from facealign.jobs import video as video_job  # noqa: E402
from facealign.jobs import video_crops  # noqa: E402
from facealign.pipeline import FaceAligner  # noqa: E402


def _grid_frames(n: int, squares: int) -> list[np.ndarray]:
    """``squares`` still squares in a grid: as many tracks."""
    frames = []
    for _ in range(n):
        img = np.full((160, 320, 3), 30, np.uint8)
        for k in range(squares):
            y, x = 10 + 50 * (k // 6), 10 + 52 * (k % 6)
            img[y : y + 32, x : x + 32] = 255
        frames.append(img)
    return frames


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(video_job, "video_aligner", lambda opts: FaceAligner(BrightSquareDetector(), SquareLandmarks()))


def _lines(out) -> list[dict]:
    return [json.loads(line) for line in (out / "landmarks.jsonl").read_text().splitlines()]


def test_many_tracks_go_through_a_bounded_number_of_encoders(tmp_path, fakes, monkeypatch):
    clip = write_video(tmp_path / "grid.mp4", _grid_frames(8, 12))
    monkeypatch.setattr(video_crops, "MAX_OPEN_ENCODERS", 3)
    live, peak = [0], [0]
    real = video_crops.VideoWriter

    class Counting(real):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            live[0] += 1
            peak[0] = max(peak[0], live[0])

        def close(self):
            live[0] -= 1
            return super().close()

        def abort(self):
            live[0] -= 1
            return super().abort()

    monkeypatch.setattr(video_crops, "VideoWriter", Counting)
    out = tmp_path / "out"
    assert main(["video", str(clip), "--out", str(out), "--crops", "--no-overlay", "--temporal", "off", "-q"]) == 0
    tracks = sorted((out / "crops").iterdir())
    assert len(tracks) == 12 and peak[0] <= 3
    assert all(len(list(open_frames(t))) == 8 for t in tracks)
    assert not list(out.rglob("*.tmp*"))


def test_an_interrupt_keeps_playable_outputs_and_resume_finishes(tmp_path, monkeypatch):
    clip = write_video(tmp_path / "clip.mp4", square_frames(30))

    class Interrupting(BrightSquareDetector):
        calls = 0

        def detect(self, image):
            Interrupting.calls += 1
            if Interrupting.calls == 3:  # the third key frame (frame 20): Ctrl-C
                raise KeyboardInterrupt
            return super().detect(image)

    monkeypatch.setattr(video_job, "video_aligner", lambda opts: FaceAligner(Interrupting(), SquareLandmarks()))
    out = tmp_path / "out"
    args = ["video", str(clip), "--out", str(out), "--crops", "--temporal", "off", "--key-interval", "10", "-q"]
    assert main(args) == 130
    done = _lines(out)
    assert 0 < len(done) < 30
    assert len(list(open_frames(out / "overlay.mp4"))) == len(done)  # finished, not deleted
    assert (out / "crops" / "track_0.mp4").is_file()
    assert not list(out.rglob("*.tmp*"))
    assert main(args + ["--resume"]) == 0
    lines = _lines(out)
    assert [r["frame"] for r in lines] == list(range(30)) and lines[: len(done)] == done
    assert len(list(open_frames(out / "overlay.mp4"))) == 30
    later = {f["track"] for r in lines[len(done):] for f in r["faces"]}
    assert later and min(later) > max(f["track"] for r in done for f in r["faces"])  # fresh track ids


def test_resume_with_other_options_is_refused(tmp_path, fakes, capsys):
    clip = write_video(tmp_path / "clip.mp4", square_frames(6))
    out = tmp_path / "out"
    assert main(["video", str(clip), "--out", str(out), "--temporal", "off", "-q"]) == 0
    assert main(["video", str(clip), "--out", str(out), "--temporal", "oneeuro", "-q", "--resume"]) == 2
    assert "temporal 'off' -> 'oneeuro'" in capsys.readouterr().err


def test_sigterm_leaves_playable_outputs_and_no_temporary_files(tmp_path):
    clip = write_video(tmp_path / "clip.mp4", square_frames(60))
    out = tmp_path / "out"
    p = start_cli(["video", clip, "--out", out, "--crops", "--temporal", "off", "--key-interval", "1", "-q"],
                  factory="worker_fakes:video_aligner", env={"SLOW": "1"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ((out / "landmarks.jsonl").is_file() and
                                                (out / "landmarks.jsonl").read_bytes().count(b"\n") >= 3):
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130 and b"Traceback" not in err, err.decode()
    n = len(_lines(out))
    assert 3 <= n < 60 and len(list(open_frames(out / "overlay.mp4"))) == n
    assert not list(out.rglob("*.tmp*"))


def test_a_fresh_run_removes_the_earlier_runs_videos(tmp_path, fakes):
    clip = write_video(tmp_path / "clip.mp4", square_frames(6))
    out = tmp_path / "out"
    assert main(["video", str(clip), "--out", str(out), "--crops", "--temporal", "off", "-q"]) == 0
    assert (out / "crops" / "track_1.mp4").is_file() and (out / "overlay.mp4").is_file()
    assert main(["video", str(clip), "--out", str(out), "--no-overlay", "--temporal", "off", "-q"]) == 0
    assert not (out / "overlay.mp4").exists() and not list((out / "crops").glob("track_*.mp4"))
