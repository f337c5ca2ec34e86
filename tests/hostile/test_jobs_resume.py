"""--resume continues only the run it belongs to: missing crops and overlays are made again, other options are
refused with a clear message."""
from __future__ import annotations

import pytest
from helpers import BrightSquareDetector, MeanShapeLandmarks
from jobs_helpers import photos

from facealign.cli.main import main
from facealign.io.results import read_results
from facealign.jobs import photo
from facealign.pipeline import FaceAligner


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    monkeypatch.setattr(photo, "batch_aligner", lambda opts: FaceAligner(BrightSquareDetector(), MeanShapeLandmarks()))


def test_resume_remakes_deleted_crops_and_overlays(tmp_path):
    src = photos(tmp_path / "in", 3)
    out = tmp_path / "out"
    assert main(["align", str(src), "--out", str(out), "-q"]) == 0
    recs = read_results(out / "results.jsonl")
    crop = out / recs[1]["faces"][0]["crop"]
    crop.unlink()
    overlay = sorted((out / "overlays").iterdir())[2]
    overlay.unlink()
    assert main(["align", str(src), "--out", str(out), "-q", "--resume"]) == 0
    assert crop.is_file() and overlay.is_file()
    again = read_results(out / "results.jsonl")
    assert again == recs  # one line per input, in order, the same content


def test_resume_with_other_options_is_refused(tmp_path, capsys):
    src = photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    assert main(["align", str(src), "--out", str(out), "-q"]) == 0
    before = (out / "results.jsonl").read_bytes()
    assert main(["align", str(src), "--out", str(out), "-q", "--resume", "--template", "ffhq"]) == 2
    err = capsys.readouterr().err
    assert "--resume with other options" in err and "template 'arcface112' -> 'ffhq'" in err
    assert (out / "results.jsonl").read_bytes() == before
    # the same options, or another engine or job count: fine
    assert main(["align", str(src), "--out", str(out), "-q", "--resume", "--jobs", "2"]) == 0


def test_resume_with_another_input_list_never_overwrites_a_crop(tmp_path):
    a, b = photos(tmp_path / "a", 2), photos(tmp_path / "b", 2)  # the same file names in two folders
    out = tmp_path / "out"
    assert main(["align", str(a), "--out", str(out), "-q"]) == 0
    first = {p.name: p.read_bytes() for p in (out / "crops").iterdir()}
    assert main(["align", str(a), str(b), "--out", str(out), "-q", "--resume"]) == 0
    recs = read_results(out / "results.jsonl")
    crops = [f["crop"] for r in recs for f in r["faces"]]
    assert len(crops) == len(set(crops)) == 6
    assert all((out / "crops" / k).read_bytes() == v for k, v in first.items())
