"""Image loading that never surprises: EXIF orientation, every pixel mode, clear errors, bounded memory.

``load_image`` returns a BGR uint8 image (OpenCV's layout) plus what is needed to map coordinates back to the
original image: JPEGs larger than ``max_pixels`` are decoded at a reduced scale (1/2, 1/4 or 1/8, straight from
the compressed data, so memory stays bounded), and ``LoadedImage.scale`` says by how much.

Every check that can be made before decoding is made before decoding: the file must be a regular file (not a
FIFO, a device or a folder) no larger than ``max_file_bytes(max_pixels)``, opened without blocking; the pixel
count comes from the header, so a decompression bomb is refused before a single pixel is inflated. Files are
read through Python (never by path in OpenCV), so any file name the OS accepts works, whatever its bytes.
The photo batch and the video job's folder of frames both read through this module.
"""
from __future__ import annotations

import io
import os
import stat
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, not a grey half-image

# One list: what a folder (photo batch, video frames) takes is every photo format the loader reads. A single
# file given by name may have any extension (the loader decides by content).
IMAGE_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".apng", ".bmp", ".dib", ".gif", ".tif", ".tiff", ".webp",
    ".avif", ".avifs", ".heic", ".heif", ".hif", ".ppm", ".pgm", ".pbm", ".pnm", ".jp2", ".j2k", ".jpx", ".jpf",
    ".qoi",
})
DEFAULT_MAX_PIXELS = 40_000_000  # ~ 8K UHD; larger JPEGs are decoded at 1/2, 1/4 or 1/8 scale
HARD_MAX_PIXELS = 1_000_000_000  # headers claiming more than this are refused outright
BYTES_PER_PIXEL_LIMIT = 8  # 16-bit RGBA uncompressed: the largest honest file of max_pixels pixels
MIN_FILE_LIMIT = 64 * 1024 * 1024

try:  # HEIC/HEIF decoding when the optional plugin is installed (AVIF is built into Pillow >= 11.2)
    from pillow_heif import register_heif_opener

    register_heif_opener()
except Exception:  # absent or broken plugin: such files get a clear "unsupported format" error
    pass


class ImageError(Exception):
    """An input image could not be used; the message names the problem (the caller adds the path)."""


@dataclass
class LoadedImage:
    """A decoded image. ``width``/``height`` are the original size after EXIF orientation;
    ``scale`` = original size / decoded size (1.0 unless a huge JPEG was decoded reduced);
    ``warning`` says what was not read (e.g. the other pages of a multi-page TIFF), else None."""

    pixels: np.ndarray  # (h, w, 3) uint8 BGR
    width: int
    height: int
    scale: float = 1.0
    warning: str | None = None


def max_file_bytes(max_pixels: int = DEFAULT_MAX_PIXELS) -> int:
    """Largest file ``load_image`` opens: 8 bytes per pixel of ``max_pixels`` (at least 64 MiB; 320 MB at the
    default 40 MP), enough for an uncompressed 16-bit RGBA image of that size."""
    return max(MIN_FILE_LIMIT, BYTES_PER_PIXEL_LIMIT * int(max_pixels))


def load_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS, reduce: bool = True) -> LoadedImage:
    """Read an image file as BGR uint8; raise ImageError with a one-line reason on any problem.

    ``reduce=False`` refuses a JPEG over ``max_pixels`` instead of decoding it at a reduced scale (for callers
    that need every image at full resolution, such as the frames of a video).
    """
    with open_image_file(path, max_pixels) as f:
        return _decode(f, max_pixels, reduce)


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, reduce: bool = True) -> LoadedImage:
    """Decode encoded image bytes (see load_image)."""
    if len(data) == 0:
        raise ImageError("empty file (0 bytes)")
    return _decode(io.BytesIO(data), max_pixels, reduce)


