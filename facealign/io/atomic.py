"""Atomic file output: a file is either absent or complete, never half-written (crash- and Ctrl-C-safe)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np


def _read_umask() -> int:
    try:  # race-free where the kernel shows it (Linux >= 4.7)
        with open("/proc/self/status") as f:
            return next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


# mkstemp makes 0600 files; outputs get the mode a plain open() would give them (0644 under the usual umask)
FILE_MODE = 0o666 & ~_read_umask()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path`` (atomic on POSIX)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), FILE_MODE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_image_atomic(path: str | os.PathLike, image: np.ndarray, jpeg_quality: int = 95) -> None:
    """Encode a BGR image by the file's extension (.png, .jpg, .webp) and write it atomically."""
    ext = Path(path).suffix.lower() or ".png"
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if ext in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(ext, image, params)
    if not ok:
        raise OSError(f"could not encode image as {ext}")
    write_bytes_atomic(path, buf.tobytes())
