"""Hostile image files are refused before they cost memory or time: decompression bombs, special files, huge files.

Each case runs load_image in a fresh process and checks its error and its peak memory (the suite's promise is
under 1 GB for every hostile input; these stay far below)."""
from __future__ import annotations

import os

import pytest
from input_makers import bomb_png, load_in_child

PEAK_MB = 300  # the interpreter, numpy and Pillow take ~40 MB; a decoded bomb would take GBs


def test_png_bomb_is_refused_from_its_header(tmp_path):
    out = load_in_child(bomb_png(tmp_path / "bomb.png"))  # 30000 x 30000, 2.7 MB on disk
    assert out["result"].startswith("error: image too large (30000x30000")
    assert out["peak_mb"] < PEAK_MB, out


def test_png_bomb_with_exif_after_the_pixels_is_refused_without_decoding(tmp_path):
    # Pillow reads a PNG's EXIF by decoding the whole image when the eXIf chunk follows the data
    out = load_in_child(bomb_png(tmp_path / "bomb.png", exif_after_data=True))
    assert out["result"].startswith("error: image too large")
    assert out["peak_mb"] < PEAK_MB, out


def test_pillows_bomb_guard_follows_max_pixels(tmp_path):
    # Pillow's own guard is set from --max-pixels (64x, the most a 1/8-scale JPEG decode allows): with a 1 MP
    # limit it refuses the header already, before our format-specific checks
    out = load_in_child(bomb_png(tmp_path / "bomb.png"), max_pixels=1_000_000)
    assert out["result"] == "error: image too large (header claims over 64 MP)", out
    assert out["peak_mb"] < PEAK_MB


def test_dev_zero_is_refused(tmp_path):
    link = tmp_path / "zero.jpg"
    link.symlink_to("/dev/zero")
    for p in ("/dev/zero", link):
        out = load_in_child(p, timeout=20)
        assert out["result"] == "error: not a regular file (a device); images are read from regular files only"
        assert out["peak_mb"] < PEAK_MB


def test_fifo_named_jpg_never_blocks(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    out = load_in_child(fifo, timeout=20)  # a blocking open would hang: TimeoutExpired fails the test
    assert out["result"].startswith("error: not a regular file (a named pipe (FIFO))")


def test_2gb_file_is_refused_by_its_size(tmp_path):
    big = tmp_path / "big.jpg"
    with open(big, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0")
        f.truncate(2 * 2**30)  # sparse: 2 GB long, nothing on disk
    out = load_in_child(big)
    assert out["result"].startswith("error: file too large (2147 MB > 320 MB"), out
    assert out["peak_mb"] < PEAK_MB


def test_size_limit_follows_max_pixels(tmp_path):
    from facealign.io.images import ImageError, load_image, max_file_bytes

    assert max_file_bytes(40_000_000) == 320_000_000 and max_file_bytes(1000) == 64 * 2**20
    p = tmp_path / "x.png"
    with open(p, "wb") as f:
        f.truncate(max_file_bytes(1_000_000) + 1)
    with pytest.raises(ImageError, match="file too large"):
        load_image(p, max_pixels=1_000_000)
    with pytest.raises(ImageError, match="not an image"):  # under a higher limit the size is fine; content is not
        load_image(p, max_pixels=40_000_000)


def test_folder_named_like_an_image(tmp_path):
    from facealign.io.images import ImageError, load_image

    (tmp_path / "dir.jpg").mkdir()
    with pytest.raises(ImageError, match="is a folder"):
        load_image(tmp_path / "dir.jpg")


def test_broken_link_says_so(tmp_path):
    from facealign.io.images import ImageError, load_image

    (tmp_path / "gone.jpg").symlink_to(tmp_path / "nothing.jpg")
    with pytest.raises(ImageError, match="broken symbolic link"):
        load_image(tmp_path / "gone.jpg")
