"""`facealign video INPUT --out DIR`: track faces through a video (or a folder of frames).

Writes DIR/landmarks.jsonl (one complete line per frame), DIR/overlay.mp4 and, with --crops, one aligned and
stabilised crop video per track, DIR/crops/track_<id>.mp4. Exit status: 0 ok, 1 the input was damaged or
unreadable (one-line error naming the file; frames before the damage are still written), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from facealign.alignment.templates import TEMPLATES
from facealign.cli.common import positive_float, positive_int
from facealign.temporal.fusion import MODES


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "video",
        help="track faces through a video: landmarks.jsonl, overlay video, stabilised crop videos",
        description="Track faces through a video file or a folder of frames with temporal fusion of the landmarks.",
    )
    p.add_argument("input", metavar="INPUT", help="a video file (anything FFmpeg reads) or a folder of frames")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--temporal", default="causal", choices=list(MODES),
                   help="landmark fusion over time: causal (online, default), offline (looks ahead), oneeuro, off")
    p.add_argument("--key-interval", type=positive_int, default=10, help="run the detector every N frames (default 10)")
    p.add_argument("--max-lost", type=positive_int, default=15, help="keep a lost track this many frames (default 15)")
    p.add_argument("--crops", action="store_true", help="write one aligned, stabilised crop video per track")
    p.add_argument("--template", default="arcface112", choices=sorted(TEMPLATES), help="crop template (default arcface112)")
    p.add_argument("--size", type=positive_int, help="crop size in pixels (default: the template's)")
    p.add_argument("--3d", dest="fit3d", action="store_true", help="fit the 3D face model: pose per face")
    p.add_argument("--no-overlay", action="store_true", help="do not write overlay.mp4")
    p.add_argument("--det-size", type=positive_int, help="detector working size, long side in pixels (default 640)")
    p.add_argument("--det-threshold", type=float, help="minimum detection score (default: the model's calibrated one)")
    p.add_argument("--refine", action="store_true", help="second landmark pass per frame (slower)")
    p.add_argument("--landmarks-model", metavar="NAME", help="landmark network: a registered name (default stfan-lmk-112; stfan-lmk-112-fast: half the cost) or an .onnx file")
    p.add_argument("--max-frames", type=positive_int, help="stop after this many frames")
    p.add_argument("--fps", type=positive_float, default=25.0, help="frame rate of a folder of frames (default 25)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="onnxruntime threads per model and OpenCV threads (default 1: the models are small and the "
                   "other core decodes and encodes video)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary (errors still print)")
    p.set_defaults(func=run)


def make_aligner(args: argparse.Namespace):
    """The FaceAligner of a video run (a module-level factory so tests can substitute models)."""
    from facealign.pipeline import FaceAligner
    from facealign.runtime.session import enable_shared_pool

    enable_shared_pool(args.threads)  # with --threads > 1: both networks on one pool (default 1: none)
    return FaceAligner(
        landmarks=args.landmarks_model, det_size=args.det_size,
        det_threshold=args.det_threshold, refine=args.refine, tta=False, threads=args.threads,
    )


def face_record(f, fit3d: bool) -> dict:
    """The landmarks.jsonl face object."""
    r = {
        "track": int(f.track),
        "box": np.round(np.asarray(f.box, np.float64), 2).tolist(),
        "score": round(float(f.score), 4),
        "landmarks": np.round(np.asarray(f.landmarks, np.float64), 2).tolist(),
        "landmarks5": np.round(np.asarray(f.landmarks5, np.float64), 2).tolist(),
    }
    if fit3d:
        r["pose"] = f.pose.to_json() if f.pose is not None else None
    return r


class CropStabiliser:
    """Per-track crop transforms smoothed over time: the image positions of three crop corners go through a
    One Euro filter (slow: min cut-off 0.5 Hz), so the talking-head clip does not shake with the landmarks."""

    def __init__(self, template: str, size: int | None) -> None:
        from facealign.alignment.templates import get_template

        self.template = template
        self.size = int(size or get_template(template).default_size)
        self._filters: dict[int, object] = {}
        self._last: dict[int, int] = {}

    def transform(self, track: int, index: int, t: float, face) -> np.ndarray:
        import cv2

        from facealign.alignment.templates import fit_template
        from facealign.alignment.transforms import apply, invert
        from facealign.temporal.one_euro import OneEuroFilter

        m = fit_template(self.template, self.size, landmarks68=face.landmarks, landmarks5=face.landmarks5)
        s = self.size - 1
        corners = np.array([[0.0, 0.0], [s, 0.0], [0.0, s]])
        pts = apply(invert(m), corners)
        if track not in self._filters or self._last.get(track) != index - 1:
            self._filters[track] = OneEuroFilter(min_cutoff=0.5, beta=0.8)
        self._last[track] = index
        scale = float(np.linalg.norm(pts[1] - pts[0])) or 1.0
        smooth = self._filters[track](pts, t, scale)
        return cv2.getAffineTransform(smooth.astype(np.float32), corners.astype(np.float32))


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from facealign.io.video import VideoError, VideoWriter, open_frames
    from facealign.temporal.run import track_frames

    import cv2

    # small per-frame warps and drawings: OpenCV's thread pool costs more than it gives while the other core
    # decodes and encodes (measured: +15% frames/s single-threaded); process-wide, fine for a command
    cv2.setNumThreads(args.threads)
    out = Path(args.out)
    try:
        src = open_frames(args.input, max_frames=args.max_frames, fps=args.fps)
    except VideoError as e:
        sys.stderr.write(f"facealign: error: {e}\n")
        return 1
    try:
        fa = make_aligner(args)
        fa.detector, fa.landmark_model  # load the models now: a missing file fails here, not mid-video
        frames_iter = track_frames(fa, src, temporal=args.temporal, key_interval=args.key_interval,
                                   max_lost=args.max_lost, fps=src.fps)
    except FileNotFoundError as e:  # a model file is missing
        sys.stderr.write(f"facealign: error: {e}\n")
        src.close()
        return 1
    except (KeyError, ValueError) as e:
        sys.stderr.write(f"facealign: error: {e}\n")
        src.close()
        return 2
    out.mkdir(parents=True, exist_ok=True)
    overlay = None if args.no_overlay else VideoWriter(out / "overlay.mp4", src.fps)
    crops: dict[int, VideoWriter] = {}
    stab = CropStabiliser(args.template, args.size) if args.crops else None
    jsonl = out / "landmarks.jsonl"
    fd = os.open(jsonl, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    bar = tqdm(total=src.frame_count, unit="frame", disable=args.quiet, dynamic_ncols=True, desc="video")
    n = n_faces = 0
    tracks: set[int] = set()
    t0 = time.perf_counter()
    ok = False
    try:
        for tf in frames_iter:
            faces = tf.faces
            if args.fit3d and faces:
                fa.fit3d(tf.image, faces)
            rec = {"frame": tf.index, "time": round(tf.time, 4), "faces": [face_record(f, args.fit3d) for f in faces]}
            # one write per complete line: a reader (or a crash) never sees half a line
            os.write(fd, (json.dumps(rec, separators=(",", ":")) + "\n").encode())
            if overlay is not None:
                from facealign.io.draw import draw_faces

                overlay.write(draw_faces(tf.image, faces), copy=False)
            if stab is not None:
                _write_crops(tf, faces, stab, crops, out, src.fps)
            n += 1
            n_faces += len(faces)
            tracks.update(f.track for f in faces)
            bar.update(1)
        ok = True
    except FileNotFoundError as e:  # a model file is missing: nothing useful can be done
        sys.stderr.write(f"facealign: error: {e}\n")
        src.error = src.error or str(e)
        ok = True
    finally:
        bar.close()
        os.fsync(fd)
        os.close(fd)
        writers = ([overlay] if overlay is not None else []) + list(crops.values())
        for w in writers:
            if ok:
                try:
                    w.close()
                except VideoError as e:
                    sys.stderr.write(f"facealign: error: {e}\n")
                    src.error = src.error or str(e)
            else:
                w.abort()
    secs = time.perf_counter() - t0
    if not args.quiet:
        sys.stderr.write(
            f"facealign: {n} frames, {n_faces} faces, {len(tracks)} tracks in {secs:.1f} s"
            f" ({n / secs if secs > 0 else 0:.1f} frames/s) -> {jsonl}\n"
        )
    if src.error:
        sys.stderr.write(f"facealign: error: {src.error}\n")
        return 1
    return 0


def _write_crops(tf, faces, stab: CropStabiliser, crops: dict, out: Path, fps: float) -> None:
    import cv2

    from facealign.io.video import VideoWriter

    for f in faces:
        m = stab.transform(f.track, tf.index, tf.time, f)
        crop = cv2.warpAffine(tf.image, m, (stab.size, stab.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        w = crops.get(f.track)
        if w is None:
            w = crops[f.track] = VideoWriter(out / "crops" / f"track_{f.track}.mp4", fps)
        w.write(crop, copy=False)
