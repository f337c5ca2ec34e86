"""Shared by the speed runners (stdlib + numpy only: each runner runs in its own peer virtual environment).

Protocol: ``python run_speed_X.py --photos DIR --threads T --runs N --warmup W [--mode M]`` times ``pipeline(image)``
on every ``DIR/*.jpg`` (decoded once, outside the timing) and prints one JSON object to stdout:
{"method", "version", "threads", "mode", "results": {file name: {"median_ms", "p90_ms", "faces"}}}.
The process is pinned to T cores (CPU affinity), so thread pools a toolkit does not let us size stay within T.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np


def parse_args(modes: tuple[str, ...]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--photos", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--max-seconds", type=float, default=10.0, help="per photo: stop early after this long (>= 5 runs)")
    p.add_argument("--mode", default=modes[0], choices=modes)
    p.add_argument("--detector-model")  # facealign only: time an ONNX file other than the shipped one
    p.add_argument("--landmarks-model")
    p.add_argument("--det-size", type=int)  # facealign only: detector working size (long side)
    p.add_argument("--no-tta", action="store_true")  # facealign only: one landmark pass (no mirrored pass)
    return p.parse_args()


def pin(threads: int) -> None:
    """Restrict this process to ``threads`` cores (Linux)."""
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(cores[: max(1, threads)]))


def photos(folder: str) -> list[Path]:
    files = sorted(Path(folder).glob("*.jpg"))
    if not files:
        sys.exit(f"no .jpg photos in {folder}")
    return files


def measure(images: dict[str, object], pipeline: Callable[[object], int], runs: int, warmup: int,
            max_seconds: float = float("inf")) -> dict:
    """Median and p90 (ms) of ``pipeline(image)`` (which returns the number of faces) per image.

    Slow methods stop after ``max_seconds`` per image (at least 5 timed runs); "runs" says how many were timed."""
    out = {}
    for name, img in images.items():
        ts, faces = [], 0
        start = time.perf_counter()
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            faces = int(pipeline(img))
            dt = (time.perf_counter() - t0) * 1e3
            if i >= warmup:
                ts.append(dt)
                if len(ts) >= 5 and time.perf_counter() - start > max_seconds:
                    break
        out[name] = {"median_ms": float(np.median(ts)), "p90_ms": float(np.percentile(ts, 90)), "faces": faces,
                     "runs": len(ts)}
    return out


def emit(method: str, version: str, args: argparse.Namespace, results: dict, note: str = "") -> None:
    doc = {"method": method, "version": version, "threads": args.threads, "mode": args.mode, "note": note,
           "results": results}
    sys.stdout.write(json.dumps(doc) + "\n")


# ArcFace 112x112 five-point template (left eye, right eye, nose, left mouth, right mouth): the same alignment
# target facealign's default crop uses, so every method's "align" step does comparable work.
ARCFACE5 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                     [70.7299, 92.2041]], np.float64)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 least-squares similarity (Umeyama) taking points ``src`` onto ``dst``."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    r = u @ e @ vt
    scale = np.trace(np.diag(sig) @ e) / s.var(0).sum()
    m = np.zeros((2, 3))
    m[:, :2] = scale * r
    m[:, 2] = mu_d - scale * r @ mu_s
    return m
