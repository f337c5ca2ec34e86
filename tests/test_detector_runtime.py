"""Detector runtime: anchors, encoding, NMS, decoding of synthetic outputs, pre-processing and image edge cases."""
from __future__ import annotations

import numpy as np
import pytest

from facealign.detection.anchors import ANCHOR_SIZES, STRIDES, anchor_boxes, decode, encode, priors
from facealign.alignment.boxes import iou_matrix
from facealign.detection.nms import nms
from facealign.detection.ssdlite import MIN_SIDE, SSDLiteDetector, postprocess, preprocess
from facealign.runtime import registry


def test_priors_count_order_and_cache():
    p = priors(320, 480)
    n = sum((320 // s) * (480 // s) * len(a) for s, a in zip(STRIDES, ANCHOR_SIZES))
    assert p.shape == (n, 3)
    assert priors(320, 480) is p  # cached
    assert not p.flags.writeable
    # first cell of stride 8: centre (3.5, 3.5), both anchor sizes; second cell to its right
    np.testing.assert_allclose(p[0], [3.5, 3.5, ANCHOR_SIZES[0][0]])
    np.testing.assert_allclose(p[1], [3.5, 3.5, ANCHOR_SIZES[0][1]])
    np.testing.assert_allclose(p[2, :2], [11.5, 3.5])


def test_encode_decode_roundtrip():
    rng = np.random.default_rng(0)
    pri = priors(64, 64)[:10]
    boxes = np.concatenate([pri[:, :2] - 7 + rng.normal(0, 2, (10, 2)), pri[:, :2] + 9 + rng.normal(0, 2, (10, 2))], 1)
    kps = pri[:, None, :2] + rng.normal(0, 5, (10, 5, 2))
    tb, tk = encode(pri, boxes, kps)
    b2, k2 = decode(pri, tb, tk)
    np.testing.assert_allclose(b2, boxes, atol=1e-3)
    np.testing.assert_allclose(k2, kps, atol=1e-3)


def test_iou_and_nms():
    a = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 110, 110]], float)
    iou = iou_matrix(a, a)
    np.testing.assert_allclose(np.diag(iou), 1)
    assert abs(iou[0, 1] - 50 / 150) < 1e-9 and iou[0, 2] == 0
    keep = nms(a, np.array([0.9, 0.8, 0.7]), iou_threshold=0.3)
    assert keep.tolist() == [0, 2]
    keep = nms(a, np.array([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 1, 2]
    assert nms(np.zeros((0, 4)), np.zeros(0)).size == 0


def _synthetic_outputs(h: int, w: int, faces: list[tuple[np.ndarray, np.ndarray]]):
    """Raw network outputs that put each (box, points) on its best anchor with score 0.9, two weaker duplicates."""
    pri = priors(h, w)
    scores = np.full(len(pri), 0.01, np.float32)
    tb = np.zeros((len(pri), 4), np.float32)
    tk = np.zeros((len(pri), 10), np.float32)
    ab = anchor_boxes(pri)
    for box, kps in faces:
        order = np.argsort(-iou_matrix(ab, box[None])[:, 0])[:3]
        for rank, i in enumerate(order):
            t1, t2 = encode(pri[i : i + 1], box[None], kps[None])
            tb[i], tk[i] = t1[0], t2[0]
            scores[i] = 0.9 - 0.1 * rank
    return scores, tb, tk


def test_postprocess_decodes_and_suppresses():
    box = np.array([100.0, 60.0, 140.0, 104.0])
    kps = np.array([[110, 75], [130, 75], [120, 88], [112, 97], [128, 97]], float)
    s, tb, tk = _synthetic_outputs(192, 256, [(box, kps)])
    boxes, scores, pts = postprocess(s, tb, tk, priors(192, 256), 0.5, 0.4, 100)
    assert boxes.shape == (1, 4) and pts.shape == (1, 5, 2)
    np.testing.assert_allclose(boxes[0], box, atol=1e-3)
    np.testing.assert_allclose(pts[0], kps, atol=1e-3)
    assert scores[0] == pytest.approx(0.9)
    empty = postprocess(np.zeros_like(s), tb, tk, priors(192, 256), 0.5, 0.4, 100)
    assert empty[0].shape == (0, 4) and empty[2].shape == (0, 5, 2)


def test_preprocess_sizes():
    x, k = preprocess(np.zeros((480, 640, 3), np.uint8), 640)
    assert x.shape == (1, 480, 640, 3) and k == 1.0
    x, k = preprocess(np.zeros((3000, 4000, 3), np.uint8), 640)
    assert x.shape == (1, 480, 640, 3) and k == pytest.approx(0.16)
    x, k = preprocess(np.zeros((100, 150, 3), np.uint8), 640)  # never upscaled, padded to 32
    assert x.shape == (1, 128, 160, 3) and k == 1.0


class _FakeSession:
    """Stands in for onnxruntime: returns prepared outputs for the input size it is given."""

    def __init__(self, faces_in_input):
        self.faces = faces_in_input
        self.shapes = []

    def run(self, names, feeds):
        x = feeds["input"]
        self.shapes.append(x.shape)
        faces = self.faces(x.shape[1], x.shape[2]) if callable(self.faces) else self.faces
        s, tb, tk = _synthetic_outputs(x.shape[1], x.shape[2], faces)
        return [s[None], tb[None], tk[None]]


def _fake_detector(faces_in_input, det_size=640) -> SSDLiteDetector:
    d = SSDLiteDetector.__new__(SSDLiteDetector)
    d.det_size, d.score_threshold, d.nms_iou, d.max_faces, d.large_faces = det_size, 0.5, 0.4, 100, True
    d.session = _FakeSession(faces_in_input)
    return d


def test_detect_maps_back_to_original_pixels():
    # a 1280x960 image is run at 640x480 (scale 0.5); a face at input pixels maps back by (x + 0.5) / 0.5 - 0.5
    box = np.array([100.0, 60.0, 140.0, 104.0])
    kps = np.array([[110, 75], [130, 75], [120, 88], [112, 97], [128, 97]], float)
    d = _fake_detector([(box, kps)])
    faces = d.detect(np.zeros((960, 1280, 3), np.uint8))
    assert d.session.shapes[0] == (1, 480, 640, 3)  # then the half-size pass for large faces
    assert len(faces) == 1
    np.testing.assert_allclose(faces[0].box, (box + 0.5) * 2 - 0.5, atol=1e-2)
    np.testing.assert_allclose(faces[0].landmarks5, (kps + 0.5) * 2 - 0.5, atol=1e-2)
    assert 0 <= faces[0].score <= 1


def test_large_face_comes_from_the_coarse_pass():
    # the fake network "sees" a face covering the middle 70 % of whatever input it gets (as a real one would)
    def face_in(h, w):
        box = np.array([0.15 * w, 0.15 * h, 0.85 * w, 0.85 * h])
        c, r = (box[:2] + box[2:]) / 2, (box[2] - box[0]) / 6
        kps = np.array([c + [-r, -r], c + [r, -r], c, c + [-r, r], c + [r, r]])
        return [(box, kps)]

    d = _fake_detector(face_in)
    faces = d.detect(np.zeros((640, 640, 3), np.uint8))
    assert [s[1:3] for s in d.session.shapes] == [(640, 640), (224, 224)]  # 640 // 3 = 213, padded to 224
    assert len(faces) == 1  # the fine pass's 448-px box is dropped, the third-size pass's one is kept
    k = 1 / 3  # the coarse pass averages exact 3x3 blocks (213 of them; the 640th column is dropped)
    expected = (np.array([0.15, 0.15, 0.85, 0.85]) * 224 + 0.5) / k - 0.5
    np.testing.assert_allclose(faces[0].box, expected, atol=0.05)
    d.large_faces = False
    d.session.shapes.clear()
    d.detect(np.zeros((640, 640, 3), np.uint8))
    assert len(d.session.shapes) == 1


def test_detect_tiny_and_bad_inputs():
    d = _fake_detector([])
    assert d.detect(np.zeros((1, 1, 3), np.uint8)) == []
    assert d.detect(np.zeros((MIN_SIDE - 1, 50, 3), np.uint8)) == []
    assert d.session.shapes == []  # the network is not run for images that cannot hold a face
    assert d.detect(np.zeros((10, 10, 3), np.uint8)) == []
    assert d.session.shapes == [(1, 32, 32, 3)]
    assert d.detect(np.zeros((40, 40), np.uint8)) == []  # grey accepted
    with pytest.raises(ValueError):
        d.detect(np.zeros((40, 40, 3), np.float32))


shipped = pytest.mark.skipif(not registry.get("ssdlite-det").available, reason="detector_ssdlite.onnx not shipped yet")


@shipped
@pytest.mark.parametrize("shape", [(1, 1, 3), (10, 10, 3), (37, 53, 3), (480, 640, 3), (2500, 3300, 3)])
def test_shipped_model_shapes_and_edge_images(shape):
    det = SSDLiteDetector(threads=1)
    rng = np.random.default_rng(0)
    img = np.full(shape, 128, np.uint8)  # flat grey: no face
    faces = det.detect(img)
    assert faces == []
    noisy = rng.integers(0, 256, shape, dtype=np.uint8)
    for f in det.detect(noisy):
        assert f.box.shape == (4,) and f.landmarks5.shape == (5, 2)
        assert -0.5 <= f.box[0] <= f.box[2] <= shape[1] - 0.5 and -0.5 <= f.box[1] <= f.box[3] <= shape[0] - 0.5
        assert 0.0 <= f.score <= 1.0


@shipped
def test_shipped_model_finds_a_real_face():
    import cv2

    from facealign.paths import data_root

    path = data_root() / "fixtures" / "astronaut.png"
    if not path.is_file():
        pytest.skip("shared data not present")
    img = cv2.imread(str(path))
    faces = SSDLiteDetector(threads=1).detect(img)
    assert len(faces) >= 1
    f = faces[0]
    assert f.box[2] - f.box[0] > 40  # the astronaut's face is large
    # the points lie inside the (slightly grown) box
    assert np.all(f.landmarks5[:, 0] > f.box[0] - 10) and np.all(f.landmarks5[:, 0] < f.box[2] + 10)


def test_detection_metrics_ap_and_fppi_threshold():
    from facealign.evaluation.detection_metrics import average_precision, match_image, threshold_for_fppi

    gt = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    ign = np.array([[50, 50, 70, 70]], float)
    dets = np.array([[0, 0, 10, 10], [0, 0, 10, 11], [52, 52, 60, 60], [100, 100, 110, 110]], float)
    s, f = match_image(dets, np.array([0.9, 0.8, 0.7, 0.6]), gt, ign)
    assert f.tolist() == [1, 0, -1, 0]  # hit, duplicate, ignored, false
    ap = average_precision([(s, f)], n_gt=2)
    assert ap == pytest.approx(0.5)  # one of two faces found at precision 1
    perfect = match_image(gt, np.array([0.9, 0.8]), gt)
    assert average_precision([perfect], 2) == pytest.approx(1.0)
    neg = [np.array([0.9, 0.3]), np.array([0.2]), np.zeros(0), np.zeros(0)]
    # 4 face-free images, <= 0.25 false detections per image allowed: one detection may stay above threshold
    thr = threshold_for_fppi(neg, 0.25)
    assert 0.3 < thr <= 0.9 and sum(int((n >= thr).sum()) for n in neg) <= 1
    assert threshold_for_fppi([np.zeros(0)] * 4, 0.05) == 0.0


def test_shrink_exact_maps_pixels_back_exactly():
    from facealign.detection.ssdlite import shrink_exact

    img = np.zeros((31, 47, 3), np.uint8)
    img[9:12, 21:24] = 255  # one 3x3 block -> output pixel (3, 7)
    out = shrink_exact(img, 3)
    assert out.shape == (10, 15, 3)
    ys, xs = np.nonzero(out[..., 0])
    assert (ys.tolist(), xs.tolist()) == ([3], [7]) and out[3, 7, 0] == 255
    assert (7 + 0.5) * 3 - 0.5 == 22  # its centre maps back to the block's centre pixel


def test_shrink_exact_is_the_block_mean():
    from facealign.detection.ssdlite import shrink_exact

    img = np.random.default_rng(0).integers(0, 256, (47, 62, 3), dtype=np.uint8)
    for f in (2, 3, 5):
        out = shrink_exact(img, f)
        h, w = 47 // f, 62 // f
        ref = img[: h * f, : w * f].reshape(h, f, w, f, 3).mean((1, 3))
        assert out.shape == (h, w, 3) and np.abs(out - ref).max() <= 0.5 + 1e-9
