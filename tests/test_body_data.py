"""Body data readers, the person crop rule, the body frames and the PCK metrics (no shared data needed, except the
last test, which skips without it)."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from facealign.alignment.body_frames import body_box_from_face, frame_size, full_body_transform, upper_body_transform
from facealign.alignment.body_points import FLIP, JOINTS, body_crop_transform, flip_joints, joints_box
from facealign.alignment.crop import warp_crop
from facealign.alignment.transforms import apply, invert
from facealign.data.body import read_buffy, read_joints
from facealign.evaluation.body_metrics import pck_table


def _joints_json(tmp_path, images):
    doc = {"joints": list(JOINTS), "images": images}
    p = tmp_path / "joints.json"
    p.write_text(json.dumps(doc))
    return p


def test_read_joints_lsp_order_and_visibility(tmp_path):
    pts = [[float(i), float(2 * i), i % 2] for i in range(14)]
    recs = read_joints(_joints_json(tmp_path, {"im0002.jpg": pts, "im0001.jpg": pts}))
    assert [r.path.name for r in recs] == ["im0001.jpg", "im0002.jpg"]
    assert recs[0].joints.shape == (14, 2) and recs[0].joints[3].tolist() == [3.0, 6.0]
    assert recs[0].mask.all()
    assert recs[0].visible.tolist() == [bool(i % 2) for i in range(14)]


def test_read_joints_refuses_other_order(tmp_path):
    p = tmp_path / "joints.json"
    p.write_text(json.dumps({"joints": list(reversed(JOINTS)), "images": {}}))
    with pytest.raises(ValueError, match="LSP order"):
        read_joints(p)


def test_read_buffy_masks_missing_and_uncertain(tmp_path):
    names = ["head_top", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
             "left_wrist"]
    kp = [[10.0 + i, 20.0 + i, 1] for i in range(8)]
    doc = {"joints": names, "images": {"buffy_s5e2_000001.jpg": [
        {"keypoints": kp, "uncertain": ["left_elbow"], "mid_hip": [5.0, 90.0], "sticks": {}}]}}
    p = tmp_path / "upper_body.json"
    p.write_text(json.dumps(doc))
    (r,) = read_buffy(p)
    for i, n in enumerate(names):
        assert r.joints[JOINTS.index(n)].tolist() == kp[i][:2]
    labelled = {JOINTS[j] for j in np.flatnonzero(r.mask)}
    assert labelled == set(names) - {"left_elbow"}
    assert r.extra["mid_hip"].tolist() == [5.0, 90.0]


def test_flip_swaps_left_and_right():
    j = np.arange(28, dtype=float).reshape(14, 2)
    f = flip_joints(j, 100)
    assert np.allclose(f[0], [99 - j[5, 0], j[5, 1]])  # the right ankle becomes the mirrored left ankle
    assert np.allclose(flip_joints(f, 100), j)
    assert (FLIP[FLIP] == np.arange(14)).all()


def test_person_crop_round_trip():
    """A dot at a joint lands where the crop transform puts it, and the inverse brings it back."""
    img = np.zeros((300, 200, 3), np.uint8)
    p = np.array([123.0, 201.0])
    cv2.circle(img, (123, 201), 3, (255, 255, 255), -1)
    box = np.array([40.0, 30.0, 170.0, 280.0])
    m = body_crop_transform(box, 128, angle=20.0)
    crop = warp_crop(img, m, 128)
    q = apply(m, p)
    ys, xs = np.nonzero(crop[..., 0] > 100)
    assert np.hypot(xs.mean() - q[0], ys.mean() - q[1]) < 0.5
    assert np.allclose(apply(invert(m), q), p)


def test_frames_put_joints_on_their_template():
    j = np.zeros((14, 2))
    j[[8, 9]] = [[60, 100], [140, 100]]  # shoulders
    j[[2, 3]] = [[75, 220], [125, 220]]  # hips
    j[[0, 5]] = [[80, 380], [120, 380]]  # ankles
    j[12], j[13] = [100, 90], [100, 40]
    w, h = frame_size("full_body")
    m = full_body_transform(j)
    mids = apply(m, np.stack([j[[8, 9]].mean(0), j[[2, 3]].mean(0), j[[0, 5]].mean(0)]))
    assert np.allclose(mids[:, 0], (w - 1) / 2, atol=1e-6)  # upright and centred
    assert mids[0, 1] < mids[1, 1] < mids[2, 1] < h
    mu = upper_body_transform(j, eyes=np.array([[90.0, 55.0], [110.0, 55.0]]))
    up = apply(mu, j[[8, 9]])
    assert up[0, 0] < up[1, 0] and abs(up[0, 1] - up[1, 1]) < 1e-6  # shoulders level, subject's right on the left
    assert np.allclose(apply(invert(mu), up), j[[8, 9]])


def test_body_box_hangs_below_the_face():
    box, angle = body_box_from_face(np.array([90.0, 40.0, 110.0, 60.0]), roll=0.0)
    assert angle == 0.0
    assert box[1] < 40 and box[3] > 200  # from above the head down to the feet, in face sizes
    assert abs((box[0] + box[2]) / 2 - 100) < 1e-6
    tilted, a = body_box_from_face(np.array([90.0, 40.0, 110.0, 60.0]), roll=40.0)
    assert 0 < a < 40 and (tilted[0] + tilted[2]) / 2 < 100  # turned clockwise: the body swings to the image left


def test_pck_on_known_points():
    gt = np.zeros((2, 14, 2))
    gt[:, 8] = [0, 0]  # right shoulder
    gt[:, 3] = [0, 100]  # left hip: torso diameter 100
    gt[:, 12], gt[:, 13] = [0, 10], [0, -30]  # head size 40
    pred = gt.copy()
    pred[0, 0] += [19, 0]  # within 0.2 x 100
    pred[0, 1] += [21, 0]  # not
    pred[1] = np.nan  # a miss: every joint wrong
    total, per = pck_table(pred, gt, alpha=0.2, kind="pck")
    assert per[0] == 0.5 and per[1] == 0.0 and per[2] == 0.5
    assert total == pytest.approx(13 / 28)
    mask = np.ones((2, 14), bool)
    mask[:, 1] = False
    _, per = pck_table(pred, gt, mask, 0.5, "pckh")
    assert np.isnan(per[1]) and per[0] == 0.5  # 19 px < 0.5 x 40
    assert joints_box(gt[0]).tolist() == [0.0, -30.0, 0.0, 100.0]


def test_real_sets_split_and_labels():
    from conftest import need_data
    from facealign.data.body import read_set

    root = need_data("body").parent
    train, val = read_set("lsp_train", root), read_set("lsp_val", root)
    assert len(train) == 800 and len(val) == 200
    assert not {r.path.name for r in train} & {r.path.name for r in val}
    b_train, b_val = read_set("buffy_train", root), read_set("buffy_val", root)
    assert all("_s5e2_" in r.path.name for r in b_val) and not any("_s5e2_" in r.path.name for r in b_train)
    assert all(r.mask.sum() <= 8 and not r.mask[:6].any() for r in b_val)
