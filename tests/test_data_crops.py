"""Detector face crops and background patches (facealign.data) on a tiny generated data root."""
from __future__ import annotations

import cv2
import numpy as np

from facealign.alignment.points import five_from_68
from facealign.alignment.templates import MEAN68
from facealign.data.backgrounds import background_patch
from facealign.data.face_crops import MAX_FACE, iter_labelled, load_split


def _data_root(tmp_path):
    rng = np.random.default_rng(0)
    pts68 = MEAN68 * 300 + 150  # a 300 px face: the cached crop is scaled down to MAX_FACE
    folder = tmp_path / "faces"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.jpg"), rng.integers(0, 255, (700, 900, 3), dtype=np.uint8))
    body = "\n".join(f"{x + 1} {y + 1}" for x, y in pts68)
    (folder / "a.pts").write_text(f"version: 1\nn_points: 68\n{{\n{body}\n}}\n")
    p5 = five_from_68(pts68)
    (tmp_path / "mtfl").mkdir()
    cv2.imwrite(str(tmp_path / "mtfl" / "b.jpg"), rng.integers(0, 255, (600, 600, 3), dtype=np.uint8))
    row = " ".join(f"{v + 1:.6f}" for v in np.concatenate([p5[:, 0], p5[:, 1]]))
    (tmp_path / "mtfl" / "t.txt").write_text(f"b.jpg {row} 1 2 2 3\n")
    return tmp_path, pts68, p5


def test_labelled_faces_are_zero_based_with_68_points(tmp_path):
    root, pts68, p5 = _data_root(tmp_path)
    (path, q68, q5), = iter_labelled(root, "faces")
    assert path.name == "a.jpg" and np.allclose(q68, pts68) and np.allclose(q5, p5)
    (path, m68, m5), = iter_labelled(root, "mtfl:t.txt")
    assert path == root / "mtfl" / "b.jpg" and np.allclose(m5, p5, atol=1e-5)
    assert np.allclose(five_from_68(m68), p5, atol=2.0)  # the mean shape fitted to the 5 points


def test_split_is_cropped_scaled_and_cached(tmp_path, monkeypatch):
    root, pts68, _ = _data_root(tmp_path)
    import facealign.data.face_crops as fc

    monkeypatch.setattr(fc, "TRAIN_SOURCES", ("faces", "mtfl:t.txt"))
    faces, negs = load_split("train", root, tmp_path / "cache")
    assert len(faces) == 2 and len(negs) >= 1
    box = faces[0].box
    assert MAX_FACE - 2 <= max(box[2:] - box[:2]) <= MAX_FACE + 1  # scaled down (to whole crop pixels)
    assert (tmp_path / "cache").is_dir() and len(list((tmp_path / "cache").glob("train_v*.pkl"))) == 1
    again, _ = load_split("train", root, tmp_path / "cache")  # from the cache
    assert np.array_equal(again[0].image, faces[0].image)


def test_background_patch_is_the_largest_strip_away_from_the_face():
    img = np.zeros((100, 200, 3), np.uint8)
    patch = background_patch(img, np.array([20.0, 20.0, 60.0, 60.0]))
    assert patch.shape[:2] == (100, 129)  # right of the face box grown by 10 px (x >= 71)
    assert background_patch(img[:40, :40], np.array([5.0, 5.0, 35.0, 35.0])) is None
