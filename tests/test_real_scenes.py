"""Real-scene training data on generated inputs (no data files): hard negatives, crowd scenes, degradation, the
training batch mix and the self-labelling helpers."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from facealign.data import crowd_scenes as cs
from facealign.data import hard_negatives as hn
from facealign.data.scenes import Scene
from facealign.data.synthetic import synthetic_split

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", sorted(hn.RENDERERS))
def test_renderers_give_image_and_alpha_of_the_asked_height(kind):
    rng = np.random.default_rng(3)
    for height in (8, 20, 60):
        rgb, a = hn.RENDERERS[kind](rng, height)
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
        assert a.dtype == np.float32 and a.shape == rgb.shape[:2]
        assert 0.0 <= a.min() and a.max() <= 1.0 and a.max() > 0.5  # something is drawn
        assert 0.5 * height <= rgb.shape[0] <= 3 * height + 12


def test_text_draws_single_face_like_characters_often():
    rng = np.random.default_rng(0)
    texts = [hn.random_text(rng) for _ in range(400)]
    singles = [t for t in texts if len(t) == 1]
    assert len(singles) > 80 and all(t in hn.FACE_LIKE_CHARS for t in singles)


def test_render_negative_hands_and_rotation():
    rng = np.random.default_rng(1)
    hand = np.full((30, 24, 3), 150, np.uint8)
    kinds = set()
    for _ in range(200):
        rgb, a, kind = hn.render_negative(rng, 24, [hand])
        assert rgb.shape[:2] == a.shape
        kinds.add(kind)
    assert kinds == set(hn.WEIGHTS)
    # without hands the hand kind is never drawn
    assert all(hn.render_negative(rng, 16, None)[2] != "hand" for _ in range(100))


def test_paste_negatives_keeps_taken_boxes_clear():
    rng = np.random.default_rng(2)
    img = np.zeros((200, 200, 3), np.uint8)
    taken = np.array([[50, 50, 100, 100], [120, 20, 160, 60]], np.float32)
    pasted = hn.paste_negatives(rng, img, taken, 30, None, (8, 60))
    assert pasted  # something went in
    for b in taken:
        g = 0.2 * (b[2] - b[0])
        y0, y1, x0, x1 = int(b[1] - g) + 1, int(b[3] + g) - 1, int(b[0] - g) + 1, int(b[2] + g) - 1
        assert img[y0:y1, x0:x1].max() == 0
    for _, (x0, y0, x1, y1) in pasted:
        assert 0 <= x0 < x1 <= 200 and 0 <= y0 < y1 <= 200


def test_shrink_uses_every_kernel_and_degrade_keeps_shape():
    rng = np.random.default_rng(4)
    img = (np.random.default_rng(0).random((90, 120, 3)) * 255).astype(np.uint8)
    names = set()
    for _ in range(80):
        out, name = cs.shrink(rng, img, 40, 30)
        assert out.shape == (30, 40, 3) and out.dtype == np.uint8
        names.add(name)
    assert names == {"area", "gauss+linear", "gauss+nearest", "cubic", "lanczos"}
    assert cs.shrink(rng, img, 120, 90)[1] == "linear"  # no shrink: plain resize
    for _ in range(20):
        d = cs.degrade(rng, img)
        assert d.shape == img.shape and d.dtype == np.uint8
    # low JPEG quality loses more than high quality
    e_lo = np.abs(cs.jpeg(img, 10).astype(int) - img).mean()
    e_hi = np.abs(cs.jpeg(img, 95).astype(int) - img).mean()
    assert e_lo > e_hi


def _check_scene(sc: Scene, size: int, min_face: float):
    assert sc.image.shape == (size, size, 3) and sc.image.dtype == np.uint8
    assert sc.boxes.shape[1:] == (4,) and sc.kps.shape == (len(sc.boxes), 5, 2) and sc.ignore.shape[1:] == (4,)
    w = np.maximum(sc.boxes[:, 2] - sc.boxes[:, 0], sc.boxes[:, 3] - sc.boxes[:, 1])
    assert np.all(w >= min_face)
    assert np.all(sc.boxes[:, 2] > sc.boxes[:, 0]) and np.all(sc.boxes[:, 3] > sc.boxes[:, 1])
    # the 5 points lie in their (slightly grown) box
    g = 0.25 * w[:, None]
    assert np.all(sc.kps[..., 0] >= sc.boxes[:, :1] - g) and np.all(sc.kps[..., 0] <= sc.boxes[:, 2:3] + g)
    assert np.all(sc.kps[..., 1] >= sc.boxes[:, 1:2] - g) and np.all(sc.kps[..., 1] <= sc.boxes[:, 3:4] + g)
    # visible faces are mostly on the canvas
    assert np.all(sc.boxes[:, :2] > -0.5 * w[:, None]) and np.all(sc.boxes[:, 2:] < size + 0.5 * w[:, None])


def test_crowd_scenes_are_dense_small_and_valid():
    faces, negs = synthetic_split(12)
    rng = np.random.default_rng(5)
    p = cs.CrowdParams(size=160, min_face=8.0)
    n_faces, n_ignore, widths = 0, 0, []
    for _ in range(12):
        sc = cs.compose_crowd_scene(rng, faces, negs, p, hands=[np.full((20, 16, 3), 120, np.uint8)])
        _check_scene(sc, 160, 8.0)
        n_faces += len(sc.boxes)
        n_ignore += len(sc.ignore)
        widths += list(sc.boxes[:, 2] - sc.boxes[:, 0])
    assert n_faces >= 12 * 5  # rows of people, not one face a cell
    assert n_ignore > 0  # hidden or too small faces are ignore regions
    assert np.median(widths) < 40  # mostly small faces


def test_crowd_scene_is_reproducible_and_face_p_is_used():
    faces, negs = synthetic_split(6)
    a = cs.compose_crowd_scene(np.random.default_rng(9), faces, negs, cs.CrowdParams(size=128))
    b = cs.compose_crowd_scene(np.random.default_rng(9), faces, negs, cs.CrowdParams(size=128))
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    # all the weight on one record: the scene still composes (sampling goes through face_p)
    face_p = np.zeros(len(faces))
    face_p[0] = 1.0
    _check_scene(cs.compose_crowd_scene(np.random.default_rng(1), faces, negs, cs.CrowdParams(size=128), face_p=face_p),
                 128, 10.0)


def test_front_person_hides_the_face_behind():
    faces, _ = synthetic_split(2)
    S = 200
    canvas = np.zeros((S, S, 3), np.uint8)
    owner = np.full((S, S), -1, np.int32)
    rng = np.random.default_rng(0)
    p = cs.CrowdParams(size=S, p_badge=0.0)
    back = cs._paste_person(rng, canvas, owner, 0, faces[0], 40.0, np.array([100.0, 80.0]), 0.0, p, 1.0)
    box = cs.tight_box(back.pts68).astype(int)
    assert (owner[box[1]:box[3], box[0]:box[2]] == 0).mean() > 0.9
    cs._paste_person(rng, canvas, owner, 1, faces[1], 44.0, np.array([100.0, 95.0]), 0.0, p, 1.0)
    assert (owner[box[1]:box[3], box[0]:box[2]] == 0).mean() < 0.5


def test_add_negatives_keeps_labels_and_faces():
    faces, negs = synthetic_split(4)
    from facealign.data.scenes import SceneParams, compose_scene

    rng = np.random.default_rng(6)
    sc = compose_scene(rng, faces, negs, SceneParams(size=160))
    out = cs.add_negatives_and_degrade(rng, sc, None, (3, 6), p_degrade=0.0)
    np.testing.assert_array_equal(out.boxes, sc.boxes)
    np.testing.assert_array_equal(out.kps, sc.kps)
    for b in sc.boxes:  # face pixels untouched (no degradation asked)
        x0, y0, x1, y1 = np.clip(np.round(b).astype(int), 0, 160)
        np.testing.assert_array_equal(out.image[y0:y1, x0:x1], sc.image[y0:y1, x0:x1])


def test_yaw_proxy_and_profile_weights():
    frontal = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], np.float64)
    turned = frontal.copy()
    turned[2, 0] = 72
    assert cs.yaw_proxy(frontal) == pytest.approx(0.0)
    assert cs.yaw_proxy(turned) > 0.5
    faces, _ = synthetic_split(4)
    faces[0].p5 = turned.astype(np.float32)
    w = cs.profile_weights(faces, boost=3.0)
    assert w.sum() == pytest.approx(1.0) and w[0] == pytest.approx(3 * w[1])


def test_training_batch_mixes_crowds_and_hard_negatives():
    torch = pytest.importorskip("torch")
    from facealign.training.detection.config import DetectorConfig
    from facealign.training.detection.train import Extras, make_batch, val_hard_scenes

    faces, negs = synthetic_split(8)
    cfg = DetectorConfig(canvas=128, batch=4, crowd_fraction=0.5, hard_negative_p=1.0, val_canvas=128,
                         val_hard_scenes=3, synthetic=True)
    x, lab, tb, tk = make_batch(np.random.default_rng(0), faces, negs, cfg, Extras(hands=[negs[0][:20, :16]]))
    assert x.shape == (4, 128, 128, 3) and x.dtype == torch.uint8
    assert lab.shape[0] == 4 and tb.shape[:2] == lab.shape and tk.shape[:2] == lab.shape
    hard = val_hard_scenes(negs, cfg)
    assert len(hard) == 3 and all(len(s.boxes) == 0 for s in hard)


def _self_label_module():
    spec = importlib.util.spec_from_file_location("self_label_faces", ROOT / "scripts" / "self_label_faces.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_self_label_negatives_avoid_heads_and_candidates():
    sl = _self_label_module()
    rng = np.random.default_rng(0)
    img = (np.random.default_rng(1).random((200, 300, 3)) * 255).astype(np.uint8)
    blocked = [np.array([100.0, 50.0, 160.0, 120.0])]
    hands, negs = sl.negatives_from(rng, img, blocked, [(np.array([130.0, 80.0]), 30.0), (np.array([40.0, 160.0]), 30.0)],
                                    n_random=20)
    assert len(hands) == 1  # the hand inside the blocked box is dropped
    assert negs and all(n.shape[0] >= 24 for n in negs)
    hb = sl.head_box(np.array([[0, 0]] * 12 + [[50, 60], [50, 40]], np.float64), np.ones(14, bool))
    assert hb[0] < 50 < hb[2] and hb[1] < 40 and hb[3] > 60


def test_self_label_records_skip_crops_with_unlabelled_faces():
    sl = _self_label_module()
    faces, _ = synthetic_split(1)
    img = np.zeros((300, 300, 3), np.uint8)
    pts = faces[0].pts68.astype(np.float64) + 100  # a face of 40 px at (128..168)
    labels = [(pts, 0.9, 0.7)]
    own = [sl.tight_box(pts)]
    assert len(sl.records_from(img, labels, own, [], "t")) == 1
    # a fragment centred on the face is the same face
    frag = own[0] + np.array([5, 5, -5, -5])
    assert len(sl.records_from(img, labels, own + [frag], [], "t")) == 1
    # another candidate inside the crop (face box grown by its size): skipped
    other = np.array([190.0, 130.0, 215.0, 155.0])
    assert sl.records_from(img, labels, own + [other], [], "t") == []
    # an unlabelled head inside the crop: skipped
    assert sl.records_from(img, labels, own, [np.array([80.0, 70.0, 110.0, 100.0])], "t") == []


def test_people_cut_by_the_canvas_edges_paste_cleanly():
    # faces above, left of, right of and below the canvas (their shoulders partly or wholly off it)
    faces, _ = synthetic_split(2)
    S = 120
    rng = np.random.default_rng(0)
    p = cs.CrowdParams(size=S)
    for c in ([60.0, -30.0], [60.0, -70.0], [-40.0, 60.0], [170.0, 60.0], [60.0, 150.0], [60.0, 125.0]):
        canvas = np.zeros((S, S, 3), np.uint8)
        owner = np.full((S, S), -1, np.int32)
        cs._paste_person(rng, canvas, owner, 0, faces[0], 40.0, np.array(c), 0.0, p, 1.0)
