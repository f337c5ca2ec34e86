"""Metrics against hand-computed values, the CED, the evaluation loop and closed-loop consistency on fakes."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from facealign.alignment.points import five_from_68, tight_box
from facealign.alignment.templates import MEAN68
from facealign.evaluation.closed_loop import closed_loop_faces, template_reference
from facealign.evaluation.landmarks_eval import (
    dataset_metrics, evaluate_samples, gt_box, match_faces, read_predictions, score_predictions, write_predictions,
)
from facealign.data import Sample
from facealign.evaluation.metrics import (
    auc, ced, failure_rate, nme, nme_all, nme_batch, normaliser, per_bin, summarize,
)
from eval_fakes import BoxDetector, MarkerLandmarks, face_image, similarity

GT68 = MEAN68 * 100 + 200.0
GT5 = np.array([[0, 0], [10, 0], [5, 5], [2, 10], [8, 10]], dtype=float)


# ---- NME / AUC / FR / CED ------------------------------------------------------------------------------------

def test_nme_inter_ocular_68():
    io = np.linalg.norm(GT68[36] - GT68[45])
    assert nme(GT68 + [3.0, 4.0], GT68, "io") == pytest.approx(5.0 / io)


def test_nme_inter_pupil_68():
    e = five_from_68(GT68)
    ip = np.linalg.norm(e[0] - e[1])
    assert nme(GT68 + [0.0, 2.0], GT68, "ip") == pytest.approx(2.0 / ip)
    assert ip < np.linalg.norm(GT68[36] - GT68[45])  # pupils lie inside the outer corners


def test_nme_box_is_sqrt_of_tight_box_area():
    gt = GT68.copy()
    box = tight_box(gt)
    assert normaliser(gt, "box") == pytest.approx(np.sqrt((box[2] - box[0]) * (box[3] - box[1])))
    sq = np.zeros((68, 2))
    sq[0], sq[1] = [0, 0], [40, 90]  # tight box 40 x 90 -> sqrt = 60
    sq[2:] = [20, 45]
    assert normaliser(sq, "box") == pytest.approx(60.0)


def test_nme_five_points():
    pred = GT5 + [0.0, 1.0]
    r = nme_all(pred, GT5)
    assert r["io"] == pytest.approx(0.1) and r["ip"] == pytest.approx(0.1)  # eye centres 10 px apart
    assert r["box"] > 0


def test_nme_visibility_and_miss():
    pred = GT5.copy()
    pred[3] += [100, 0]
    assert nme(pred, GT5, "io", visible=np.array([1, 1, 1, 0, 1], bool)) == 0.0
    assert nme(None, GT5) == float("inf")


def test_nme_batch_is_the_per_face_nme():
    """The batched NME (training logs, video metrics) is the evaluation's io NME of each face."""
    rng = np.random.default_rng(0)
    gt68 = GT68 + rng.normal(0, 5, (3, 4, 68, 2))
    pred68 = gt68 + rng.normal(0, 2, gt68.shape)
    gt5 = GT5 + rng.normal(0, 1, (6, 5, 2))
    pred5 = gt5 + rng.normal(0, 0.5, gt5.shape)
    for pred, gt in ((pred68, gt68), (pred5, gt5)):
        got = nme_batch(pred, gt)
        assert got.shape == gt.shape[:-2]
        want = np.array([nme(p, g, "io") for p, g in zip(pred.reshape(-1, *gt.shape[-2:]), gt.reshape(-1, *gt.shape[-2:]))])
        assert np.allclose(got.ravel(), want, rtol=1e-12)


def test_auc_and_failure_rate_hand_computed():
    e = [0.0, 0.04, 0.08, np.inf]
    assert auc(e, 0.08) == pytest.approx((1 + 0.5 + 0 + 0) / 4)
    assert auc(e, 0.10) == pytest.approx((1 + 0.6 + 0.2 + 0) / 4)
    assert failure_rate(e, 0.08) == pytest.approx(0.25)  # 0.08 itself is not a failure (error > threshold)
    assert failure_rate([0.09, 0.11], 0.10) == pytest.approx(0.5)


def test_auc_equals_area_under_ced():
    rng = np.random.default_rng(0)
    e = rng.gamma(3.0, 0.015, 500)
    x, y = ced(e, 0.08, steps=20001)
    area = float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))) / 0.08
    assert auc(e, 0.08) == pytest.approx(area, abs=1e-3)


def test_ced_monotone_and_bounded():
    e = np.array([0.05, 0.01, 0.2, np.inf, 0.03])
    x, y = ced(e, 0.10)
    assert np.all(np.diff(y) >= 0) and y[0] == 0.0 and y[-1] == pytest.approx(3 / 5)
    assert x[0] == 0 and x[-1] == pytest.approx(0.10)


def test_summarize_and_bins():
    s = summarize([0.02, 0.04, np.inf])
    assert s["n"] == 3 and s["misses"] == 1 and s["nme"] == pytest.approx(0.03)
    assert s["fr@0.10"] == pytest.approx(1 / 3)
    b = per_bin([0.02, 0.04, 0.06], [3, 1, 3])
    assert list(b) == ["1", "3"] and b["3"]["nme"] == pytest.approx(0.04) and b["1"]["n"] == 1


