"""Mean and median fusion of aligned crops of one person, streamed: memory does not grow with their number.

Each crop (and its mask: 0 where the crop reached past its photo's edge) is added as it comes. The mean is kept as
running sums; the crops themselves go to a spool file on disk, from which the per-pixel median and the contact
sheet are made at the end, a slice of pixels at a time.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import cv2
import numpy as np

MEDIAN_CHUNK_BYTES = 32 << 20  # float32 working set of one median slice
SHEET_MAX_SIDE = 4096  # the contact sheet's tiles shrink so it stays this wide and high at most


@dataclass
class MergedFace:
    mean: np.ndarray  # (s, s, 3) uint8 BGR
    median: np.ndarray  # (s, s, 3) uint8 BGR
    sheet: np.ndarray  # contact sheet of the aligned inputs
    count: int

    def outputs(self) -> dict[str, np.ndarray]:
        """The pictures to write, by the suffix of their file stem ("": the main composite)."""
        return {"": self.mean, "_median": self.median, "_sheet": self.sheet}


class MeanFusion:
    """Accumulates aligned crops of one size; ``result()`` gives the mean and median composites and the sheet.

    ``spool_dir``: where the spool file lives (default: the system's temporary folder); it is deleted by
    ``close()`` (or when the object is collected).
    """

    def __init__(self, size: int, spool_dir: str | None = None) -> None:
        self.size = int(size)
        self.count = 0
        self._sum = np.zeros((self.size, self.size, 3), np.float64)
        self._cnt = np.zeros((self.size, self.size), np.float64)
        self._spool = tempfile.TemporaryFile(prefix=".facealign-merge-", dir=spool_dir)

    def add(self, crop: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Add one (s, s, 3) uint8 crop; ``mask`` (s, s) uint8 is 0 on pixels that lie outside its photo."""
        s = self.size
        if crop.shape != (s, s, 3) or crop.dtype != np.uint8:
            raise ValueError(f"expected a ({s}, {s}, 3) uint8 crop, got {crop.shape} {crop.dtype}")
        valid = np.ones((s, s), bool) if mask is None else np.asarray(mask).reshape(s, s) > 0
        self._sum += np.where(valid[..., None], crop, 0)
        self._cnt += valid
        self._spool.write(np.ascontiguousarray(crop).tobytes())
        self._spool.write(valid.astype(np.uint8).tobytes())
        self.count += 1

    def result(self) -> MergedFace:
        """The composites of everything added so far."""
        if not self.count:
            raise ValueError("no crops to merge")
        self._spool.flush()
        # float32 as the composite always was computed: the sums are exact integers, the quotient rounds the same
        cnt = np.maximum(self._cnt.astype(np.float32), 1.0)[..., None]
        mean = self._sum.astype(np.float32) / cnt
        return MergedFace(
            mean=np.clip(np.rint(mean), 0, 255).astype(np.uint8),
            median=np.clip(np.rint(self._median()), 0, 255).astype(np.uint8),
            sheet=self._sheet(),
            count=self.count,
        )

    def _median(self) -> np.ndarray:
        """Per-pixel, per-channel median of the valid values (mean of the two middle ones for an even count).

        Read back with pread, a slice of pixels of every crop at a time (a memory map would count the whole
        spool as resident memory)."""
        s, n = self.size, self.count
        fd, rec = self._spool.fileno(), 4 * s * s
        out = np.zeros(s * s * 3, np.float32)
        step = max(1, MEDIAN_CHUNK_BYTES // (n * 3 * 4))
        for p0 in range(0, s * s, step):
            p1 = min(s * s, p0 + step)
            vals = np.empty((n, p1 - p0, 3), np.float32)
            valid = np.empty((n, p1 - p0), bool)
            for i in range(n):
                vals[i] = np.frombuffer(os.pread(fd, 3 * (p1 - p0), i * rec + 3 * p0), np.uint8).reshape(-1, 3)
                valid[i] = np.frombuffer(os.pread(fd, p1 - p0, i * rec + 3 * s * s + p0), np.uint8) > 0
            vals[~valid] = np.nan
            vals.sort(axis=0)  # NaNs sort last
            k = valid.sum(0)[:, None].repeat(3, 1)
            lo = np.take_along_axis(vals, np.clip((k - 1) // 2, 0, None)[None], 0)[0]
            hi = np.take_along_axis(vals, np.clip(k // 2, 0, None)[None], 0)[0]
            out[3 * p0 : 3 * p1] = np.where(k > 0, (lo + hi) / 2, 0).reshape(-1)
        return out.reshape(s, s, 3)

    def _sheet(self) -> np.ndarray:
        return contact_sheet(_SpooledCrops(self._spool.fileno(), self.size, self.count))

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> "MeanFusion":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _SpooledCrops:
    """The spooled crops as a read-only sequence, each read from disk when asked for."""

    def __init__(self, fd: int, size: int, count: int) -> None:
        self.fd, self.size, self.count = fd, size, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> np.ndarray:
        s = self.size
        return np.frombuffer(os.pread(self.fd, 3 * s * s, i * 4 * s * s), np.uint8).reshape(s, s, 3)


def merge_crops(crops: list[np.ndarray], masks: list[np.ndarray] | None = None) -> MergedFace:
    """Fuse aligned crops of equal size. ``masks`` (uint8, 0 outside the source image) keep the black borders
    of crops that reached past their photo's edge out of the composites."""
    if not crops:
        raise ValueError("no crops to merge")
    with MeanFusion(crops[0].shape[0]) as fusion:
        for i, c in enumerate(crops):
            fusion.add(c, None if masks is None else masks[i])
        return fusion.result()


def contact_sheet(images, columns: int | None = None, pad: int = 2, max_side: int = SHEET_MAX_SIDE) -> np.ndarray:
    """Tile equally sized images into one picture (row-major, grey padding); tiles shrink when the sheet would
    be wider or higher than ``max_side``. ``images`` is a sequence (read one at a time)."""
    n = len(images)
    cols = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    h, w = images[0].shape[:2]
    k = min(1.0, (max_side - pad) / (cols * (w + pad)), (max_side - pad) / (rows * (h + pad)))
    if k < 1.0:
        h, w = max(1, int((h + pad) * k) - pad), max(1, int((w + pad) * k) - pad)
    sheet = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 128, np.uint8)
    for i in range(n):
        im = np.asarray(images[i])
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        sheet[y : y + h, x : x + w] = im if im.shape[:2] == (h, w) else cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA)
    return sheet
