"""Peer face detectors (YuNet, mediapipe full range, dlib HOG, OpenCV Haar) on the wild photos, each in a subprocess
of its own virtual environment through benchmarks/peers/run_detect_wild.py (peers are measured, never imported).

Environments: ``<peer_envs>/{opencv,mediapipe,dlib}/bin/python`` (default ``paths.peer_envs_dir()``);
YuNet's model: ``paths.peers_dir()/face_detection_yunet.onnx``; it runs in the opencv environment, or in this
interpreter when that environment is missing (OpenCV here has FaceDetectorYN too).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from facealign import paths

PEERS = ("yunet", "mediapipe", "hog", "haar")
ENV_OF = {"yunet": "opencv", "haar": "opencv", "mediapipe": "mediapipe", "hog": "dlib"}
RUNNER = Path("benchmarks") / "peers" / "run_detect_wild.py"
YUNET_FILE = "face_detection_yunet.onnx"


def peer_python(method: str, peer_envs: Path) -> Path | None:
    """The interpreter of ``method``'s environment, or None when it is missing (YuNet falls back to this one)."""
    py = Path(peer_envs) / ENV_OF[method] / "bin" / "python"
    if py.is_file():
        return py
    return Path(sys.executable) if method == "yunet" else None


def run_peer(method: str, jobs: list[tuple[str, Path, np.ndarray, float]], peer_envs: Path,
             timeout: float = 3600) -> dict:
    """The runner's output document for ``method`` on ``jobs`` (see detector_wild.photo_jobs)."""
    if method not in PEERS:
        raise ValueError(f"unknown peer {method!r}: one of {', '.join(PEERS)}")
    root = paths.checkout_root()
    if root is None or not (root / RUNNER).is_file():
        raise FileNotFoundError(f"peers need a development checkout ({RUNNER} not found)")
    py = peer_python(method, peer_envs)
    if py is None:
        raise FileNotFoundError(f"{method}: no environment at {Path(peer_envs) / ENV_OF[method]}")
    doc = {"method": method, "jobs": [{"image": str(p), "scale": s} for _, p, _, s in jobs]}
    if method == "yunet":
        model = paths.peers_dir() / YUNET_FILE
        if not model.is_file():
            raise FileNotFoundError(f"yunet: model not found: {model}")
        doc["model"] = str(model)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "jobs.json", Path(tmp) / "out.json"
        src.write_text(json.dumps(doc))
        proc = subprocess.run([str(py), str(root / RUNNER), str(src), str(dst)], capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0 or not dst.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"{method}: the peer runner failed ({last})")
        return json.loads(dst.read_text())
