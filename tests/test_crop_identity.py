"""A training crop is the runtime crop: the landmark crop cache and augmentation cut faces with the very warp the
landmark runtime uses (facealign.alignment.crop.warp_crop), also for large faces where the anti-aliasing prefilter
reduces the image first."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from facealign.alignment.crop import prefilter
from facealign.alignment.points import tight_box
from facealign.alignment.templates import MEAN68
from facealign.data import landmark_crops


def _photo(h: int, w: int) -> np.ndarray:
    """Smooth colour waves plus fine noise (aliasing would show in the noise)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.dstack([127 + 90 * np.sin(x / 37), 127 + 90 * np.cos(y / 29), 127 + 90 * np.sin((x + y) / 53)])
    img += np.random.default_rng(0).normal(0, 20, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _face(centre, side) -> np.ndarray:
    """68 points of the mean shape with a tight box of about ``side`` pixels around ``centre``."""
    p = MEAN68 - MEAN68.mean(0)
    return p / np.ptp(p, axis=0).max() * side + np.asarray(centre, np.float64)


@pytest.fixture(scope="module")
def runtime():
    from facealign.landmarks.onnx_landmarks import ONNXLandmarks

    return ONNXLandmarks(threads=1)


@pytest.mark.parametrize("side, angle", [(60.0, 0.0), (90.0, 12.0), (900.0, 0.0), (1000.0, 17.0)])
def test_training_crop_is_the_runtime_crop(runtime, side, angle):
    img = _photo(1600, 1500)
    box = tight_box(_face((750, 800), side))
    crops, mats = runtime.crops(img, box[None], np.array([angle]))
    train, m = landmark_crops.face_crop(img, box, runtime.size, angle, runtime.crop_scale)
    assert np.array_equal(m, mats[0])
    assert np.array_equal(train, crops[0])
    if side >= 900:  # the large face went through the anti-aliasing prefilter
        assert prefilter(img, m, runtime.size)[0] is not img


@pytest.mark.parametrize("side", [80.0, 950.0])
def test_cached_validation_crop_is_the_runtime_crop(runtime, tmp_path, side):
    """A validation set of the crop cache (ground-truth box, network size, crop scale 1.4) holds the runtime crop."""
    folder = tmp_path / "300w" / "afw"
    folder.mkdir(parents=True)
    img = _photo(1400, 1300)
    pts = _face((650, 700), side)
    cv2.imwrite(str(folder / "a.png"), img)
    body = "\n".join(f"{x + 1:.6f} {y + 1:.6f}" for x, y in pts)  # .pts files are 1-based
    (folder / "a.pts").write_text(f"version: 1\nn_points: 68\n{{\n{body}\n}}\n")
    fs = landmark_crops.build_set("300w_afw", tmp_path, runtime.size, runtime.crop_scale)
    img = cv2.imread(str(folder / "a.png"))  # the points as read back (text rounding)
    pts = landmark_crops.read_set("300w_afw", tmp_path)[0].points
    crops, mats = runtime.crops(img, tight_box(pts)[None])
    assert np.array_equal(fs.images[0], crops[0])
    assert np.allclose(fs.points[0], pts @ mats[0][:, :2].T + mats[0][:, 2], atol=1e-4)


@pytest.mark.parametrize("side", [80.0, 950.0])
def test_augmentation_without_randomness_is_the_runtime_crop(runtime, side):
    """With flip, rotation and box jitter off, augmentation's geometric step is the runtime crop of the face box."""
    from facealign.training.landmarks.augment import geometric
    from facealign.training.landmarks.config import AugConfig

    cfg = AugConfig(p_flip=0.0, p_rotate=0.0, shift=0.0, scale=0.0, aspect=0.0)
    img = _photo(1400, 1300)
    pts = _face((650, 700), side)
    crop, _ = geometric(img, pts, runtime.size, cfg, np.random.default_rng(0))
    crops, _ = runtime.crops(img, tight_box(pts)[None])
    assert np.array_equal(crop, crops[0])
