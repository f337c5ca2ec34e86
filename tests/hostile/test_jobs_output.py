"""Output folders: one run at a time (a lock), unusable folders refused before any work, stale outputs of an
earlier run removed, the run's own outputs never taken as inputs."""
from __future__ import annotations

import os

import cv2
import pytest
from helpers import BrightSquareDetector, MeanShapeLandmarks, squares_image
from jobs_helpers import photos

from facealign.cli.main import main
from facealign.io.results import read_results
from facealign.jobs import photo
from facealign.jobs.output import claim_folder
from facealign.pipeline import FaceAligner


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    monkeypatch.setattr(photo, "batch_aligner", lambda opts: FaceAligner(BrightSquareDetector(), MeanShapeLandmarks()))


def test_a_second_run_into_a_locked_folder_exits_2_and_touches_nothing(tmp_path, capsys):
    src = photos(tmp_path / "in", 3)
    out = tmp_path / "out"
    assert main(["align", str(src), "--out", str(out), "-q"]) == 0
    before = (out / "results.jsonl").read_bytes()
    with claim_folder(out):  # a first run still writing there
        assert main(["align", str(src), "--out", str(out), "-q"]) == 2
        assert main(["pose", str(src), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "another facealign run is writing there" in err and "Traceback" not in err
    assert (out / "results.jsonl").read_bytes() == before  # nothing deleted or appended
    assert main(["align", str(src), "--out", str(out), "-q"]) == 0  # the lock goes with its run


def test_output_folder_that_is_a_file_or_unwritable_exits_2_before_any_work(tmp_path, capsys, monkeypatch):
    src = photos(tmp_path / "in", 2)
    calls = []
    monkeypatch.setattr(photo.ImageJob, "__call__", lambda self, item: calls.append(item))
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert main(["align", str(src), "--out", str(a_file), "-q"]) == 2
    assert main(["align", str(src), "--out", str(a_file / "sub"), "-q"]) == 2
    assert main(["video", str(src), "--out", str(a_file), "-q"]) == 2
    assert main(["merge", str(src), "--out", str(a_file / "m.png"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "is not a folder" in err and "cannot write there" in err and "Traceback" not in err
    assert calls == [] and a_file.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders (the file-as-folder test covers the path)")
def test_read_only_output_folder_exits_2(tmp_path, capsys):
    src = photos(tmp_path / "in", 1)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["align", str(src), "--out", str(ro), "-q"]) == 2
    finally:
        ro.chmod(0o700)
    assert "cannot write there" in capsys.readouterr().err


def test_a_fresh_run_into_a_used_folder_leaves_no_stale_crops(tmp_path):
    src = photos(tmp_path / "in", 4)
    out = tmp_path / "out"
    assert main(["align", str(src), "--out", str(out), "-q"]) == 0
    assert len(list((out / "crops").iterdir())) == 6
    assert main(["align", str(src / "p00.png"), "--out", str(out), "-q"]) == 0
    (rec,) = read_results(out / "results.jsonl")
    assert sorted(p.name for p in (out / "crops").iterdir()) == sorted(f["crop"][6:] for f in rec["faces"])
    assert len(list((out / "overlays").iterdir())) == 1


def test_a_folder_with_foreign_crops_is_refused(tmp_path, capsys):
    src = photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    (out / "crops").mkdir(parents=True)
    cv2.imwrite(str(out / "crops" / "mine.png"), squares_image([]))
    assert main(["align", str(src), "--out", str(out), "-q"]) == 2
    assert "did not write" in capsys.readouterr().err
    assert (out / "crops" / "mine.png").exists()


def test_a_rerun_never_takes_its_own_outputs_as_inputs(tmp_path):
    src = photos(tmp_path / "in", 3)
    for _ in range(2):  # the output folder inside the input folder, run twice
        assert main(["align", str(src), "--out", str(src / "out"), "-q"]) == 0
        assert [r["image"] for r in read_results(src / "out" / "results.jsonl")] == [str(src / f"p0{i}.png") for i in range(3)]


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(tmp_path):
    src = photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    (out / "crops").mkdir(parents=True)
    (out / "results.jsonl").write_bytes(b"")
    dead = [out / "crops" / ".p00_0.png.abcd1234.tmp", out / ".overlay.q1w2e3r4.tmp.mp4"]
    for p in dead:
        p.write_bytes(b"half")
    assert main(["align", str(src), "--out", str(out), "-q", "--resume"]) == 0
    assert not any(p.exists() for p in dead)
