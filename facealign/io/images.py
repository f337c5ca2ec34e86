"""Image loading that never surprises: EXIF orientation, every pixel mode, clear errors, bounded memory.

``load_image`` returns a BGR uint8 image (OpenCV's layout) plus what is needed to map coordinates back to the
original image: JPEGs larger than ``max_pixels`` are decoded at a reduced scale (1/2, 1/4 or 1/8, straight from
the compressed data, so memory stays bounded), and ``LoadedImage.scale`` says by how much.
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = None  # we enforce our own limit below, with a clearer message
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, not a grey half-image

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm", ".gif"}
DEFAULT_MAX_PIXELS = 40_000_000  # ~ 8K UHD; larger JPEGs are decoded at 1/2, 1/4 or 1/8 scale
HARD_MAX_PIXELS = 1_000_000_000  # headers claiming more than this are refused outright


class ImageError(Exception):
    """An input image could not be used; the message names the problem (the caller adds the path)."""


@dataclass
class LoadedImage:
    """A decoded image. ``width``/``height`` are the original size after EXIF orientation;
    ``scale`` = original size / decoded size (1.0 unless a huge JPEG was decoded reduced)."""

    pixels: np.ndarray  # (h, w, 3) uint8 BGR
    width: int
    height: int
    scale: float = 1.0


def load_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read an image file as BGR uint8; raise ImageError with a one-line reason on any problem."""
    p = Path(path)
    if not p.exists():
        raise ImageError("file not found")
    if p.is_dir():
        raise ImageError("is a folder, not an image")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ImageError(f"cannot read file: {e.strerror or e}") from None
    return decode_image(data, max_pixels=max_pixels)


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Decode encoded image bytes (see load_image)."""
    if len(data) == 0:
        raise ImageError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data))
            im.size  # noqa: B018  header parsed
    except UnidentifiedImageError:
        raise ImageError("not an image, or an unsupported image format") from None
    except Exception as e:  # PIL raises many types on malformed headers
        raise ImageError(f"corrupt image header ({type(e).__name__}: {e})") from None

    w0, h0 = im.size
    if w0 < 1 or h0 < 1:
        raise ImageError(f"invalid image size {w0}x{h0}")
    if w0 * h0 > HARD_MAX_PIXELS:
        raise ImageError(f"image too large ({w0}x{h0}, over {HARD_MAX_PIXELS // 1_000_000} MP)")
    orientation = _exif_orientation(im)
    scale = 1.0
    if w0 * h0 > max_pixels:
        if im.format != "JPEG":
            raise ImageError(
                f"image too large ({w0}x{h0} = {w0 * h0 / 1e6:.0f} MP > {max_pixels / 1e6:.0f} MP limit for"
                f" {im.format or 'this format'}; raise --max-pixels or convert it to JPEG)"
            )
        # draft() makes libjpeg decode at 1/2, 1/4 or 1/8 scale: memory follows the reduced size
        k = next((k for k in (2, 4, 8) if w0 * h0 / (k * k) <= max_pixels), 0)
        if not k:
            raise ImageError(f"image too large ({w0}x{h0}): even 1/8 scale exceeds {max_pixels / 1e6:.0f} MP")
        im.draft("RGB", (-(-w0 // k), -(-h0 // k)))
        scale = w0 / im.size[0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.load()
    except OSError as e:
        msg = str(e)
        if "truncated" in msg.lower():
            raise ImageError("truncated image file (the data ends early)") from None
        raise ImageError(f"corrupt image data ({msg})") from None
    except Exception as e:
        raise ImageError(f"corrupt image data ({type(e).__name__}: {e})") from None

    if orientation != 1:
        try:
            im = ImageOps.exif_transpose(im)
        except Exception:
            pass  # a broken EXIF block must not make the image unusable
        if orientation in (5, 6, 7, 8):
            w0, h0 = h0, w0
    rgb = _to_rgb8(im)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    return LoadedImage(pixels=bgr, width=int(w0), height=int(h0), scale=float(scale))


def _exif_orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1) or 1)
    except Exception:
        return 1  # a broken EXIF block must not make the image unusable


def _to_rgb8(im: Image.Image) -> np.ndarray:
    """Any PIL mode -> (h, w, 3) uint8 RGB. 16-bit and float images are scaled to 8 bits, alpha is dropped."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16"):
            a = a / 257.0
        elif mode == "I":
            hi = a.max() if a.size else 0
            a = a / 257.0 if hi > 255 else a
        else:  # float: assume [0, 1] if it looks so
            a = a * 255.0 if a.size and a.max() <= 1.0 else a
        g = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2)
    if mode == "RGB":
        return np.asarray(im)
    if mode in ("L", "1"):
        g = np.asarray(im.convert("L"))
        return np.repeat(g[:, :, None], 3, axis=2)
    # P, PA, LA, RGBA, CMYK, YCbCr, LAB, HSV, RGBX...: let PIL convert (CMYK uses its inverted-Adobe handling)
    if mode in ("P", "PA"):
        im = im.convert("RGBA")
    return np.asarray(im.convert("RGB"))


def is_image_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS
