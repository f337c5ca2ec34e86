"""The landmark runtime (ONNXLandmarks) on the shipped model: shapes, batching, geometry, accuracy on real faces."""
from __future__ import annotations

import numpy as np
import pytest

from facealign.alignment.points import tight_box
from facealign.alignment.templates import MEAN68
from facealign.runtime import registry
from facealign.samples import sample_path

SPEC = registry.get("stfan-lmk-112")


@pytest.fixture(scope="module")
def model():
    from facealign.stages import build_model

    return build_model("stfan-lmk-112", "landmarks", threads=1)


def face_image(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    pts = MEAN68 * 100 + [100, 70]
    return img, tight_box(pts)


def test_shapes_types_and_empty(model):
    img, box = face_image()
    lm, sc = model.predict(img, box[None])
    assert lm.shape == (1, 68, 2) and sc.shape == (1, 68)
    assert np.isfinite(lm).all() and ((sc >= 0) & (sc <= 1)).all()
    lm0, sc0 = model.predict(img, np.zeros((0, 4)))
    assert lm0.shape == (0, 68, 2) and sc0.shape == (0, 68)


def test_batch_equals_single_and_is_deterministic(model):
    img, box = face_image(1)
    boxes = np.stack([box, box + [30, 10, 30, 10], box * 0.8])
    lm, sc = model.predict(img, boxes)
    for i in range(3):
        one, s1 = model.predict(img, boxes[i : i + 1])
        assert np.allclose(one[0], lm[i], atol=1e-3) and np.allclose(s1[0], sc[i], atol=1e-4)
    again, _ = model.predict(img, boxes)
    assert np.array_equal(again, lm)


def test_points_follow_the_image(model):
    """Shifting the image and its box by whole pixels shifts the points by as much (inverse mapping is right)."""
    img, box = face_image(2)
    lm, _ = model.predict(img, box[None])
    big = np.zeros((300, 400, 3), np.uint8)
    big[17 : 17 + 240, 41 : 41 + 320] = img
    lm2, _ = model.predict(big, (box + [41, 17, 41, 17])[None])
    assert np.abs(lm2 - lm - [41, 17]).max() < 0.05


def test_rotated_crop_is_upright_and_maps_back(model):
    """A face rotated by +30 degrees, cropped with angle=30, gives the upright crop; points map back through it."""
    import cv2

    from facealign.alignment.transforms import apply

    img, box = face_image(3)
    img = cv2.GaussianBlur(img, (0, 0), 3)  # smooth content: two resamplings then agree closely
    c = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    r = cv2.getRotationMatrix2D(c, -30, 1.0)  # turns the content clockwise on screen: a roll of +30
    rot = cv2.warpAffine(img, r, (img.shape[1], img.shape[0]))
    up, _ = model.crops(img, box[None])
    up = up.astype(float)
    crops, mats = model.crops(rot, box[None], angles=np.array([30.0]))
    assert np.abs(crops[0].astype(float) - up[0])[16:96, 16:96].mean() < 2.0
    lm, _ = model.predict(rot, box[None], angles=np.array([30.0]))
    assert np.abs(apply(mats[0], lm[0]) - model.session.run(None, {"input": crops})[0][0]).max() < 1e-3


def test_grey_and_bgra_input(model):
    import cv2

    img, box = face_image(4)
    lm, _ = model.predict(img, box[None])
    lm_a, _ = model.predict(cv2.cvtColor(img, cv2.COLOR_BGR2BGRA), box[None])
    assert np.allclose(lm, lm_a)
    lm_g, _ = model.predict(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), box[None])
    assert lm_g.shape == (1, 68, 2)


def test_weights_small():
    assert SPEC.path.stat().st_size < 5e6


def test_accuracy_on_held_out_afw(model):
    """The shipped model on 40 held-out AFW faces from ground-truth boxes (loose bound: the model improves)."""
    import cv2

    from conftest import need_data
    from facealign.data.pts import read_pts_folder

    recs = read_pts_folder(need_data("300w", "afw"))[:40]
    errs = []
    for r in recs:
        img = cv2.imread(str(r.image))
        lm, _ = model.predict(img, tight_box(r.points)[None])
        iod = np.linalg.norm(r.points[36] - r.points[45])
        errs.append(np.linalg.norm(lm[0] - r.points, axis=1).mean() / iod)
    assert np.mean(errs) < 0.15


def test_flip_tta_is_mirror_consistent():
    """With the mirrored pass, predicting a mirrored image gives the mirrored points (up to float error)."""
    import cv2

    from facealign.alignment.points import flip_points
    from facealign.landmarks.onnx_landmarks import ONNXLandmarks

    img = cv2.imread(str(sample_path()))
    box = np.array([177.0, 86.0, 268.0, 174.0])
    m = ONNXLandmarks(flip_tta=True, threads=1)
    a, sa = m.predict(img, box[None])
    w = img.shape[1]
    fbox = np.array([w - 1 - box[2], box[1], w - 1 - box[0], box[3]])
    b, sb = m.predict(np.ascontiguousarray(img[:, ::-1]), fbox[None])
    assert np.abs(flip_points(b[0], w) - a[0]).max() < 0.05
    single = ONNXLandmarks(threads=1).predict(img, box[None])[0]
    assert np.abs(single - a).max() > 0  # the mirrored pass changes the answer
