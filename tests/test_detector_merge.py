"""Merging the detections of pyramid levels and tiles."""
import numpy as np

from facealign.detection.ssdlite import merge_boxes


def test_two_views_of_one_face_keep_the_larger_box():
    whole = [100, 100, 200, 210]
    part = [110, 95, 170, 160]  # a finer level's view of the upper part: IoU < 0.4, centres inside each other
    boxes = np.array([part, whole], float)
    assert merge_boxes(boxes, np.array([0.9, 0.7]), 0.4).tolist() == [1]


def test_neighbouring_faces_stay():
    boxes = np.array([[0, 0, 40, 40], [30, 0, 70, 40], [0, 45, 40, 85]], float)
    assert sorted(merge_boxes(boxes, np.array([0.9, 0.8, 0.7]), 0.4).tolist()) == [0, 1, 2]


def test_fragment_inside_a_better_box_goes_and_order_is_by_score():
    boxes = np.array([[0, 0, 100, 100], [10, 10, 40, 40], [200, 0, 240, 40]], float)
    assert merge_boxes(boxes, np.array([0.6, 0.5, 0.9]), 0.4).tolist() == [2, 0]
