"""Multi-page and animated files: the first page is read and the loader says so (LoadedImage.warning)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facealign.io.images import load_image


def _frames(n):
    return [Image.fromarray(np.full((20, 30, 3), 40 * (i + 1), np.uint8)) for i in range(n)]


@pytest.mark.parametrize("name,fmt,what", [("p.tif", "TIFF", "TIFF file with 3 pages"),
                                            ("a.gif", "GIF", "GIF file with 3 frames"),
                                            ("a.png", "PNG", "PNG file with 3 frames"),
                                            ("a.webp", "WEBP", "WEBP file with 3 frames")])
def test_first_page_is_read_and_the_rest_reported(tmp_path, name, fmt, what):
    first, *rest = _frames(3)
    first.save(tmp_path / name, fmt, save_all=True, append_images=rest, **({"lossless": True} if fmt == "WEBP" else {}))
    img = load_image(tmp_path / name)
    assert img.warning == f"{what}: only the first was read"
    assert abs(int(img.pixels[5, 5, 0]) - 40) <= 3  # the first page's grey, not a later one


def test_single_page_has_no_warning(tmp_path):
    _frames(1)[0].save(tmp_path / "one.tif")
    assert load_image(tmp_path / "one.tif").warning is None
