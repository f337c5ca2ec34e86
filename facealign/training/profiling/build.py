"""Build the synthetic large-pose sets into the cache folder (never into the repository):

    python -m facealign.training.profiling.build                    # all sets of SETS, resumable
    python -m facealign.training.profiling.build --set 300w_afw --views 2 --limit 20 --out /tmp/x

Each labelled face of a source set (facealign.data.landmark_crops.LANDMARK_SETS) gets ``--views`` new views,
each a file trio ``NAME_vK.jpg / .pts / .json`` (facealign.data.profiled). A view already written is skipped, so
an interrupted build continues where it stopped. ``300w_afw`` is written to its own folder: it is the large-pose
validation set (AFW is held out; never train on it).

Sampling of a view (seeded by the face's id and the view index): the yaw keeps the face's own turn direction
(random for faces within 10 degrees of frontal) and its size is drawn from stratified ranges between
max(20, |source yaw| + 10) and 90 degrees, so the photo's visible side is the one that stays visible; the pitch is
the source's plus U(-20, 20), clipped to +-40; roll kept. Faces whose fit leaves an RMS error above 10% of the
eye distance are skipped (counted).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from facealign.data.landmark_crops import read_set
from facealign.io.atomic import write_bytes_atomic, write_image_atomic
from facealign.paths import cache_dir, data_root
from facealign.training.profiling.render import Profiler

VERSION = "v1"
# source set -> views per face
SETS: dict[str, int] = {"300w_afw": 2, "300w_train": 2, "ytf68_train": 1}
MAX_FIT_ERROR = 0.10  # of the eye distance (points 36, 45)


def default_out(name: str) -> Path:
    """Where a set's views go: the cache folder (facealign.paths.cache_dir), versioned."""
    return cache_dir("profiling", VERSION, name)


def pts_text(points: np.ndarray) -> str:
    """A 1-based iBUG .pts file of 0-based points."""
    lines = [f"{x + 1:.3f} {y + 1:.3f}" for x, y in points]
    return f"version: 1\nn_points: {len(points)}\n{{\n" + "\n".join(lines) + "\n}\n"


def sample_pose(source_pose: tuple[float, float, float], view: int, views: int,
                rng: np.random.Generator) -> tuple[float, float]:
    """(yaw, pitch) of view ``view`` of ``views`` (see the module docstring)."""
    yaw_s, pitch_s, _ = source_pose
    sign = np.sign(yaw_s) if abs(yaw_s) >= 10 else rng.choice([-1.0, 1.0])
    lo = min(max(20.0, abs(yaw_s) + 10.0), 85.0)
    a = lo + (90.0 - lo) * view / views
    b = lo + (90.0 - lo) * (view + 1) / views
    yaw = sign * rng.uniform(a, b)
    pitch = float(np.clip(pitch_s + rng.uniform(-20.0, 20.0), -40.0, 40.0))
    return float(yaw), pitch


def face_seed(face_id: str, view: int) -> int:
    return int(hashlib.md5(f"{face_id}|{view}".encode()).hexdigest()[:8], 16)


def build(name: str, out: Path, views: int, limit: int = 0, quiet: bool = False) -> dict[str, int]:
    """Write the views of one source set into ``out``; returns counts (written, skipped as done, bad fits, ...)."""
    samples = read_set(name, data_root())
    if limit:
        samples = samples[:limit]
    out.mkdir(parents=True, exist_ok=True)
    prof = Profiler()
    counts = {"faces": len(samples), "written": 0, "done": 0, "bad_fit": 0, "unreadable": 0}
    for s in tqdm(samples, desc=f"profiling {name}", disable=quiet, mininterval=5):
        stem = s.id.replace("/", "__")
        todo = [k for k in range(views) if not (out / f"{stem}_v{k}.json").is_file()]
        counts["done"] += views - len(todo)
        if not todo:
            continue
        img = cv2.imread(str(s.image), cv2.IMREAD_COLOR)
        if img is None:
            counts["unreadable"] += 1
            continue
        src = prof.prepare((img.shape[1], img.shape[0]), s.points)
        iod = float(np.linalg.norm(s.points[36] - s.points[45])) or 1.0
        if src.fit_error > MAX_FIT_ERROR * iod:
            counts["bad_fit"] += 1
            continue
        for k in todo:
            rng = np.random.default_rng(face_seed(s.id, k))
            yaw, pitch = sample_pose(src.pose, k, views, rng)
            v = prof.render(img, src, yaw, pitch)
            base = out / f"{stem}_v{k}"
            write_image_atomic(base.with_suffix(".jpg"), v.image, jpeg_quality=95)
            write_bytes_atomic(base.with_suffix(".pts"), pts_text(v.points2d).encode())
            meta = {
                "yaw": round(v.yaw, 3), "pitch": round(v.pitch, 3), "roll": round(v.roll, 3),
                "points3d": np.round(v.points3d, 3).tolist(), "source": f"{name}/{s.id}",
                "source_pose": [round(a, 3) for a in src.pose], "fit_error": round(src.fit_error, 3),
            }
            write_bytes_atomic(base.with_suffix(".json"), json.dumps(meta).encode())  # last: the view is done
            counts["written"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m facealign.training.profiling.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", choices=sorted(SETS), help="source set (repeatable; default all)")
    ap.add_argument("--views", type=int, default=0, help="views per face (default: the set's own, SETS)")
    ap.add_argument("--out", type=Path, help="output folder (one set only; default the cache folder)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N faces of each set")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    names = a.set or list(SETS)
    if a.out and len(names) > 1:
        ap.error("--out needs exactly one --set")
    for name in names:
        out = a.out or default_out(name)
        counts = build(name, out, a.views or SETS[name], a.limit, a.quiet)
        print(f"{name} -> {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
