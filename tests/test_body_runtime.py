"""The shipped body model through the registry (output contract, determinism, its crop rule), BodyAligner, and the
JSON contract of `facealign body` on a generated photo with --boxes (no shared data needed)."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from facealign.alignment.body_points import BODY_CROP_SCALE, body_crop_transform, decode_heatmaps, heatmap_probs
from facealign.alignment.crop import warp_crop
from facealign.alignment.transforms import apply
from facealign.runtime import registry
from facealign.stages import build_model


def person_photo() -> np.ndarray:
    img = np.full((240, 160, 3), 90, np.uint8)
    cv2.circle(img, (80, 40), 16, (150, 170, 210), -1)  # head
    cv2.rectangle(img, (60, 60), (100, 140), (40, 60, 160), -1)  # torso
    for a, b in (((62, 140), (55, 225)), ((98, 140), (105, 225)), ((60, 65), (35, 130)), ((100, 65), (125, 130))):
        cv2.line(img, a, b, (60, 50, 40), 8)
    return img


@pytest.mark.parametrize("spec", registry.list_models("body"), ids=lambda s: s.name)
def test_registered_body_model_contract(spec):
    model = build_model(spec.name, "body")
    assert model.size == spec.input_size
    assert model.crop_scale == spec.options.get("crop_scale", BODY_CROP_SCALE)
    img = person_photo()
    boxes = np.array([[40.0, 10.0, 120.0, 235.0], [0.0, 0.0, 159.0, 239.0]])
    joints, scores = model.predict(img, boxes)
    assert joints.shape == (2, 14, 2) and scores.shape == (2, 14)
    assert np.isfinite(joints).all() and ((scores >= 0) & (scores <= 1)).all()
    again, _ = model.predict(img, boxes)
    assert np.array_equal(joints, again)
    # its crop rule: the crops are the shared warp of body_crop_transform, and joints map back through it
    crops, mats = model.crops(img, boxes)
    m = body_crop_transform(boxes[0], spec.input_size, 0.0, model.crop_scale)
    assert np.allclose(mats[0], m) and np.array_equal(crops[0], warp_crop(img, m, spec.input_size))
    raw, hm = model.session.run(["keypoints", "heatmaps"], {model.input_name: crops})
    assert hm.shape == (2, 14, spec.input_size // 4, spec.input_size // 4)
    # decoded from the heatmaps within DECODE_WINDOW cells of the peak; with the whole map, the graph's own joints
    assert np.allclose(apply(m, joints[0]), decode_heatmaps(heatmap_probs(hm), model.window)[0], atol=1e-3)
    whole = build_model(spec.name, "body", window=0)
    assert np.allclose(apply(m, whole.predict(img, boxes)[0][0]), raw[0], atol=1e-3)
    empty_j, empty_s = model.predict(img, np.zeros((0, 4)))
    assert empty_j.shape == (0, 14, 2) and empty_s.shape == (0, 14)


def test_body_aligner_boxes_and_frames():
    from facealign.body_pipeline import BodyAligner

    ba = BodyAligner(faces=False)
    img = person_photo()
    faces, bodies = ba.detect(img, boxes=np.array([[40.0, 10.0, 120.0, 235.0]]))
    assert faces == [] and len(bodies) == 1 and bodies[0].face is None
    (crops,) = ba.align(img, bodies, faces)
    up = crops["upper_body"]
    assert up.image.shape == (256, 256, 3)
    assert np.allclose(apply(up.inverse, apply(up.transform, bodies[0].keypoints)), bodies[0].keypoints, atol=1e-6)
    assert crops["full_body"] is None or crops["full_body"].image.shape == (512, 256, 3)


def test_body_command_json_contract(tmp_path):
    from facealign.cli.main import main

    photo = tmp_path / "person.png"
    cv2.imwrite(str(photo), person_photo())
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({str(photo): [[40, 10, 120, 235]], str(bad): [[0, 0, 5, 5]]}))
    out = tmp_path / "out"
    code = main(["body", str(photo), str(bad), "--out", str(out), "--boxes", str(boxes), "--quiet"])
    assert code == 1  # one input failed, the batch went on
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [x["image"] for x in lines] == [str(photo), str(bad)]
    rec, err = lines
    assert set(rec) == {"image", "width", "height", "error", "bodies"}
    assert (rec["width"], rec["height"], rec["error"]) == (160, 240, None)
    assert err["error"] and err["bodies"] == []
    (body,) = rec["bodies"]
    assert set(body) == {"box", "score", "keypoints", "face", "crops", "transforms"}
    # the box the joints were last found in: the given box, or the refined box of its joints (docs/body.md)
    x1, y1, x2, y2 = body["box"]
    assert x2 > x1 and y2 > y1
    assert len(body["keypoints"]) == 14 and all(len(k) == 3 for k in body["keypoints"])
    assert set(body["crops"]) == {"upper_body", "full_body"} == set(body["transforms"])
    assert (out / body["crops"]["upper_body"]).is_file()
    assert np.array(body["transforms"]["upper_body"]).shape == (2, 3)
    assert len(list((out / "overlays").glob("person*.jpg"))) == 1
    # resume: the done input is skipped, the failed one retried, one line per input in order
    code = main(["body", str(photo), str(bad), "--out", str(out), "--boxes", str(boxes), "--quiet", "--resume"])
    again = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert code == 1 and [x["image"] for x in again] == [str(photo), str(bad)] and again[0] == rec
