"""Big faces are reduced with area averaging before the crop warp; the crop geometry must not change."""
import cv2
import numpy as np

from facealign.alignment.crop import crop_transform
from facealign.alignment.crop import prefilter as _prefilter


def _smooth_image(h=1600, w=1400):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.dstack([127 + 100 * np.sin(x / 90), 127 + 100 * np.cos(y / 70), 127 + 100 * np.sin((x + y) / 120)])
    return img.astype(np.uint8)


def test_prefilter_keeps_the_crop_geometry():
    img = _smooth_image()
    m = crop_transform([300, 350, 1100, 1250], 112, angle=17.0)
    src, m2 = _prefilter(img, m, 112)
    assert src.shape[0] < img.shape[0] // 2  # it did reduce
    direct = cv2.warpAffine(img, m, (112, 112), flags=cv2.INTER_LINEAR)
    reduced = cv2.warpAffine(src, m2, (112, 112), flags=cv2.INTER_LINEAR)
    assert np.abs(direct.astype(int) - reduced.astype(int))[5:-5, 5:-5].mean() < 2.0


def test_prefilter_removes_aliasing_of_fine_detail():
    img = np.zeros((1600, 1600, 3), np.uint8)
    img[:, ::2] = 255  # a one-pixel stripe pattern: its area average is uniform grey
    m = crop_transform([200, 200, 1400, 1400], 112)
    src, m2 = _prefilter(img, m, 112)
    crop = cv2.warpAffine(src, m2, (112, 112), flags=cv2.INTER_LINEAR)[10:-10, 10:-10]
    assert crop.std() < 5 and abs(crop.mean() - 127.5) < 3


def test_small_faces_are_not_touched():
    img = _smooth_image(200, 200)
    m = crop_transform([50, 50, 150, 150], 112)
    src, m2 = _prefilter(img, m, 112)
    assert src is img and m2 is m