def open_image_file(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> BinaryIO:
    """Open ``path`` for reading after checking it is a regular, non-empty file within ``max_file_bytes``.

    ``stat`` first (a FIFO or a device is never opened), then a non-blocking open and the same checks on the
    open file (it may have been swapped in between)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ImageError("file not found" + (" (broken symbolic link)" if os.path.islink(path) else "")) from None
    except OSError as e:
        raise ImageError(f"cannot read file: {e.strerror or e}") from None
    _check_stat(st, max_pixels)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise ImageError(f"cannot read file: {e.strerror or e}") from None
    try:
        _check_stat(os.fstat(fd), max_pixels)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _check_stat(st: os.stat_result, max_pixels: int) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise ImageError("is a folder, not an image")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a special file")
        raise ImageError(f"not a regular file ({kind}); images are read from regular files only")
    if st.st_size == 0:
        raise ImageError("empty file (0 bytes)")
    limit = max_file_bytes(max_pixels)
    if st.st_size > limit:
        raise ImageError(f"file too large ({st.st_size / 1e6:.0f} MB > {limit / 1e6:.0f} MB, the limit for"
                         f" --max-pixels {max_pixels}: {BYTES_PER_PIXEL_LIMIT} bytes a pixel)")


def _set_bomb_guard(max_pixels: int) -> None:
    # Pillow's own guard as a second line behind the explicit checks: it refuses (error, not warning) more
    # pixels than the largest image we would decode, a JPEG read at 1/8 scale
    Image.MAX_IMAGE_PIXELS = max(1, min(HARD_MAX_PIXELS, 64 * int(max_pixels)) // 2)


def _open(f: BinaryIO, max_pixels: int) -> Image.Image:
    """Parse the header (no pixels) and refuse sizes beyond what any decode may use."""
    _set_bomb_guard(max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(f)
            im.size  # noqa: B018  header parsed
    except Image.DecompressionBombError:
        raise ImageError(f"image too large (header claims over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} MP)") from None
    except UnidentifiedImageError:
        raise ImageError("not an image, or an unsupported image format") from None
    except Exception as e:  # PIL raises many types on malformed headers
        raise ImageError(f"corrupt image header ({type(e).__name__}: {e})") from None
    w0, h0 = im.size
    if w0 < 1 or h0 < 1:
        raise ImageError(f"invalid image size {w0}x{h0}")
    if w0 * h0 > HARD_MAX_PIXELS:
        raise ImageError(f"image too large ({w0}x{h0}, over {HARD_MAX_PIXELS // 1_000_000} MP)")
    return im


def _frame_count(im: Image.Image) -> int:
    try:
        return int(getattr(im, "n_frames", 1) or 1)
    except Exception:  # a damaged later frame: the first one may still be fine
        return 1


def _decode(f: BinaryIO, max_pixels: int, reduce: bool) -> LoadedImage:
    im = _open(f, max_pixels)
    w0, h0 = im.size
    scale = 1.0
    if w0 * h0 > max_pixels:
        if im.format != "JPEG" or not reduce:
            why = f" for {im.format or 'this format'}; raise --max-pixels or convert it to JPEG" if reduce else ""
            raise ImageError(f"image too large ({w0}x{h0} = {w0 * h0 / 1e6:.0f} MP > {max_pixels / 1e6:.0f} MP limit{why})")
        # draft() makes libjpeg decode at 1/2, 1/4 or 1/8 scale: memory follows the reduced size
        k = next((k for k in (2, 4, 8) if w0 * h0 / (k * k) <= max_pixels), 0)
        if not k:
            raise ImageError(f"image too large ({w0}x{h0}): even 1/8 scale exceeds {max_pixels / 1e6:.0f} MP")
        im.draft("RGB", (-(-w0 // k), -(-h0 // k)))
        scale = w0 / im.size[0]
    warning = _pages_warning(im)
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

    # orientation only now: reading EXIF before the pixels makes Pillow decode a PNG whole (its EXIF may follow
    # the image data), which would bypass the size checks above
    method = _TRANSPOSE.get(_exif_orientation(im))
    if method is not None:
        try:
            im = im.transpose(method)
        except Exception:
            pass  # a broken EXIF block must not make the image unusable
        else:
            if method in _SWAPS_AXES:
                w0, h0 = h0, w0
    bgr = _to_bgr8(im)
    return LoadedImage(pixels=bgr, width=int(w0), height=int(h0), scale=float(scale), warning=warning)


def _pages_warning(im: Image.Image) -> str | None:
    """A warning when the file holds more than the one picture we read (multi-page TIFF, animated GIF/PNG/WebP).
    MPO (a JPEG with camera previews or a stereo pair) is not warned about: its first picture is the photo."""
    n = _frame_count(im)
    if n <= 1 or im.format == "MPO":
        return None
    try:
        im.seek(0)
    except Exception:
        pass
    kind = "pages" if im.format == "TIFF" else "frames"
    return f"{im.format or 'image'} file with {n} {kind}: only the first was read"


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = {Image.Transpose.TRANSPOSE, Image.Transpose.ROTATE_270, Image.Transpose.TRANSVERSE,
               Image.Transpose.ROTATE_90}


def _exif_orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1) or 1)
    except Exception:
        return 1  # a broken EXIF block must not make the image unusable


_ROWS = 512  # rows converted at a time: wide intermediate types never hold the whole image


def _to_bgr8(im: Image.Image) -> np.ndarray:
    """Any PIL mode -> (h, w, 3) uint8 BGR. 16-bit and float images are scaled to 8 bits, alpha is dropped.

    Converted in bands of rows into one output array, so the peak is the PIL image plus the result."""
    mode = im.mode
    w, h = im.size
    out = np.empty((h, w, 3), np.uint8)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        hi = float(im.getextrema()[1])
        if mode.startswith("I;16"):
            factor = 1 / 257.0
        elif mode == "I":
            factor = 1 / 257.0 if hi > 255 else 1.0
        else:  # float: assume [0, 1] if it looks so
            factor = 255.0 if hi <= 1.0 else 1.0
        for y in range(0, h, _ROWS):
            band = im if h <= _ROWS else im.crop((0, y, w, min(h, y + _ROWS)))
            a = np.asarray(band).astype(np.float64) * factor
            out[y:y + _ROWS] = np.clip(np.rint(a), 0, 255).astype(np.uint8)[:, :, None]
        return out
    if mode in ("L", "1"):
        g = np.asarray(im.convert("L") if mode == "1" else im)
        out[:] = g[:, :, None]
        return out
    for y in range(0, h, _ROWS):
        band = im if h <= _ROWS else im.crop((0, y, w, min(h, y + _ROWS)))
        if mode != "RGB":
            # P, PA, LA, RGBA, CMYK, YCbCr, LAB, HSV, RGBX...: PIL converts (CMYK with its inverted-Adobe handling)
            band = (band.convert("RGBA") if mode in ("P", "PA") else band).convert("RGB")
        out[y:y + _ROWS] = np.asarray(band)[:, :, ::-1]
    return out


def is_image_path(path: str | os.PathLike) -> bool:
    """True when a folder expansion takes this file (its extension is in IMAGE_EXTENSIONS)."""
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS


def as_bgr(image: np.ndarray) -> np.ndarray:
    """A 3-channel image of grey (H, W) or BGRA (H, W, 4) input, the input itself otherwise: the networks and the
    crop warp take BGR (what load_image returns)."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image
