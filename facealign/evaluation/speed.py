"""Speed benchmark: per-stage latency and whole-pipeline frames/second of FaceAligner on a CPU.

Photos: the packaged sample (one face) letterboxed to 640x480 and 1280x720, and a mosaic of it (many faces) at the
same sizes; optionally the user's own photos. Each photo is held as JPEG bytes so "decode" is cv2.imdecode from
memory (no disk noise). One run = decode, ``FaceAligner.detect`` (the very call `align` makes: detector, then
landmarks of all faces in one batch and the landmark confidence check, timed apart), 3D fit (when facealign.face3d
is present), align (one warp per face). Reported: the median and p90 over ``runs`` runs after ``warmup`` runs, per
stage and for the pipeline (detect + landmarks + align).
Thread counts apply to onnxruntime (intra-op) and OpenCV; the process is also pinned to that many cores so other
thread pools (BLAS in the 3D fit) cannot use more.

A second, small measurement runs the landmark network alone on batches of crops (ms per face by batch size).
"""
from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

SIZES = ((640, 480), (1280, 720))
TILE = 213  # mosaic tile side: 3 x 2 faces at 640x480, 6 x 3 at 1280x720, faces ~40 px wide (peers can find them)
STAGES = ("decode", "detect", "landmarks", "fit3d", "align")


@dataclass
class Photo:
    """One benchmark photo: a name, its JPEG bytes and its size."""

    name: str  # "one-face", "many-faces" or a file name
    jpeg: bytes
    width: int
    height: int


