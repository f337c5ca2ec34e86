"""Body joint decoding and person refinement on generated heatmaps and photos (no data files): the windowed
soft-argmax, the flip of heatmaps, the refinement box and its stop rule, the runtime's crop count and its fallback
to the graph's own joints."""
from __future__ import annotations

import numpy as np
import pytest

from facealign.alignment.body_points import (
    FLIP, REFINE_MARGIN, REFINE_STOP_IOU, box_iou, decode_heatmaps, flip_heatmaps, heatmap_probs, refine_box,
)


def gaussian_maps(centres: np.ndarray, size: int = 32, sigma: float = 1.5, weights=None) -> np.ndarray:
    """(1, J, size, size) probabilities: a Gaussian (or a weighted mixture) per joint at cell coordinates."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    out = []
    for modes in centres:
        modes = np.asarray(modes, np.float64).reshape(-1, 2)
        w = np.ones(len(modes)) if weights is None else np.asarray(weights, np.float64)
        m = sum(wk * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2)) for wk, (cx, cy) in zip(w, modes))
        out.append(m / m.sum())
    return np.array(out)[None]


def test_heatmap_probs_are_a_softmax_per_map():
    logits = np.random.default_rng(0).normal(size=(2, 14, 8, 8)) * 5
    p = heatmap_probs(logits)
    assert p.shape == logits.shape and np.allclose(p.sum((2, 3)), 1)
    assert np.array_equal(p.reshape(2, 14, -1).argmax(-1), logits.reshape(2, 14, -1).argmax(-1))


def test_window_decoding_is_sub_cell_and_ignores_a_second_mode():
    # one mode at a fractional cell: both decoders find it in crop pixels (cell c -> 4 c + 1.5); the window,
    # cut around the peak cell, pulls a little towards that cell (under 0.1 cell here)
    p = gaussian_maps([[(10.3, 20.6)]])
    for window, tol in ((0, 0.05), (3, 0.4)):
        assert np.allclose(decode_heatmaps(p, window)[0, 0], [4 * 10.3 + 1.5, 4 * 20.6 + 1.5], atol=tol)
    # two modes (0.6 / 0.4): the whole map's mean falls between them, the window stays on the stronger one
    p = gaussian_maps([[(6, 6), (25, 20)]], weights=[0.6, 0.4])
    whole, win = decode_heatmaps(p, 0)[0, 0], decode_heatmaps(p, 3)[0, 0]
    assert np.linalg.norm(win - [4 * 6 + 1.5, 4 * 6 + 1.5]) < 0.5
    assert np.linalg.norm(whole - [4 * 6 + 1.5, 4 * 6 + 1.5]) > 20
    # a peak at the border: the window is cut at the map's edge, no wrap-around
    p = gaussian_maps([[(0, 31)]])
    x, y = decode_heatmaps(p, 3)[0, 0]
    assert 1.5 <= x < 4 * 1.5 + 1.5 and 4 * 29.5 + 1.5 < y <= 4 * 31 + 1.5


def test_flip_heatmaps_mirror_the_crop_and_swap_sides():
    rng = np.random.default_rng(1)
    cells = rng.uniform(3, 28, (14, 2))
    p = gaussian_maps(cells[:, None, :])
    # what the network should see on the mirrored crop: joint FLIP[j] at the mirrored place of joint j
    mirrored_cells = cells[FLIP].copy()
    mirrored_cells[:, 0] = 31 - mirrored_cells[:, 0]
    pm = gaussian_maps(mirrored_cells[:, None, :])
    back = flip_heatmaps(pm)
    assert np.allclose(back, p, atol=1e-12)
    # in crop pixels of a 128 crop: x -> 127 - x
    d = decode_heatmaps(pm, 3)[0]
    assert np.allclose(decode_heatmaps(back, 3)[0], np.stack([127 - d[FLIP, 0], d[FLIP, 1]], 1), atol=1e-9)


def test_refine_box_and_iou():
    joints = np.array([[10.0, 20.0], [30.0, 100.0]] + [[20.0, 60.0]] * 12)
    b = refine_box(joints)
    assert np.allclose((b[:2] + b[2:]) / 2, [20, 60])
    assert np.allclose(b[2:] - b[:2], np.array([20, 80]) * REFINE_MARGIN)
    assert box_iou(b, b) == pytest.approx(1.0)
    assert box_iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(1 / 3)
    assert box_iou([0, 0, 1, 1], [2, 2, 3, 3]) == 0.0
    # a single point still gives a box (no zero-size crop)
    b1 = refine_box(np.full((14, 2), 5.0))
    assert (b1[2:] > b1[:2]).all()


def small_person_photo() -> np.ndarray:
    """A stick person of 110 px in a 400 x 300 photo (it fills little of the photo)."""
    import cv2

    img = np.full((300, 400, 3), 90, np.uint8)
    cv2.circle(img, (260, 110), 9, (150, 170, 210), -1)
    cv2.rectangle(img, (248, 121), (272, 170), (40, 60, 160), -1)
    for a, b in (((250, 170), (245, 220)), ((270, 170), (275, 220)), ((249, 124), (235, 160)), ((271, 124), (285, 160))):
        cv2.line(img, a, b, (60, 50, 40), 5)
    return img


def test_runtime_refinement_counts_crops_and_stops():
    from facealign.stages import build_model

    img = small_person_photo()
    photo = np.array([[-0.5, -0.5, 399.5, 299.5]])
    one = build_model(None, "body", threads=1, passes=1)
    j1, s1 = one.predict(img, photo)
    j, s, b = one.refine(img, j1, s1, photo)
    assert one.crops_run == 1 and np.array_equal(j, j1) and np.array_equal(b, photo)
    three = build_model(None, "body", threads=1, passes=3, flip_tta=True)
    j1, s1 = three.predict(img, photo)
    j, s, b = three.refine(img, j1, s1, photo)
    assert j.shape == (1, 14, 2) and s.shape == (1, 14) and b.shape == (1, 4)
    assert three.crops_run in (2, 4, 6)  # a mirrored crop per pass, at most 3 passes
    if three.crops_run > 2:  # refined: the box is the last joints' box before them, not the photo
        assert box_iou(b[0], photo[0]) < REFINE_STOP_IOU
    # a person box that already is its joints' refined box runs no further pass
    again = build_model(None, "body", threads=1, passes=3)
    jj, ss = again.predict(img, b)
    tight = refine_box(jj[0])[None]
    jt, st = again.predict(img, tight)
    n = again.crops_run
    if box_iou(refine_box(jt[0]), tight[0]) >= REFINE_STOP_IOU:
        again.refine(img, jt, st, tight)
        assert again.crops_run == n


def test_runtime_falls_back_to_the_graphs_joints_without_heatmaps():
    from facealign.alignment.transforms import apply
    from facealign.stages import build_model

    img = small_person_photo()
    box = np.array([[200.0, 80.0, 320.0, 240.0]])
    m = build_model(None, "body", threads=1, flip_tta=True)
    m.heatmaps, m.output_names = False, ["keypoints", "scores"]  # a graph of the older two-output contract
    joints, scores = m.predict(img, box)
    crops, mats = m.crops(img, box)
    raw = m.session.run(["keypoints"], {m.input_name: np.concatenate([crops, crops[:, :, ::-1]])})[0]
    mirrored = raw[1, FLIP].copy()
    mirrored[:, 0] = (m.size - 1) - mirrored[:, 0]
    assert np.allclose(apply(mats[0], joints[0]), (raw[0] + mirrored) / 2, atol=1e-3)
