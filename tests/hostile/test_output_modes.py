"""Output files get the mode a plain open() gives (0644 under umask 022), not mkstemp's 0600."""
from __future__ import annotations

import stat
import subprocess
import sys

import numpy as np


def _mode(p) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_atomic_outputs_honour_the_umask(tmp_path):
    from facealign.io.atomic import write_bytes_atomic, write_image_atomic

    write_bytes_atomic(tmp_path / "a.txt", b"x")
    write_image_atomic(tmp_path / "c.png", np.zeros((4, 4, 3), np.uint8))
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")
    assert _mode(tmp_path / "a.txt") == _mode(tmp_path / "c.png") == _mode(plain)


def test_another_umask_is_followed(tmp_path):
    code = ("import os; os.umask(0o027)\n"
            "from facealign.io.atomic import write_bytes_atomic\n"
            f"write_bytes_atomic({str(tmp_path / 'a.txt')!r}, b'x')\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert _mode(tmp_path / "a.txt") == 0o640
    code = code.replace("0o027", "0o022").replace("a.txt", "b.txt")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert _mode(tmp_path / "b.txt") == 0o644


def _all_files(folder) -> dict[str, int]:
    return {str(p.relative_to(folder)): _mode(p) for p in folder.rglob("*") if p.is_file()}


def test_every_file_of_align_video_and_merge_gets_the_plain_mode(tmp_path, monkeypatch):
    """End to end through the commands (fake models): results, run records, crops, overlays, meshes, videos, the
    merge composite, its report and the 3D method's textured mesh: all as a plain open() makes them."""
    import cv2
    import pytest
    from helpers import BrightSquareDetector, MeanShapeLandmarks, squares_image

    from facealign.cli.main import main
    from facealign.jobs import merge as merge_job
    from facealign.jobs import photo
    from facealign.pipeline import FaceAligner

    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")
    want = _mode(plain)
    fakes = lambda opts: FaceAligner(BrightSquareDetector(), MeanShapeLandmarks())  # noqa: E731
    monkeypatch.setattr(photo, "batch_aligner", fakes)
    monkeypatch.setattr(merge_job, "merge_aligner", fakes)
    src = tmp_path / "in"
    src.mkdir()
    for i in range(2):
        cv2.imwrite(str(src / f"p{i}.png"), squares_image([(60 + 4 * i, 40, 100)]))
    assert main(["pose", str(src), "--out", str(tmp_path / "a"), "-q", "--meshes"]) == 0
    files = _all_files(tmp_path / "a")
    assert {"results.jsonl", "run.json"} <= set(files) and any(f.startswith("meshes/") for f in files)
    assert {f: m for f, m in files.items() if m != want} == {}
    assert main(["merge", str(src), "--out", str(tmp_path / "m" / "face.png"), "-q", "--method", "3d"]) == 0
    files = _all_files(tmp_path / "m")
    assert {"face.png", "face.json", "face.obj", "face.mtl", "face_texture.png"} <= set(files)
    assert {f: m for f, m in files.items() if m != want} == {}

    pytest.importorskip("av")
    from video_helpers import SquareLandmarks, square_frames

    from facealign.jobs import video as video_job

    monkeypatch.setattr(video_job, "video_aligner", lambda opts: FaceAligner(BrightSquareDetector(), SquareLandmarks()))
    frames = tmp_path / "frames"
    frames.mkdir()
    for i, img in enumerate(square_frames(8)):
        cv2.imwrite(str(frames / f"f{i}.png"), img)
    assert main(["video", str(frames), "--out", str(tmp_path / "v"), "-q", "--crops"]) == 0
    files = _all_files(tmp_path / "v")
    assert {"landmarks.jsonl", "overlay.mp4", "run.json"} <= set(files) and any(f.startswith("crops/") for f in files)
    assert {f: m for f, m in files.items() if m != want} == {}