def test_match_faces_iou_then_centre():
    gt = np.array([[0, 0, 100, 100], [200, 0, 300, 100]], float)
    det = np.array([[210, 5, 305, 98], [5, -20, 105, 110], [500, 500, 520, 520]], float)
    assert match_faces(gt, det) == [1, 0]
    assert match_faces(gt, np.zeros((0, 4))) == [None, None]
    # a peer's box in another convention (larger, shifted up) still matches by its centre
    assert match_faces(gt[:1], np.array([[-40, -60, 140, 120]], float)) == [0]


@pytest.fixture
def aligner():
    from facealign.pipeline import FaceAligner

    return FaceAligner(detector=BoxDetector([]), landmarks=MarkerLandmarks())


def test_marker_model_is_perfect(aligner):
    img, gt = face_image(similarity(0.9, 12, 40, 10))
    faces = aligner.landmarks_for_boxes(img, tight_box(gt)[None])
    assert np.abs(faces[0].landmarks - gt).max() < 0.05


@pytest.mark.parametrize("template", ["mean68", "arcface112"])
def test_closed_loop_perfect_model_is_zero(aligner, template):
    img, gt = face_image(similarity(1.1, -8, 0, 20))
    faces = aligner.landmarks_for_boxes(img, tight_box(gt)[None])
    (r,) = closed_loop_faces(aligner, img, faces, template=template, gt_eyes=[five_from_68(gt)[:2]])
    assert r["consistency"] < 2e-3
    if template == "mean68":  # the face IS the mean shape: it lands exactly on the template
        assert r["template"] < 2e-3 and r["eye"] < 2e-3
    else:  # the mean shape's 5 points do not fit ArcFace's exactly; still a well aligned crop
        assert r["template"] < 0.05 and r["eye"] < 0.05


def test_template_reference():
    ref = template_reference("mean68", 128)
    assert ref.points.shape == (68, 2) and ref.interocular > 0
    ref = template_reference("arcface112")
    assert ref.points.shape == (5, 2) and ref.interocular == pytest.approx(35.24, abs=0.01)
    assert template_reference("ffhq").points is None


# ---- the evaluation loop on a generated data set -------------------------------------------------------------

def _dataset(tmp_path):
    img, gt = face_image(similarity(1.0, 5, 10, 0))
    cv2.imwrite(str(tmp_path / "a.png"), img)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    s68 = Sample(image=tmp_path / "a.png", points=gt, schema="ibug68", id="a")
    s5 = Sample(image=tmp_path / "a.png", points=five_from_68(gt), schema="five", id="a#5", attributes={"pose": 3})
    bad = Sample(image=tmp_path / "bad.png", points=gt, schema="ibug68", id="bad")
    return [s68, s5, bad], gt


def test_evaluate_gt_boxes(tmp_path, aligner):
    samples, gt = _dataset(tmp_path)
    msgs = []
    res = evaluate_samples(aligner, samples, boxes="gt", progress=False, report=msgs.append, closed_loop=True,
                           template="mean68")
    assert [r.status for r in res] == ["ok", "ok", "unreadable"]
    assert len(msgs) == 1 and "bad.png" in msgs[0]
    assert res[0].errors["io"] < 1e-3 and res[1].errors["io"] < 1e-3
    m = dataset_metrics(res)
    assert m["n"] == 2 and m["unreadable"] == 1 and m["misses"] == 0 and m["auc@0.08"] > 0.98
    assert m["per_pose"]["3"]["n"] == 1
    assert m["closed_loop"]["consistency"] < 1e-2


def test_evaluate_detector_boxes_and_misses(tmp_path):
    from facealign.pipeline import FaceAligner

    samples, gt = _dataset(tmp_path)
    fa = FaceAligner(detector=BoxDetector([tight_box(gt) + 3]), landmarks=MarkerLandmarks())
    res = evaluate_samples(fa, samples[:1], boxes="detector", progress=False)
    assert res[0].status == "ok" and res[0].errors["io"] < 1e-3
    fa = FaceAligner(detector=BoxDetector([]), landmarks=MarkerLandmarks())
    res = evaluate_samples(fa, samples[:1], boxes="detector", progress=False)
    assert res[0].status == "miss" and np.isinf(res[0].errors["io"])
    m = dataset_metrics(res)
    assert m["misses"] == 1 and m["fr@0.10"] == 1.0 and m["auc@0.10"] == 0.0


def test_predictions_round_trip(tmp_path, aligner):
    samples, _ = _dataset(tmp_path)
    res = evaluate_samples(aligner, samples, progress=False, report=lambda m: None)
    p = write_predictions(res, tmp_path / "p.json", "fake", "gen", "gt")
    doc = read_predictions(p)
    assert doc["method"] == "fake" and len(doc["faces"]) == 3
    doc["faces"] = [f for f in doc["faces"] if f["id"] != "a#5"]  # a face without prediction is a miss
    again = score_predictions(samples, doc)
    assert [r.status for r in again] == ["ok", "miss", "unreadable"]
    assert again[0].errors["io"] == pytest.approx(res[0].errors["io"], abs=1e-3)
    assert json.loads(p.read_text())["format"].startswith("facealign-landmarks-predictions")


def test_gt_box_rules():
    s = Sample(image="x.jpg", points=GT68, schema="ibug68")
    np.testing.assert_allclose(gt_box(s), tight_box(GT68))
    s5 = Sample(image="x.jpg", points=five_from_68(GT68), schema="five")
    b = gt_box(s5)  # box_from_five of the mean shape's own 5 points gives back (nearly) its tight box
    np.testing.assert_allclose(b, tight_box(GT68), atol=1.0)