@dataclass
class Row:
    """Medians (ms) of one photo x thread count; ``pipeline`` = detect + landmarks + align of the same run."""

    photo: str
    size: str
    threads: int
    faces: int
    median: dict[str, float] = field(default_factory=dict)
    p90: dict[str, float] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        ms = self.median.get("pipeline", 0.0)
        return 1000.0 / ms if ms > 0 else 0.0


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to fit ``width`` x ``height``, centred on a grey canvas."""
    s = min(width / image.shape[1], height / image.shape[0])
    im = cv2.resize(image, (round(image.shape[1] * s), round(image.shape[0] * s)), interpolation=cv2.INTER_AREA)
    out = np.full((height, width, 3), 114, np.uint8)
    y, x = (height - im.shape[0]) // 2, (width - im.shape[1]) // 2
    out[y : y + im.shape[0], x : x + im.shape[1]] = im
    return out


def mosaic(image: np.ndarray, width: int, height: int, tile: int = TILE) -> np.ndarray:
    """A ``width`` x ``height`` photo tiled with ``image`` scaled to ``tile`` px (one face per tile)."""
    t = cv2.resize(image, (tile, tile), interpolation=cv2.INTER_AREA)
    out = np.full((height, width, 3), 114, np.uint8)
    for y in range(0, height - tile + 1, tile):
        for x in range(0, width - tile + 1, tile):
            out[y : y + tile, x : x + tile] = t
    return out


def encode(image: np.ndarray, quality: int = 95) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def standard_photos(sample: str | Path | None = None, sizes=SIZES) -> list[Photo]:
    """One-face and many-face photos at each size, made from ``sample`` (default: the packaged sample photo)."""
    if sample is None:
        from facealign.samples import sample_path

        sample = sample_path()
    img = cv2.imread(str(sample), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"cannot read the sample photo {sample}")
    out = []
    for w, h in sizes:
        out.append(Photo("one-face", encode(letterbox(img, w, h)), w, h))
        out.append(Photo("many-faces", encode(mosaic(img, w, h)), w, h))
    return out


def folder_photos(folder: str | Path, limit: int = 20) -> list[Photo]:
    """Up to ``limit`` JPEG/PNG photos of a folder as they are (sorted by name)."""
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp", ".bmp"})
    out = []
    for p in files[:limit]:
        data = p.read_bytes()
        im = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if im is not None:
            out.append(Photo(p.name, data, im.shape[1], im.shape[0]))
    return out


def pin_threads(threads: int) -> None:
    """Use ``threads`` cores: OpenCV's pool and the process's CPU affinity (Linux) follow."""
    cv2.setNumThreads(threads)
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0) | _ALL_CORES)
        os.sched_setaffinity(0, set(cores[: max(1, threads)]))


_ALL_CORES: set[int] = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()


def unpin() -> None:
    cv2.setNumThreads(-1)  # OpenCV default
    if _ALL_CORES:
        os.sched_setaffinity(0, _ALL_CORES)


def _has_face3d() -> bool:
    try:
        import facealign.face3d.fit  # noqa: F401
    except Exception:
        return False
    return True


def time_photo(aligner, photo: Photo, runs: int, warmup: int, fit3d: bool) -> tuple[int, dict[str, list[float]]]:
    """(faces found, per-stage lists of run times in ms) for one photo; all stages run on every run.

    Detection and landmarks are one ``aligner.detect`` call, as in `align` (same stage order, the landmark
    confidence check included); the call reports the split between the two."""
    buf = np.frombuffer(photo.jpeg, np.uint8)
    times: dict[str, list[float]] = {s: [] for s in (*STAGES, "pipeline")}
    n_faces = 0
    clock = time.perf_counter
    split: dict[str, float] = {}
    for i in range(warmup + runs):
        t0 = clock()
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        t1 = clock()
        faces = aligner.detect(img, timings=split)
        t3 = clock()
        if fit3d and faces:
            aligner.fit3d(img, faces)
        t4 = clock()
        aligner.align(img, faces)
        t5 = clock()
        if i < warmup:
            continue
        n_faces = len(faces)
        stage = {"decode": t1 - t0, "detect": split["detect"], "landmarks": split["landmarks"], "fit3d": t4 - t3,
                 "align": t5 - t4}
        for s in STAGES:
            times[s].append(stage[s] * 1e3)
        times["pipeline"].append((t3 - t1 + t5 - t4) * 1e3)
    if not fit3d:
        del times["fit3d"]
    return n_faces, times


def _default_aligner(threads: int, detector: str | None, landmarks: str | None, det_size: int | None = None,
                     tta: bool = True):
    """The pipeline as the facealign commands run it (pipeline.build_aligner): the shared pool of ``threads``
    threads (one thread: none), optional models by registered name or ONNX file."""
    from facealign.pipeline import AlignerOptions, build_aligner

    return build_aligner(AlignerOptions(detector_model=detector or None, landmarks_model=landmarks or None,
                                        threads=threads, det_size=det_size, tta=tta))


def _rows_of(aligner, photos: list[Photo], t: int, runs: int, warmup: int, fit3d: bool, progress) -> list[Row]:
    rows = []
    for ph in photos:
        if progress:
            progress(f"{ph.name} {ph.width}x{ph.height}, {t} thread(s)")
        n, times = time_photo(aligner, ph, runs, warmup, fit3d)
        rows.append(Row(
            ph.name, f"{ph.width}x{ph.height}", t, n,
            median={k: float(np.median(v)) for k, v in times.items()},
            p90={k: float(np.percentile(v, 90)) for k, v in times.items()},
        ))
    return rows


def _say(message: str) -> None:
    sys.stderr.write(f"bench: {message}\n")


def _measure_in_this_process(t: int, photos: list[Photo], runs: int, warmup: int, fit3d: bool, detector, landmarks,
                             det_size, tta: bool, batches: tuple[int, ...], verbose: bool):
    """(rows, landmark ms per face by batch) for one thread count with the shipped models (run in a fresh process:
    onnxruntime's shared pool is sized once per process)."""
    pin_threads(t)
    try:
        aligner = _default_aligner(t, detector, landmarks, det_size, tta)
        rows = _rows_of(aligner, photos, t, runs, warmup, fit3d, _say if verbose else None)
        model = aligner.landmark_model
        per_batch = landmark_batches(model, t, batches) if batches and model is not None else {}
    finally:
        unpin()
    return rows, per_batch


def run_benchmark(
    photos: list[Photo],
    threads: tuple[int, ...] = (1, 2),
    runs: int = 50,
    warmup: int = 5,
    fit3d: bool | None = None,
    make_aligner: Callable[[int], object] | None = None,
    detector_path: str | None = None,
    landmarks_path: str | None = None,
    det_size: int | None = None,
    progress: Callable[[str], None] | None = None,
    tta: bool = True,
    batches: tuple[int, ...] = (),
    landmark_times: dict[int, dict[int, float]] | None = None,
) -> list[Row]:
    """One Row per photo x thread count. ``make_aligner(threads)`` replaces the shipped models (tests).

    With the shipped models each thread count is measured in a fresh process, set up as the commands run (see
    _default_aligner), and also times the landmark network alone on ``batches`` (ms per face into
    ``landmark_times[threads]``).
    """
    fit3d = _has_face3d() if fit3d is None else fit3d
    rows: list[Row] = []
    if make_aligner is not None:
        for t in threads:
            pin_threads(t)
            try:
                rows += _rows_of(make_aligner(t), photos, t, runs, warmup, fit3d, progress)
            finally:
                unpin()
        return rows
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    for t in threads:
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            r, b = pool.submit(_measure_in_this_process, t, photos, runs, warmup, fit3d, detector_path,
                               landmarks_path, det_size, tta, tuple(batches), progress is not None).result()
        rows += r
        if landmark_times is not None and b:
            landmark_times[t] = b
    return rows


def landmark_batches(model, threads: int, batches=(1, 8, 32), runs: int = 20, warmup: int = 3) -> dict[int, float]:
    """Median ms per face of the landmark network alone (``model.session``) on batches of random crops."""
    size = int(getattr(model, "size", 112))
    rng = np.random.default_rng(0)
    out = {}
    pin_threads(threads)
    try:
        for n in batches:
            x = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
            feed = {model.input_name: x}
            ts = []
            for i in range(warmup + runs):
                t0 = time.perf_counter()
                model.session.run(None, feed)
                if i >= warmup:
                    ts.append((time.perf_counter() - t0) * 1e3 / n)
            out[n] = float(np.median(ts))
    finally:
        unpin()
    return out


def environment() -> dict:
    """Versions, cores and load: the context a speed number needs (a busy machine gives pessimistic numbers)."""
    import onnxruntime as ort

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_avg_1min": round(load[0], 2),
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def format_table(rows: list[Row]) -> str:
    """A Markdown table: one line per photo x threads, stage medians in ms, pipeline median (p90) and frames/s."""
    has3d = any("fit3d" in r.median for r in rows)
    head = ["photo", "size", "threads", "faces", "decode", "detect", "landmarks (per face)"]
    head += ["3D fit"] if has3d else []
    head += ["align", "pipeline ms median (p90)", "pipeline fps"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        m = r.median
        per_face = m["landmarks"] / r.faces if r.faces else 0.0
        cells = [r.photo, r.size, str(r.threads), str(r.faces), f"{m['decode']:.2f}", f"{m['detect']:.2f}",
                 f"{m['landmarks']:.2f} ({per_face:.2f})"]
        cells += [f"{m['fit3d']:.2f}"] if has3d else []
        cells += [f"{m['align']:.2f}", f"{m['pipeline']:.2f} ({r.p90['pipeline']:.2f})", f"{r.fps:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rows_to_json(rows: list[Row]) -> list[dict]:
    return [{**asdict(r), "fps": r.fps} for r in rows]
