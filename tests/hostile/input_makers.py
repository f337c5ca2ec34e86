"""Generated hostile inputs for the input tests (small on disk, made in a test's tmp_path) and a peak-memory probe."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def zero_deflate(n: int, block: int = 1 << 20) -> bytes:
    """A zlib stream of ``n`` zero bytes built without compressing them: a fully flushed block of zeros does not
    depend on what came before, so it is repeated; then an empty final block and the Adler-32 of n zeros."""
    c = zlib.compressobj(9)
    head = c.compress(b"\0" * block) + c.flush(zlib.Z_FULL_FLUSH)
    body = c.compress(b"\0" * block) + c.flush(zlib.Z_FULL_FLUSH)
    rest = n % block
    tail = b""
    if rest:
        c2 = zlib.compressobj(9)
        tail = (c2.compress(b"\0" * rest) + c2.flush(zlib.Z_FULL_FLUSH))[2:]
    blocks = head + body * (n // block - 1) if n >= block else head[:2]
    adler = ((n % 65521) << 16) | 1
    return blocks + tail + b"\x01\x00\x00\xff\xff" + struct.pack(">I", adler)


def bomb_png(path: Path, width: int = 30000, height: int = 30000, exif_after_data: bool = False) -> Path:
    """A valid all-black RGB PNG of width x height that is a few MB on disk (30000 x 30000: 2.6 MB, 2.7 GB raw).
    ``exif_after_data`` adds an eXIf chunk after the image data (Pillow then decodes the pixels to read it)."""
    raw = (3 * width + 1) * height  # a filter byte per row, then RGB
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    png += _chunk(b"IDAT", zero_deflate(raw))
    if exif_after_data:
        png += _chunk(b"eXIf", b"MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00"
                      b"\x00\x00\x00\x00")
    path.write_bytes(png + _chunk(b"IEND", b""))
    return path


AS_LIMIT = 3 * 2**30  # address space of a probe child: a regression fails the test, not the machine


def peak_memory(code: str, timeout: float = 30) -> dict:
    """Run ``code`` in a fresh Python; it must set ``result`` (JSON-able). Returns {"result", "peak_mb"} where
    peak_mb is the child's own peak resident memory (VmHWM). A hang raises subprocess.TimeoutExpired."""
    wrapper = (
        f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({AS_LIMIT}, {AS_LIMIT}))\n"
        + code
        + "\nimport json as _j\n"
        "_hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print('@@' + _j.dumps({'result': result, 'peak_mb': int(_hwm) / 1024}))\n"
    )
    p = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=timeout)
    line = [x for x in p.stdout.splitlines() if x.startswith("@@")]
    assert p.returncode == 0 and line, f"child failed (status {p.returncode}):\n{p.stderr[-2000:]}"
    return json.loads(line[-1][2:])


def load_in_child(path: str | Path, max_pixels: int | None = None, timeout: float = 30) -> dict:
    """load_image(path) in a fresh process: {"result": "ok WxH" or "error: <message>", "peak_mb": ...}."""
    kw = "" if max_pixels is None else f", max_pixels={max_pixels}"
    code = (
        "import os\n"
        "from facealign.io.images import ImageError, load_image\n"
        f"try:\n    im = load_image(os.fsdecode({os.fsencode(path)!r}){kw})\n"
        "    result = f'ok {im.width}x{im.height}'\n"
        "except ImageError as e:\n    result = f'error: {e}'\n"
    )
    return peak_memory(code, timeout=timeout)
