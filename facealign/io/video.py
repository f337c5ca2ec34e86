"""Video input and output: frames from a video file (PyAV) or a folder of images, and an atomic MP4 writer.

``open_frames(path)`` returns a ``FrameSource``: iterate it for ``Frame(index, time, image)`` tuples (time in
seconds, image BGR uint8). Frames are decoded one at a time (FFmpeg threads, a small read-ahead queue), so
memory stays flat on long videos. A truncated video, or one whose data cannot be demuxed, is read up to the
damage: iteration ends there and ``source.error`` says what happened (no exception). Frames FFmpeg can only
decode with error concealment (damaged data inside the stream) are still delivered and also reported in
``source.error``. Opening something that is not a video at all raises
``VideoError`` with a one-line reason.

``VideoWriter`` encodes BGR frames to MP4 (H.264 if FFmpeg has libx264, else MPEG-4 part 2) into a temporary
file beside the target and renames it at ``close()``, so the target is either absent or complete.

PyAV is a main dependency (its wheels bundle FFmpeg); it is imported on first use.
"""
from __future__ import annotations

import os
import queue
import re
import tempfile
import threading
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

from facealign.io.images import DEFAULT_MAX_PIXELS, ImageError, LoadedImage, is_image_path, load_image
from facealign.io.inputs import printable

DEFAULT_FOLDER_FPS = 25.0


class VideoError(Exception):
    """A video could not be opened or written; the message is one line and names the file."""


class Frame(NamedTuple):
    index: int
    time: float  # seconds from the start of the stream
    image: np.ndarray  # (h, w, 3) uint8 BGR


def import_av():
    """The ``av`` module, or a clear error saying how to install it."""
    try:
        import av
    except ImportError:
        raise VideoError("video support needs PyAV (a dependency of facealign): pip install av") from None
    return av


