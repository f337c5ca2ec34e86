"""MediaPipe Pose (0.10.14, full model) as a peer of the body network: run in a subprocess of its own virtual
environment through benchmarks/peers/run_mediapipe_pose.py (measured, never imported, never used as labels),
its 33 points mapped to the 14 LSP joints.

Environment: ``<env>/bin/python``, where ``env`` is the --mediapipe-env option, else the FACEALIGN_MEDIAPIPE_POSE
environment variable, else ``facealign.paths.peer_envs_dir("mediapipe-pose")``.

Mapping (MediaPipe's left/right are the subject's, as LSP's): ankles 28/27, knees 26/25, hips 24/23, wrists
16/15, elbows 14/13, shoulders 12/11 (right/left). LSP's neck and head top have no MediaPipe point:
``rule``: neck = the shoulders' mid-point, head top = the ears' mid-point moved away from the neck by
HEAD_TOP_RULE x the neck-to-ears distance; ``fitted``: both as offsets in the frame of the neck-to-ears vector
(along it and across it) with coefficients fitted by least squares on MediaPipe's own outputs on LSP train
im0001-im0800 (never on the validation photos): FITTED.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from facealign import paths

RUNNER = Path("benchmarks") / "peers" / "run_mediapipe_pose.py"
ENV_VAR = "FACEALIGN_MEDIAPIPE_POSE"
# LSP joint -> MediaPipe point (None: derived)
TO_LSP = [28, 26, 24, 23, 25, 27, 16, 14, 12, 11, 13, 15, None, None]
HEAD_TOP_RULE = 0.6
# (neck, head top) = base + a * u + b * v, u = ears mid - shoulders mid, v = u turned 90 degrees clockwise;
# base: the shoulders' mid-point (neck) and the ears' mid-point (head top); made by
# benchmarks/body_fit_mediapipe_map.py (MediaPipe found a person in 726 of the 800 fitting photos)
FITTED = {"neck": (0.446, -0.026), "head_top": (0.53, -0.038)}


def default_env() -> Path:
    """The MediaPipe Pose environment: FACEALIGN_MEDIAPIPE_POSE, else paths.peer_envs_dir("mediapipe-pose")."""
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value).expanduser() if value else paths.peer_envs_dir("mediapipe-pose")


def to_lsp(points: np.ndarray | None, mapping: str = "fitted") -> np.ndarray:
    """(14, 2) LSP joints from MediaPipe's (33, 2+) points; all NaN when ``points`` is None (no person)."""
    if points is None:
        return np.full((14, 2), np.nan)
    p = np.asarray(points, np.float64)[:, :2]
    out = np.zeros((14, 2))
    for j, k in enumerate(TO_LSP):
        if k is not None:
            out[j] = p[k]
    shoulders = (p[11] + p[12]) / 2
    ears = (p[7] + p[8]) / 2
    u = ears - shoulders
    v = np.array([-u[1], u[0]])
    coef = FITTED if mapping == "fitted" else {"neck": (0.0, 0.0), "head_top": (HEAD_TOP_RULE, 0.0)}
    out[12] = shoulders + coef["neck"][0] * u + coef["neck"][1] * v
    out[13] = ears + coef["head_top"][0] * u + coef["head_top"][1] * v
    return out


def fit_mapping(points: list[np.ndarray | None], joints: np.ndarray) -> dict[str, tuple[float, float]]:
    """Least-squares (a, b) of neck and head top (see the module docstring) from MediaPipe outputs and the true
    joints (N, 14, 2) of the same photos; photos without a person are left out."""
    rows = {"neck": ([], []), "head_top": ([], [])}
    for p, j in zip(points, joints):
        if p is None:
            continue
        p = np.asarray(p, np.float64)[:, :2]
        shoulders, ears = (p[11] + p[12]) / 2, (p[7] + p[8]) / 2
        u = ears - shoulders
        v = np.array([-u[1], u[0]])
        for name, base, idx in (("neck", shoulders, 12), ("head_top", ears, 13)):
            a, y = rows[name]
            a += [[u[0], v[0]], [u[1], v[1]]]
            y += list(j[idx] - base)
    return {k: tuple(float(c) for c in np.linalg.lstsq(np.array(a), np.array(y), rcond=None)[0])
            for k, (a, y) in rows.items()}


def run_mediapipe_pose(images: list[str | Path], env: str | Path | None = None, timeout: float = 3600) -> dict:
    """The runner's output document (``results``: one entry per image, ``points`` 33 x [x, y, visibility] or
    None) for ``images``; FileNotFoundError when the environment or the runner is missing."""
    env = Path(env) if env else default_env()
    py = env / "bin" / "python"
    if not py.is_file():
        raise FileNotFoundError(f"mediapipe pose: no environment at {env} (set --mediapipe-env or {ENV_VAR})")
    root = paths.checkout_root()
    if root is None or not (root / RUNNER).is_file():
        raise FileNotFoundError(f"peers need a development checkout ({RUNNER} not found)")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "jobs.json", Path(tmp) / "out.json"
        src.write_text(json.dumps({"jobs": [{"image": str(p)} for p in images]}))
        proc = subprocess.run([str(py), str(root / RUNNER), str(src), str(dst)], capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0 or not dst.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"mediapipe pose: the peer runner failed ({last})")
        return json.loads(dst.read_text())
