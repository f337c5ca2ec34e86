"""onnxruntime sessions with the options that make small models fast on a CPU, and the optional shared pool."""
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


_pool_size: int | None = None  # threads of the process-wide pool once enable_shared_pool sized it


def enable_shared_pool(threads: int | None = None) -> int | None:
    """Run every session this process creates from now on (through create_session) on one pool of ``threads``
    threads (default: default_threads()); returns its size, or None when it is not used.

    Why: the detector and the landmark network run one after the other; with a pool each, two spinning pools
    compete for the same cores, so the landmark network had to stay on one thread. One shared pool gives every
    core to each stage in turn (measurements in docs/runtime.md).

    The price, and why it is opt-in for the Python API (the facealign commands turn it on): onnxruntime sizes this
    pool once per process, and from then on refuses sessions with pools of their own. Sessions made by other
    code in the same process must then set ``SessionOptions.use_per_session_threads = False``.
    One thread needs no pool (None is returned); a second call keeps the first size.
    """
    global _pool_size
    threads = threads or default_threads()
    if _pool_size is None and threads > 1:
        try:
            ort.set_global_thread_pool_sizes(threads, 1)
            _pool_size = threads
        except Exception:  # onnxruntime made its pools already (other code of this process): leave it be
            _pool_size = 0
    return _pool_size or None


def shared_pool_size() -> int | None:
    """The shared pool's thread count once enable_shared_pool made it (then every new session uses it), else None."""
    return _pool_size or None


def create_session(path: str | Path, threads: int | None = None) -> ort.InferenceSession:
    """A CPU session with full graph optimisation and a fixed thread count (no per-call set-up).

    After enable_shared_pool the session runs on the shared pool and ``threads`` is not used.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if shared_pool_size():
        opts.use_per_session_threads = False
    else:
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
