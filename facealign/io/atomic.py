"""Atomic file output: a file is either absent or complete, never half-written (crash- and Ctrl-C-safe)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path`` (atomic on POSIX)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
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
