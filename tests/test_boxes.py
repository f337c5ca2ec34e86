"""The one IoU (facealign.alignment.boxes) against hand-computed values."""
from __future__ import annotations

import numpy as np
import pytest

from facealign.alignment.boxes import iou, iou_matrix


def test_iou_hand_computed():
    a = np.array([0.0, 0.0, 10.0, 10.0])
    assert iou(a, a) == 1.0
    assert iou(a, [5.0, 0.0, 15.0, 10.0]) == pytest.approx(50 / 150)
    assert iou(a, [20.0, 20.0, 30.0, 30.0]) == 0.0
    assert iou(a, [10.0, 0.0, 20.0, 10.0]) == 0.0  # touching edges: continuous extents, no overlap


def test_iou_matrix_is_pairwise_iou_and_empty_boxes_give_zero():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (7, 2))
    a = np.concatenate([xy, xy + rng.uniform(1, 50, (7, 2))], 1)
    b = a[::-1] + rng.normal(0, 5, a.shape)
    m = iou_matrix(a, b)
    assert m.shape == (7, 7)
    assert np.allclose(m, [[iou(x, y) for y in b] for x in a])
    assert np.allclose(m, iou_matrix(b, a).T)
    point = np.array([[3.0, 3.0, 3.0, 3.0]])
    assert iou_matrix(point, point)[0, 0] == 0.0
    assert iou_matrix(np.zeros((0, 4)), a).shape == (0, 7)
