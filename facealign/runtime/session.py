"""onnxruntime sessions with the options that make small models fast on a CPU."""
from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort


def default_threads() -> int:
    """Intra-op threads: FACEALIGN_THREADS if set, else the number of cores (at most 4: small models stop scaling)."""
    env = os.environ.get("FACEALIGN_THREADS")
    if env:
        return max(1, int(env))
    return max(1, min(4, os.cpu_count() or 1))


def create_session(path: str | Path, threads: int | None = None) -> ort.InferenceSession:
    """A CPU session with full graph optimisation and a fixed thread count (no per-call set-up)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
