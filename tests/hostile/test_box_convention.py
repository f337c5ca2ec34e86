"""`box` is the tight box of the face's 68 points wherever a face is reported (docs/conventions.md): the API, align,
pose, video, merge's report. The detector's own box stays available as ``detector_box`` for what measures or was
calibrated on the detector (detection metrics, the verify threshold, the face-to-body rule), which do not change."""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from helpers import SAMPLE, BrightSquareDetector, MeanShapeLandmarks, squares_image

from facealign.cli.main import main
from facealign.jobs import merge as merge_job
from facealign.jobs import photo
from facealign.pipeline import FaceAligner
from facealign.types import Face


def _tight(lm) -> list[float]:
    lm = np.asarray(lm, np.float64)
    return [*lm.min(0), *lm.max(0)]


def _fakes() -> FaceAligner:
    # the stand-in landmarks are the mean face scaled to the box's width: their tight box is flatter than the square
    return FaceAligner(BrightSquareDetector(), MeanShapeLandmarks())


@pytest.fixture
def fake_models(monkeypatch):
    monkeypatch.setattr(photo, "batch_aligner", lambda opts: _fakes())
    monkeypatch.setattr(merge_job, "merge_aligner", lambda opts: _fakes())


def test_the_sample_photos_boxes_are_the_tight_boxes_of_their_68_points(tmp_path):
    """The issue's check with the shipped models: every face's box equals min/max of its landmarks."""
    out = tmp_path / "s"
    subprocess.run([sys.executable, "-m", "facealign.cli.main", "align", str(SAMPLE), "--out", str(out), "-q"],
                   check=True, timeout=300)
    (rec,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert rec["faces"]
    for f in rec["faces"]:
        assert f["box"] == _tight(f["landmarks"])
        assert len(f["detector_box"]) == 4 and f["detector_box"] != f["box"]  # the detector's estimate, kept


def test_detect_reports_the_tight_box_and_keeps_the_detectors_box():
    img = squares_image([(40, 50, 80)])
    (f,) = _fakes().detect(img)
    np.testing.assert_array_equal(f.box, _tight(f.landmarks))
    np.testing.assert_array_equal(f.detector_box, [40, 50, 119, 129])  # the square: what the detector found
    assert not np.allclose(f.box, f.detector_box)
    np.testing.assert_array_equal(f.found_box, f.detector_box)
    (g,) = _fakes().landmarks_for_boxes(img, [[40, 50, 119, 129]])  # given boxes: box from the points too
    np.testing.assert_array_equal(g.box, _tight(g.landmarks))
    assert g.detector_box is None
    (h,) = FaceAligner(BrightSquareDetector(), False).detect(img)  # no 68 points: the detector's box
    np.testing.assert_array_equal(h.box, [40, 50, 119, 129])


@pytest.mark.parametrize("command", ["align", "pose"])
def test_align_and_pose_records_give_the_tight_box(tmp_path, fake_models, command):
    src = tmp_path / "in.png"
    cv2.imwrite(str(src), squares_image([(40, 50, 80), (200, 20, 30)]))
    assert main([command, str(src), "--out", str(tmp_path / "o"), "-q"]) == 0
    (rec,) = [json.loads(line) for line in (tmp_path / "o" / "results.jsonl").read_text().splitlines()]
    assert len(rec["faces"]) == 2
    for f in rec["faces"]:
        assert f["box"] == _tight(f["landmarks"]) and f["detector_box"] != f["box"]
    assert sorted(f["detector_box"] for f in rec["faces"]) == [[40, 50, 119, 129], [200, 20, 229, 49]]


def test_boxes_of_a_reduced_jpeg_are_in_original_pixels(tmp_path, fake_models):
    """A JPEG over --max-pixels is decoded at reduced scale: box and detector_box are scaled back alike."""
    src = tmp_path / "big.jpg"
    cv2.imwrite(str(src), cv2.resize(squares_image([(40, 50, 80)]), (1200, 800), interpolation=cv2.INTER_NEAREST))
    assert main(["align", str(src), "--out", str(tmp_path / "o"), "-q", "--max-pixels", "300000"]) == 0
    (f,) = json.loads((tmp_path / "o" / "results.jsonl").read_text())["faces"]
    assert f["box"] == _tight(f["landmarks"])
    assert np.allclose(f["detector_box"], [160, 200, 480, 520], atol=6)  # the square at 4x, in original pixels


def test_merge_report_gives_the_tight_box(tmp_path, fake_models):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        cv2.imwrite(str(src / f"p{i}.png"), squares_image([(40 + i, 40, 90), (220, 20, 30)]))
    out = tmp_path / "m.png"
    assert main(["merge", str(src), "--out", str(out), "--size", "64", "-q", "--method", "mean"]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    for entry in report["inputs"]:
        main_face = merge_job.main_face(_fakes().detect(cv2.imread(entry["image"])))
        assert main_face.detector_box[2] - main_face.detector_box[0] > 80  # the larger square
        assert entry["box"] == np.round(main_face.box, 2).tolist() == np.round(_tight(main_face.landmarks), 2).tolist()


def test_video_lines_give_the_tight_box(tmp_path):
    pytest.importorskip("av")
    from video_helpers import square_frames

    from facealign.jobs.video import VideoOptions, run_video

    frames = tmp_path / "frames"
    frames.mkdir()
    for i, img in enumerate(square_frames(12)):
        cv2.imwrite(str(frames / f"f{i:03d}.png"), img)
    opts = VideoOptions(input=str(frames), out=str(tmp_path / "v"), overlay=False,
                        extra={"aligner_factory": "worker_fakes:video_aligner"})
    assert run_video(opts, progress=False).error is None
    lines = [json.loads(line) for line in (tmp_path / "v" / "landmarks.jsonl").read_text().splitlines()]
    faces = [f for r in lines for f in r["faces"]]
    assert faces and all(f["box"] == _tight(f["landmarks"]) for f in faces)


def test_what_measures_the_detector_keeps_the_detectors_box():
    """Detection metrics (the detector with the landmark check) and the face-to-body rule (FACE_TO_BODY was
    measured on detector boxes) use ``detector_box``: their numbers do not move with the new ``box``."""
    from facealign.alignment.body_frames import body_box_from_face
    from facealign.body.people import person_boxes
    from facealign.evaluation.detector_eval import VerifiedDetector

    img = squares_image([(40, 50, 80)])
    vd = VerifiedDetector(BrightSquareDetector(), verify=0.4)
    vd.fa._landmarks = MeanShapeLandmarks()
    (f,) = vd.detect(img)
    np.testing.assert_array_equal(f.box, [40, 50, 119, 129])
    g = Face(box=np.array([40.0, 60, 119, 119]), score=0.9, detector_box=np.array([30.0, 50, 129, 149]))
    boxes, _, _, source = person_boxes((400, 400, 3), [g])
    assert source == "faces"
    np.testing.assert_allclose(boxes[0], body_box_from_face(g.detector_box, 0.0)[0])
    assert not np.allclose(boxes[0], body_box_from_face(g.box, 0.0)[0])


def test_face_json_writes_detector_box_only_when_there_is_one():
    f = Face(box=np.array([1.0, 2, 3, 4]), score=0.5)
    assert "detector_box" not in f.to_json()
    f.detector_box = np.array([0.5, 1, 3, 5])
    assert f.to_json()["detector_box"] == [0.5, 1.0, 3.0, 5.0]
