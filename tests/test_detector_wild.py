"""Matching rules and summary of the wild-photo detector evaluation (no data needed)."""
import numpy as np

from facealign.evaluation import detector_wild as dw


def test_iou_and_centre_matching_are_one_to_one():
    ref = np.array([[0, 0, 20, 20], [100, 100, 120, 120]], float)
    boxes = np.array([[1, 1, 21, 21], [0, 0, 20, 20], [300, 300, 320, 320]], float)
    scores = np.array([0.9, 0.8, 0.7])
    found, used = dw.match_iou(boxes, scores, ref)
    assert found.tolist() == [True, False] and used.tolist() == [True, False, False]
    found, used = dw.match_centre(boxes, scores, ref)
    assert found.tolist() == [True, False] and used.tolist() == [True, False, False]


def test_centre_rule_ignores_box_convention_but_not_size():
    ref = np.array([[10, 10, 30, 30]], float)
    taller = np.array([[8, 4, 32, 36]], float)  # another convention: IoU 0.52, centre inside, size ratio 1.4
    assert dw.match_centre(taller, np.ones(1), ref)[0].all()
    huge = np.array([[-40, -40, 80, 80]], float)  # centre inside, 6x the size
    assert not dw.match_centre(huge, np.ones(1), ref)[0].any()


def test_enlarge_maps_boxes_by_pixel_centres():
    img = np.zeros((10, 20, 3), np.uint8)
    big, boxes = dw.enlarge(img, np.array([[-0.5, -0.5, 19.5, 9.5]]), 3.0)
    assert big.shape[:2] == (30, 60)
    assert np.allclose(boxes, [[-0.5, -0.5, 59.5, 29.5]])


def test_summary_bins_by_original_width():
    ref = np.array([[0, 0, 10, 10], [0, 0, 20, 20], [0, 0, 100, 100]], float)
    r = dw.PhotoResult("a.jpg", 2.0, ref * 2, ref[:1] * 2, np.ones(1), 0.5, 100, 100)
    s = dw.summarise([r])
    assert s["faces"] == 3 and abs(s["recall_iou"] - 1 / 3) < 1e-9
    assert s["bins"]["8-16"]["faces"] == 1 and s["bins"]["8-16"]["recall_iou"] == 1.0
    assert s["bins"]["64+"]["faces"] == 1 and s["unmatched_per_photo"] == 0