class FrameSource:
    """Frames of one input. ``fps`` and ``frame_count`` (None when unknown) are known after opening;
    ``error`` is set when reading stopped early (damaged file, unreadable frame image) and ``frames_read``
    counts the frames delivered."""

    def __init__(self, path: str | os.PathLike, max_frames: int | None = None) -> None:
        self.path = Path(path)
        self.max_frames = max_frames
        self.error: str | None = None
        self.frames_read = 0
        self.fps: float = DEFAULT_FOLDER_FPS
        self.frame_count: int | None = None
        self.width: int | None = None
        self.height: int | None = None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file (iteration does it at the end; call it when stopping early)."""

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _limit(self, n: int | None) -> int | None:
        if self.max_frames is None:
            return n
        return self.max_frames if n is None else min(n, self.max_frames)


class VideoFileSource(FrameSource):
    """Frames of a video file decoded by FFmpeg through PyAV (first video stream)."""

    def __init__(self, path: str | os.PathLike, max_frames: int | None = None, threads: int = 0, prefetch: int = 4):
        super().__init__(path, max_frames)
        av = import_av()
        self._av = av
        self._prefetch = prefetch
        try:
            self._container = av.open(str(self.path))
        except (av.FFmpegError, OSError, ValueError) as e:
            raise VideoError(f"{self.path}: cannot open video ({_short(e)})") from None
        if not self._container.streams.video:
            self._container.close()
            raise VideoError(f"{self.path}: no video stream")
        self._stream = self._container.streams.video[0]
        # frame-level threads decode ahead on the other core; slice threads help little on small frames
        self._stream.thread_type = "AUTO"
        self._stream.thread_count = threads
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else DEFAULT_FOLDER_FPS
        self.frame_count = self._limit(int(self._stream.frames) or None)
        self.width = self._stream.codec_context.width
        self.height = self._stream.codec_context.height
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.corrupt: list[int] = []  # frames FFmpeg decoded from damaged data (with error concealment)

    def _decode(self, out: queue.Queue) -> None:
        """Decoder thread: puts Frames, then None; an FFmpeg error becomes ``self.error``."""
        av, tb = self._av, self._stream.time_base
        index = 0
        try:
            for frame in self._container.decode(self._stream):
                if self._stop.is_set() or (self.max_frames is not None and index >= self.max_frames):
                    break
                t = float(frame.pts * tb) if frame.pts is not None and tb else index / self.fps
                if getattr(frame, "is_corrupt", False):
                    self.corrupt.append(index)
                img = frame.to_ndarray(format="bgr24")
                while not self._stop.is_set():
                    try:
                        out.put(Frame(index, t, img), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                index += 1
        except av.FFmpegError as e:
            self.error = f"{self.path}: video damaged at frame {index} ({_short(e)}); read {index} frames"
        except Exception as e:  # a decoder bug must still end the stream cleanly
            self.error = f"{self.path}: video decoding failed at frame {index} ({type(e).__name__}: {e})"
        finally:
            while True:
                try:
                    out.put(None, timeout=0.1)
                    break
                except queue.Full:
                    if self._stop.is_set():
                        break

    def __iter__(self) -> Iterator[Frame]:
        q: queue.Queue = queue.Queue(maxsize=self._prefetch)
        self._thread = threading.Thread(target=self._decode, args=(q,), daemon=True)
        self._thread.start()
        start_offset: float | None = None
        try:
            while True:
                item = q.get()
                if item is None:
                    break
                if start_offset is None:  # streams may start at a non-zero pts: report time from the first frame
                    start_offset = item.time
                self.frames_read += 1
                yield Frame(item.index, max(0.0, item.time - start_offset), item.image)
        finally:
            self.close()
        if self.corrupt and self.error is None:
            c = self.corrupt
            self.error = (f"{self.path}: video damaged: {len(c)} corrupt frame(s) from frame {c[0]}"
                          " (decoded with FFmpeg's error concealment; their landmarks may be wrong)")
        expected = self.frame_count
        if self.error is None and expected and self.frames_read < expected * 0.98 - 1:
            # a truncated file often ends without a decoder error: compare with the header's frame count
            self.error = f"{self.path}: video ends early (truncated?): read {self.frames_read} of {expected} frames"

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        try:
            self._container.close()
        except Exception:
            pass


class FolderSource(FrameSource):
    """Images of a folder in natural sort order (frame2 before frame10), at ``fps`` frames per second.

    Frames are read by the photo loader (``facealign.io.images.load_image``): the same file checks, size limit
    (``max_pixels``; frames are never decoded at reduced scale), truncation check and any file name. An
    unreadable image is skipped and reported in ``error`` (the other frames are still processed)."""

    def __init__(self, path: str | os.PathLike, max_frames: int | None = None, fps: float = DEFAULT_FOLDER_FPS,
                 max_pixels: int = DEFAULT_MAX_PIXELS):
        super().__init__(path, max_frames)
        self.fps = fps
        self.max_pixels = max_pixels
        with os.scandir(self.path) as it:  # the photo batch's extension list; odd entries are reported when read
            names = [e.name for e in it if is_image_path(e.name) and not _is_dir(e)]
        self.files = [self.path / n for n in sorted(names, key=_natural_key)]
        if not self.files:
            raise VideoError(f"{printable(str(self.path))}: folder has no image files")
        self.frame_count = self._limit(len(self.files))
        self._first: LoadedImage | ImageError | None = self._load(self.files[0])
        if isinstance(self._first, LoadedImage):
            self.height, self.width = self._first.pixels.shape[:2]

    def _load(self, f: Path) -> LoadedImage | ImageError:
        try:
            return load_image(f, max_pixels=self.max_pixels, reduce=False)
        except ImageError as e:
            return e

    def __iter__(self) -> Iterator[Frame]:
        bad: list[str] = []
        for i, f in enumerate(self.files[: self.frame_count]):
            if i == 0 and self._first is not None:  # decoded already for the size
                img, self._first = self._first, None
            else:
                img = self._load(f)
            if isinstance(img, ImageError):
                bad.append(f"{printable(f.name)} ({img})")
                continue
            self.frames_read += 1
            yield Frame(i, i / self.fps, img.pixels)
        if bad:
            self.error = (f"{printable(str(self.path))}: {len(bad)} unreadable frame image(s), skipped: "
                          + ", ".join(bad[:3]) + (" ..." if len(bad) > 3 else ""))


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def open_frames(path: str | os.PathLike, max_frames: int | None = None, fps: float | None = None,
                max_pixels: int = DEFAULT_MAX_PIXELS) -> FrameSource:
    """A FrameSource for a video file or a folder of frames (``fps`` sets the folder's frame rate,
    ``max_pixels`` the largest frame image a folder may hold)."""
    p = Path(path)
    if not p.exists():
        raise VideoError(f"{printable(str(p))}: no such file or folder")
    if p.is_dir():
        return FolderSource(p, max_frames, fps or DEFAULT_FOLDER_FPS, max_pixels)
    if not p.is_file():  # a FIFO or a device (/dev/zero) has no size and no end: never opened
        raise VideoError(f"{printable(str(p))}: not a regular file (a named pipe, device or socket);"
                         " videos are read from regular files only")
    if p.stat().st_size == 0:
        raise VideoError(f"{printable(str(p))}: empty file (0 bytes)")
    return VideoFileSource(p, max_frames)


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _short(e: Exception) -> str:
    text = getattr(e, "strerror", None) or str(e).strip()
    text = text.splitlines()[0] if text else type(e).__name__
    return text[:200]


class VideoWriter:
    """Writes BGR frames to an MP4 file atomically (temp file, renamed at ``close``; removed on ``abort``).

    Frames are encoded on a background thread (the caller only queues them) and must all have the size of
    the first one; odd sizes are padded by one pixel (H.264 needs even sizes)."""

    def __init__(self, path: str | os.PathLike, fps: float, crf: int = 23, preset: str = "veryfast", queue_size: int = 8,
                 threads: int | None = None):
        av = import_av()
        self._av = av
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".tmp.mp4", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self.fps = fps
        self._opts = {"crf": str(crf), "preset": preset}
        self._threads = threads  # encoder threads (None: FFmpeg's choice; small crop videos need one)
        # faststart puts the index first: players start at once, and a cut-off copy still decodes up to the cut
        self._container = av.open(str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
        self._stream = None
        self._size: tuple[int, int] | None = None
        self.frames = 0
        self.error: str | None = None
        self._q: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _open_stream(self, w: int, h: int) -> None:
        from fractions import Fraction

        rate = Fraction(self.fps).limit_denominator(1001) if self.fps > 0 else Fraction(25)
        codec = "libx264" if "libx264" in self._av.codecs_available else "mpeg4"
        self._stream = self._container.add_stream(codec, rate=rate)
        self._stream.width, self._stream.height = w, h
        self._stream.pix_fmt = "yuv420p"
        if self._threads:
            self._stream.codec_context.thread_count = self._threads
        if codec == "libx264":
            self._stream.options = dict(self._opts)
        else:
            self._stream.bit_rate = 2_000_000

    def write(self, image: np.ndarray, copy: bool = True) -> None:
        """Queue one BGR uint8 frame. It is copied unless ``copy`` is False (the caller hands it over and does
        not touch it again, e.g. a freshly drawn overlay)."""
        if self.error:
            raise VideoError(self.error)
        self._q.put(np.ascontiguousarray(image).copy() if copy else np.ascontiguousarray(image))

    def _run(self) -> None:
        av = self._av
        try:
            while True:
                img = self._q.get()
                if img is None:
                    break
                if self._size is None:
                    h, w = img.shape[:2]
                    self._size = (w + w % 2, h + h % 2)
                    self._open_stream(*self._size)
                w, h = self._size
                if img.shape[1] != w or img.shape[0] != h:
                    img = _fit(img, w, h)
                frame = av.VideoFrame.from_ndarray(img, format="bgr24")
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
                self.frames += 1
            if self._stream is not None:
                for packet in self._stream.encode():
                    self._container.mux(packet)
        except Exception as e:
            self.error = f"{self.path}: video encoding failed ({_short(e)})"
            while self._q.get() is not None:  # drain so write() never blocks forever
                pass

    def close(self) -> None:
        """Finish encoding and move the file into place (a writer that got no frames leaves no file)."""
        self._q.put(None)
        self._thread.join()
        try:
            self._container.close()
        except Exception as e:
            self.error = self.error or f"{self.path}: cannot finish video ({_short(e)})"
        if self.error or self.frames == 0:
            self._tmp.unlink(missing_ok=True)
            if self.error:
                raise VideoError(self.error)
            return
        os.chmod(self._tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Stop and remove the temporary file."""
        self.error = self.error or "aborted"
        self._q.put(None)
        self._thread.join(timeout=10)
        try:
            self._container.close()
        except Exception:
            pass
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _fit(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """Pad (bottom/right, black) or cut ``img`` to w x h."""
    out = np.zeros((h, w, 3), np.uint8)
    hh, ww = min(h, img.shape[0]), min(w, img.shape[1])
    out[:hh, :ww] = img[:hh, :ww]
    return out
