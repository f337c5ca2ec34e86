"""The batch job: JSON contract, bad inputs in a batch, exit codes, atomic outputs and resume (fake models)."""
import json

import cv2
import numpy as np
import pytest

from facealign.cli.main import main
from facealign.jobs import photo
from facealign.io.results import read_results
from facealign.pipeline import FaceAligner

from helpers import BrightSquareDetector, MeanShapeLandmarks, squares_image


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    monkeypatch.setattr(
        photo, "batch_aligner", lambda opts: FaceAligner(BrightSquareDetector(), False if opts.fast else MeanShapeLandmarks())
    )


@pytest.fixture
def photos(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    cv2.imwrite(str(d / "two.png"), squares_image([(20, 30, 60), (150, 40, 80)]))
    cv2.imwrite(str(d / "none.jpg"), squares_image([]))
    (d / "empty.jpg").write_bytes(b"")
    (d / "text.png").write_bytes(b"not an image at all")
    ok, buf = cv2.imencode(".jpg", squares_image([(10, 10, 50)]))
    (d / "trunc.jpg").write_bytes(buf.tobytes()[: len(buf) // 3])
    return d


def _run(*args):
    return main([str(a) for a in args])


def test_results_contract_and_exit_status(photos, tmp_path, capsys):
    out = tmp_path / "out"
    missing = tmp_path / "missing.jpg"
    code = _run("align", photos, missing, "--out", out, "--quiet")
    assert code == 1
    err = capsys.readouterr().err
    assert "4 of 6 inputs failed" in err and f"{missing}: file not found" in err
    recs = read_results(out / "results.jsonl")
    assert [r["image"] for r in recs] == sorted(str(p) for p in photos.iterdir()) + [str(missing)]
    by = {r["image"].rsplit("/", 1)[-1]: r for r in recs}
    assert by["two.png"]["error"] is None and (by["two.png"]["width"], by["two.png"]["height"]) == (300, 200)
    faces = by["two.png"]["faces"]
    assert len(faces) == 2
    for f in faces:
        assert set(f) >= {"box", "score", "landmarks", "landmarks5", "crop"}
        assert len(f["landmarks"]) == 68 and len(f["landmarks5"]) == 5 and len(f["box"]) == 4
        crop = cv2.imread(str(out / f["crop"]))
        assert crop.shape == (112, 112, 3)
    assert by["none.jpg"] == {**by["none.jpg"], "error": None, "faces": []}
    assert "empty" in by["empty.jpg"]["error"]
    assert "not an image" in by["text.png"]["error"]
    assert "truncated" in by["trunc.jpg"]["error"] or "corrupt" in by["trunc.jpg"]["error"]
    assert len(list((out / "overlays").glob("two_*.jpg"))) == 1  # stem + hash of the path: unique per input
    assert not list(out.rglob("*.tmp"))


def test_all_good_inputs_exit_zero(photos, tmp_path):
    assert _run("align", photos / "two.png", photos / "none.jpg", "--out", tmp_path / "o", "-q") == 0


def test_folder_without_images_is_an_error_line(tmp_path, capsys):
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    assert _run("align", empty, "--out", tmp_path / "o", "-q") == 1
    rec = read_results(tmp_path / "o" / "results.jsonl")
    assert rec[0]["error"] == "folder contains no images"


def test_bad_arguments_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        _run("align", tmp_path, "--out", tmp_path / "o", "--template", "nope")
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        _run("align", tmp_path)  # --out missing
    assert e.value.code == 2
    bad = tmp_path / "boxes.json"
    bad.write_text("{not json")
    with pytest.raises(SystemExit) as e:
        _run("align", tmp_path, "--out", tmp_path / "o", "--boxes", bad)
    assert e.value.code == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_boxes_file_skips_detection(photos, tmp_path):
    img = str(photos / "none.jpg")
    boxes = tmp_path / "b.json"
    boxes.write_text(json.dumps({img: [[10, 20, 110, 120]]}))
    assert _run("align", img, "--out", tmp_path / "o", "--boxes", boxes, "-q") == 0
    (rec,) = read_results(tmp_path / "o" / "results.jsonl")
    lm = np.array(rec["faces"][0]["landmarks"])
    # the reported box is the tight box of the 68 points (docs/conventions.md), not an echo of the given box
    assert rec["faces"][0]["box"] == [*lm.min(0), *lm.max(0)] and "detector_box" not in rec["faces"][0]
    # the fake model puts the mean face (width = box width, centred) into the given box
    assert np.allclose([lm[:, 0].min(), lm[:, 0].max()], [10, 110], atol=0.02)
    assert np.isclose((lm[:, 1].min() + lm[:, 1].max()) / 2, 70, atol=0.02)


def test_boxes_file_without_entry_is_an_error(photos, tmp_path):
    boxes = tmp_path / "b.json"
    boxes.write_text("{}")
    assert _run("align", photos / "two.png", "--out", tmp_path / "o", "--boxes", boxes, "-q") == 1


def test_resume_skips_done_inputs_and_cuts_a_partial_line(photos, tmp_path):
    out = tmp_path / "out"
    good = [photos / "two.png", photos / "none.jpg"]
    assert _run("align", good[0], "--out", out, "-q") == 0
    with open(out / "results.jsonl", "ab") as f:
        f.write(b'{"image": "half-writ')  # a crash in the middle of a line
    calls = []
    orig = photo.ImageJob.__call__
    photo.ImageJob.__call__ = lambda self, item: calls.append(item.path) or orig(self, item)
    try:
        assert _run("align", *good, "--out", out, "-q", "--resume") == 0
    finally:
        photo.ImageJob.__call__ = orig
    assert calls == [str(good[1])]
    recs = read_results(out / "results.jsonl")
    assert [r["image"] for r in recs] == [str(p) for p in good]
    assert (out / "results.jsonl").read_bytes().endswith(b"\n")


def test_without_resume_the_output_starts_fresh(photos, tmp_path):
    out = tmp_path / "out"
    _run("align", photos / "two.png", "--out", out, "-q")
    _run("align", photos / "two.png", "--out", out, "-q")
    assert len(read_results(out / "results.jsonl")) == 1


def test_fast_mode_and_templates(photos, tmp_path):
    # fast mode has only the detector's 5 points; the fake detector has none, so crops need 68 points: no crash
    for t, size in [("ffhq", 64), ("mean68", 96), ("mean68_affine", 96)]:
        assert _run("align", photos / "two.png", "--out", tmp_path / t, "--template", t, "--size", size, "-q") == 0
        rec = read_results(tmp_path / t / "results.jsonl")[0]
        assert cv2.imread(str(tmp_path / t / rec["faces"][0]["crop"])).shape == (size, size, 3)


def test_transform_maps_landmarks_into_the_crop(photos, tmp_path):
    _run("align", photos / "two.png", "--out", tmp_path / "o", "-q")
    f = read_results(tmp_path / "o" / "results.jsonl")[0]["faces"][0]
    m = np.array(f["transform"])
    p5 = np.array(f["landmarks5"]) @ m[:, :2].T + m[:, 2]
    from facealign.alignment.templates import ARCFACE112

    assert np.abs(p5 - ARCFACE112).max() < 3  # the mean face fits the ArcFace template closely


def test_fast_mode_rejects_templates_that_need_68_points(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        _run("align", tmp_path, "--out", tmp_path / "o", "--fast", "--template", "mean68")
    assert e.value.code == 2 and "needs the 68 landmarks" in capsys.readouterr().err


def test_resume_retries_failed_inputs_and_keeps_one_line_per_input_in_order(photos, tmp_path):
    out = tmp_path / "out"
    late = tmp_path / "late.png"  # missing on the first run, present on the resume
    inputs = [photos / "two.png", late, photos / "none.jpg"]
    assert _run("align", *inputs, "--out", out, "-q") == 1
    cv2.imwrite(str(late), squares_image([(40, 40, 70)]))
    assert _run("align", *inputs, "--out", out, "-q", "--resume") == 0
    recs = read_results(out / "results.jsonl")
    assert [r["image"] for r in recs] == [str(p) for p in inputs]
    assert all(r["error"] is None for r in recs) and len(recs[1]["faces"]) == 1


def test_detections_with_low_landmark_confidence_are_dropped():
    class Unsure(MeanShapeLandmarks):
        def predict(self, image, boxes, angles=None):
            lm, sc = super().predict(image, boxes, angles)
            sc[1:] = 0.1  # every face but the first looks like clutter to the landmark network
            return lm, sc

    img = squares_image([(20, 30, 60), (150, 40, 80)])
    assert len(FaceAligner(BrightSquareDetector(), Unsure()).detect(img)) == 1
    assert len(FaceAligner(BrightSquareDetector(), Unsure(), verify=0).detect(img)) == 2
    # given boxes are never dropped
    assert len(FaceAligner(BrightSquareDetector(), Unsure()).landmarks_for_boxes(img, [[0, 0, 50, 50]] * 2)) == 2
