"""eval merge helpers on generated data: person sets by file name, the 2D leave-one-out warp, the error measures."""
import cv2
import numpy as np

from facealign.alignment.templates import template_points
from facealign.evaluation.merge_eval import (face_region, person_sets, photometric_error, plain_mean,
                                             warp_to_photo)
from facealign.types import Face


def test_person_sets_group_by_name_before_the_video_frame_suffix(tmp_path):
    for name in ("Ann_Lee_00.jpg", "Ann_Lee_01_t.jpg", "Ann_Lee_12.jpg", "Bo_10.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    sets = person_sets(tmp_path)
    assert list(sets) == ["Ann_Lee"] and len(sets["Ann_Lee"]) == 3  # Bo has one photo only


def test_warp_to_photo_puts_the_composite_on_the_photo_points():
    rng = np.random.default_rng(0)
    comp = cv2.resize(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8), (128, 128), interpolation=cv2.INTER_CUBIC)
    shape, _ = template_points("mean68", 128)
    m = np.array([[1.5, 0.0, 40.0], [0.0, 1.5, 30.0]])  # the photo shows the composite enlarged and moved
    photo = cv2.warpAffine(comp, m, (300, 260))
    lm = shape @ m[:, :2].T + m[:, 2]
    face = Face(box=np.r_[lm.min(0), lm.max(0)], score=1.0, landmarks=lm)
    out, mask = warp_to_photo(comp, shape, photo, face)
    region = face_region(face, (300, 260)) & mask
    assert region.sum() > 1000
    assert photometric_error(out, photo, region) < 2.0
    assert photometric_error(np.zeros_like(photo), photo, region) > 20


def test_plain_mean_of_identical_faces_is_the_face():
    img = np.full((200, 200, 3), 90, np.uint8)
    cv2.circle(img, (100, 100), 30, (200, 200, 200), -1)
    shape, _ = template_points("mean68", 120)
    lm = shape + 40
    faces = [Face(box=np.r_[lm.min(0), lm.max(0)], score=1.0, landmarks=lm)] * 3
    a = plain_mean([img] * 3, faces, 128)
    assert a.shape == (128, 128, 3) and a.max() >= 199
