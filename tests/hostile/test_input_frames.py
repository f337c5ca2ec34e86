"""`video` on a folder of frames reads through the photo loader: the same size limit, truncation check and
file names (bytes that are not UTF-8 once crashed OpenCV), in bounded memory."""
from __future__ import annotations

import os

import numpy as np
from input_makers import bomb_png, peak_memory
from PIL import Image


def _frames(folder, n=3):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):  # noise: the entropy-coded data is most of the file, so a cut lands in it
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), np.uint8)).save(folder / f"f{i}.jpg", quality=95)


def _read_in_child(folder) -> dict:
    code = (
        "import os\n"
        "from facealign.io.video import open_frames\n"
        f"src = open_frames(os.fsdecode({os.fsencode(folder)!r}))\n"
        "frames = [(f.index, f.image.shape) for f in src]\n"
        "result = {'frames': [i for i, _ in frames], 'shapes': sorted({str(s) for _, s in frames}), 'error': src.error}\n"
    )
    return peak_memory(code)


def test_hostile_frames_are_skipped_and_named(tmp_path):
    folder = tmp_path / "frames"
    _frames(folder)  # f0, f1, f2
    bomb_png(folder / "f3.png")  # 30000 x 30000
    data = (folder / "f0.jpg").read_bytes()
    (folder / "f4.jpg").write_bytes(data[: len(data) // 2])  # truncated
    out = _read_in_child(folder)
    r = out["result"]
    assert r["frames"] == [0, 1, 2] and r["shapes"] == ["(24, 32, 3)"]
    assert "2 unreadable frame image(s)" in r["error"]
    assert "f3.png (image too large (30000x30000" in r["error"] and "f4.jpg (truncated image file" in r["error"]
    assert out["peak_mb"] < 300, out


def test_non_utf8_frame_names(tmp_path):
    folder = tmp_path / "frames"
    _frames(folder, 2)
    os.rename(folder / "f1.jpg", os.fsencode(folder) + b"/f1-caf\xe9.jpg")
    os.rename(folder / "f0.jpg", os.fsencode(folder) + b"/f0-\n.jpg")
    out = _read_in_child(folder)  # a crash in OpenCV would fail the child, not this test process
    assert out["result"] == {"frames": [0, 1], "shapes": ["(24, 32, 3)"], "error": None}


def test_unreadable_frame_names_are_escaped(tmp_path):
    from facealign.io.video import open_frames

    folder = tmp_path / "frames"
    _frames(folder, 1)
    (folder / "x\nfacealign: error: forged.jpg").write_bytes(b"not a jpeg")
    src = open_frames(folder)
    assert len(list(src)) == 1
    assert "\n" not in src.error and "x\\nfacealign: error: forged.jpg (not an image" in src.error


def test_special_files_are_not_videos(tmp_path):
    import pytest

    from facealign.io.video import VideoError, open_frames

    os.mkfifo(tmp_path / "clip.mp4")
    (tmp_path / "zero.mp4").symlink_to("/dev/zero")
    for p in (tmp_path / "clip.mp4", tmp_path / "zero.mp4"):
        with pytest.raises(VideoError, match="not a regular file"):
            open_frames(p)


def test_video_max_pixels_option_limits_a_folders_frames(tmp_path, monkeypatch, capsys):
    """`video --max-pixels N` (as align's): a frame over N is skipped and named, exit 1; a bad N exits 2 before any
    output; the API option (VideoOptions.max_pixels) is range-checked."""
    import pytest

    pytest.importorskip("av")
    from helpers import BrightSquareDetector
    from video_helpers import SquareLandmarks

    from facealign.cli.main import main
    from facealign.jobs import video as video_job
    from facealign.jobs.options import OptionsError
    from facealign.pipeline import FaceAligner

    monkeypatch.setattr(video_job, "video_aligner", lambda opts: FaceAligner(BrightSquareDetector(), SquareLandmarks()))
    folder = tmp_path / "frames"
    _frames(folder)  # three 32x24 frames: 768 pixels each
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(folder / "f3.png")  # 1600 pixels
    out = tmp_path / "v"
    assert main(["video", str(folder), "--out", str(out), "-q", "--no-overlay", "--max-pixels", "1000"]) == 1
    err = capsys.readouterr().err
    assert "f3.png (image too large (40x40 = " in err and "Traceback" not in err
    assert len((out / "landmarks.jsonl").read_text().splitlines()) == 3
    for bad in ["0", "-5"]:
        assert main(["video", str(folder), "--out", str(tmp_path / bad), "-q", "--max-pixels", bad]) == 2
        assert "max_pixels" in capsys.readouterr().err and not (tmp_path / bad).exists()
    with pytest.raises(OptionsError, match="max_pixels"):
        video_job.VideoOptions(input=str(folder), out=str(out), max_pixels=0).validate()
