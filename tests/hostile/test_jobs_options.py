"""Arguments out of range: exit 2 with one line before any work (commands), a clear error up front (API);
hostile --boxes fail their input with a clear error, never a face with score 1.0."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import BrightSquareDetector, MeanShapeLandmarks, squares_image
from jobs_helpers import photos

from facealign.cli.main import main
from facealign.io.results import read_results
from facealign.jobs import photo
from facealign.jobs.batch import run_batch
from facealign.jobs.batch_options import BatchOptions
from facealign.jobs.options import OptionsError
from facealign.pipeline import FaceAligner


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    monkeypatch.setattr(photo, "batch_aligner", lambda opts: FaceAligner(BrightSquareDetector(), MeanShapeLandmarks()))


@pytest.mark.parametrize("args", [
    ["--det-size", "1"], ["--det-threshold", "2"], ["--det-threshold", "nan"], ["--verify", "-1"],
    ["--size", "100000"], ["--jobs", "100000"], ["--threads", "0"], ["--focal", "inf"], ["--size", "0"],
    ["--jobs", "0"], ["--max-pixels", "0"],
])
def test_out_of_range_arguments_exit_2_before_any_work(tmp_path, args, capsys):
    src = photos(tmp_path / "in", 1)
    out = tmp_path / "out"
    try:
        rc = main(["align", str(src), "--out", str(out), "-q", *args])
    except SystemExit as e:  # rejected by the argument parser itself
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and "error" in err and "Traceback" not in err
    assert not out.exists()


def test_api_options_are_checked_up_front(tmp_path):
    for bad in [dict(size=-5), dict(det_size=1), dict(det_threshold=1.5), dict(jobs=0), dict(verify=float("nan")),
                dict(template="nope"), dict(fast=True, fit3d=True), dict(address="auto")]:
        with pytest.raises(OptionsError):
            run_batch([str(tmp_path)], BatchOptions(out=str(tmp_path / "out"), **bad))
    assert not (tmp_path / "out").exists()


def test_face_aligner_api_refuses_nonsense(tmp_path):
    fa = FaceAligner(BrightSquareDetector(), MeanShapeLandmarks())
    img = squares_image([(20, 30, 60)])
    faces = fa.detect(img)
    with pytest.raises(ValueError):
        fa.align(img, faces, size=-5)
    for box in ([np.nan, 0, 50, 50], [10, 10, 5, 50], [10, 10, 10, 50]):
        with pytest.raises(ValueError):
            fa.landmarks_for_boxes(img, [box])


def test_hostile_boxes_fail_their_input_with_a_clear_error(tmp_path):
    src = photos(tmp_path / "in", 7)
    names = sorted(str(p) for p in src.iterdir())
    boxes = [[[float("nan"), 0, 50, 50]], [[0, 0, float("inf"), 50]], [[-500, -500, -400, -400]],
             [[80, 80, 20, 20]], [[30, 30, 30, 90]], [[0, 0, 1e9, 1e9]], [[-20, -10, 60, 70]]]
    f = tmp_path / "boxes.json"
    f.write_text(json.dumps(dict(zip(names, boxes))))  # NaN and Infinity as Python's json writes them
    assert main(["align", str(src), "--out", str(tmp_path / "out"), "--boxes", str(f), "-q"]) == 1
    recs = read_results(tmp_path / "out" / "results.jsonl")
    errors = [r["error"] for r in recs]
    for e, want in zip(errors, ["not a finite number", "not a finite number", "outside the", "inverted or empty",
                                "inverted or empty", "times the image's size"]):
        assert e and want in e
    assert errors[6] is None and len(recs[6]["faces"]) == 1  # a box cut by the image's edge is a face
    assert all(not r["faces"] for r in recs[:6])
