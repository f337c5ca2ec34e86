"""Every kind of bad or unusual input image behaves as documented."""
import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from facealign.io.images import ImageError, decode_image, load_image


def _png_bytes(arr, mode=None):
    buf = io.BytesIO()
    Image.fromarray(arr, mode) if mode else Image.fromarray(arr)
    (Image.fromarray(arr, mode) if mode else Image.fromarray(arr)).save(buf, "PNG")
    return buf.getvalue()


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _gradient(h=40, w=60):
    y, x = np.mgrid[0:h, 0:w]
    return np.dstack([x * 4, y * 6, (x + y) * 2]).astype(np.uint8)  # RGB


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        load_image(tmp_path / "nope.jpg")


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_empty_file(tmp_path):
    with pytest.raises(ImageError, match="empty"):
        load_image(_write(tmp_path, "e.jpg", b""))


def test_not_an_image(tmp_path):
    with pytest.raises(ImageError, match="not an image"):
        load_image(_write(tmp_path, "t.jpg", b"hello, I am text\n" * 10))


def test_truncated_jpeg(tmp_path):
    ok, buf = cv2.imencode(".jpg", np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8))
    with pytest.raises(ImageError, match="truncated|corrupt"):
        load_image(_write(tmp_path, "t.jpg", buf.tobytes()[: len(buf) // 2]))


def test_truncated_png(tmp_path):
    data = _png_bytes(np.random.default_rng(0).integers(0, 255, (100, 100, 3), np.uint8))
    with pytest.raises(ImageError, match="truncated|corrupt"):
        load_image(_write(tmp_path, "t.png", data[: len(data) // 2]))


def test_corrupt_jpeg_data(tmp_path):
    ok, buf = cv2.imencode(".jpg", _gradient(200, 200))
    data = bytearray(buf.tobytes())
    data[300:] = b"\x00" * (len(data) - 300)  # header intact, entropy-coded data destroyed
    try:
        img = load_image(_write(tmp_path, "c.jpg", bytes(data)))
    except ImageError as e:
        assert "corrupt" in str(e) or "truncated" in str(e)
    else:  # libjpeg may decode garbage without complaint; then the image must still be well-formed
        assert img.pixels.shape == (200, 200, 3)


def test_rgb_png_is_returned_as_bgr(tmp_path):
    rgb = _gradient()
    img = load_image(_write(tmp_path, "c.png", _png_bytes(rgb)))
    assert img.pixels.dtype == np.uint8 and img.pixels.shape == (40, 60, 3)
    assert np.array_equal(img.pixels[..., ::-1], rgb)
    assert (img.width, img.height, img.scale) == (60, 40, 1.0)


def test_16bit_grayscale_png(tmp_path):
    a = (np.arange(40 * 60).reshape(40, 60) * 27).astype(np.uint16)
    ok, buf = cv2.imencode(".png", a)
    img = load_image(_write(tmp_path, "g16.png", buf.tobytes()))
    assert img.pixels.dtype == np.uint8 and img.pixels.shape == (40, 60, 3)
    assert np.allclose(img.pixels[..., 0].astype(float), np.rint(a / 257.0), atol=1)


def test_16bit_colour_png(tmp_path):
    a = (np.random.default_rng(0).integers(0, 65535, (30, 20, 3))).astype(np.uint16)
    ok, buf = cv2.imencode(".png", a)
    img = load_image(_write(tmp_path, "c16.png", buf.tobytes()))
    assert img.pixels.dtype == np.uint8 and img.pixels.shape == (30, 20, 3)


def test_grayscale_jpeg(tmp_path):
    ok, buf = cv2.imencode(".jpg", _gradient()[..., 0])
    img = load_image(_write(tmp_path, "g.jpg", buf.tobytes()))
    assert img.pixels.shape == (40, 60, 3)
    assert np.array_equal(img.pixels[..., 0], img.pixels[..., 2])


def test_rgba_png(tmp_path):
    rgba = np.dstack([_gradient(), np.full((40, 60), 7, np.uint8)])
    img = load_image(_write(tmp_path, "a.png", _png_bytes(rgba)))
    assert img.pixels.shape == (40, 60, 3)
    assert np.array_equal(img.pixels[..., ::-1], rgba[..., :3])


def test_palette_png(tmp_path):
    im = Image.fromarray(_gradient()).convert("P", palette=Image.ADAPTIVE, colors=16)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    img = load_image(_write(tmp_path, "p.png", buf.getvalue()))
    assert img.pixels.shape == (40, 60, 3)
    assert np.array_equal(img.pixels[..., ::-1], np.asarray(im.convert("RGB")))


def test_cmyk_jpeg(tmp_path):
    im = Image.fromarray(_gradient()).convert("CMYK")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=95)
    img = load_image(_write(tmp_path, "k.jpg", buf.getvalue()))
    assert img.pixels.shape == (40, 60, 3)
    ref = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).astype(int)
    assert np.abs(img.pixels[..., ::-1].astype(int) - ref).max() <= 1


@pytest.mark.parametrize("orientation,expect_shape", [(1, (40, 60)), (3, (40, 60)), (6, (60, 40)), (8, (60, 40))])
def test_exif_orientation_is_applied(tmp_path, orientation, expect_shape):
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[:10, :10] = 255  # a white mark in the stored top-left corner
    im = Image.fromarray(rgb)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif, quality=98)
    img = load_image(_write(tmp_path, f"o{orientation}.jpg", buf.getvalue()))
    assert img.pixels.shape[:2] == expect_shape
    assert (img.height, img.width) == expect_shape
    # where the mark lands: 1 top-left, 3 bottom-right, 6 (rotate 90 cw) top-right, 8 (90 ccw) bottom-left
    corner = {1: (0, 0), 3: (-1, -1), 6: (0, -1), 8: (-1, 0)}[orientation]
    y = 2 if corner[0] == 0 else expect_shape[0] - 3
    x = 2 if corner[1] == 0 else expect_shape[1] - 3
    assert img.pixels[y, x].mean() > 200


def test_one_pixel_image(tmp_path):
    img = load_image(_write(tmp_path, "1.png", _png_bytes(np.full((1, 1, 3), 9, np.uint8))))
    assert img.pixels.shape == (1, 1, 3)


def _png_header_only(w, h):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def test_huge_png_is_refused_before_decoding(tmp_path):
    with pytest.raises(ImageError, match="too large"):
        load_image(_write(tmp_path, "huge.png", _png_header_only(20000, 20000)))


def test_absurd_header_is_refused(tmp_path):
    with pytest.raises(ImageError, match="too large"):
        load_image(_write(tmp_path, "absurd.png", _png_header_only(100000, 100000)))


def test_large_jpeg_decodes_reduced_with_scale(tmp_path):
    big = np.zeros((4000, 3000), np.uint8)
    big[1000:1100, 2000:2100] = 255
    ok, buf = cv2.imencode(".jpg", big)
    img = decode_image(buf.tobytes(), max_pixels=1_000_000)
    assert (img.width, img.height) == (3000, 4000)
    assert img.scale == 4.0 and img.pixels.shape[:2] == (1000, 750)
    # the white square is where the scale says it is
    ys, xs = np.nonzero(img.pixels[..., 0] > 128)
    assert abs(xs.mean() * img.scale - 2050) < 8 and abs(ys.mean() * img.scale - 1050) < 8


def test_20000px_jpeg_loads_with_bounded_memory(tmp_path):
    import subprocess
    import sys

    a = np.zeros((20000, 20000), np.uint8)
    a[::97] = 255
    ok, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, 40])
    del a
    p = _write(tmp_path, "huge.jpg", buf.tobytes())
    code = (
        "from facealign.io.images import load_image; "
        f"im = load_image({str(p)!r}); "
        # VmHWM is this process's peak RSS (ru_maxrss would include the forking parent's)
        "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
        "print(im.width, im.height, im.scale, im.pixels.shape[0], hwm)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    w, h, scale, rows, maxrss_kb = int(out[0]), int(out[1]), float(out[2]), int(out[3]), int(out[4])
    assert (w, h) == (20000, 20000) and rows * scale == 20000
    assert maxrss_kb < 600_000  # a full decode would need 1.2 GB for the pixels alone
