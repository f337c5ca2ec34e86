"""onnxruntime sessions with the options that make small models fast on a CPU, and the shared pool.

This module is the one place that decides how facealign's sessions get their threads (``use_shared_pool``):
the commands turn the shared pool on (``enable_shared_pool``), a plain ``FaceAligner()`` turns it on by default
when that is safe, and every session is made by ``create_session`` accordingly.
"""
from __future__ import annotations

import gc
import logging
import os
import threading
import weakref
from pathlib import Path

import onnxruntime as ort

log = logging.getLogger(__name__)


def default_threads() -> int:
    """Intra-op threads: FACEALIGN_THREADS if set, else the number of cores (at most 4: small models stop scaling)."""
    env = os.environ.get("FACEALIGN_THREADS")
    if env:
        return max(1, int(env))
    return max(1, min(4, os.cpu_count() or 1))


_lock = threading.RLock()
_pool_size: int | None = None  # threads of the process-wide pool once enable_shared_pool sized it (0: it failed)
_foreign_pool = False  # onnxruntime's global pool was made by other code: our sessions must join it
_auto_decided = False  # use_shared_pool(None) made its one decision for this process
_ours: "weakref.WeakSet[ort.InferenceSession]" = weakref.WeakSet()  # the sessions create_session made

# onnxruntime's words (1.32) when a session with a pool of its own is made after the global pool exists
REFUSAL = "use_per_session_threads must be false when using a global thread pool"
_OPT_OUT = ("0", "false", "no", "off")


def enable_shared_pool(threads: int | None = None) -> int | None:
    """Run every session this process creates from now on (through create_session) on one pool of ``threads``
    threads (default: default_threads()); returns its size, or None when it is not used.

    Why: the detector and the landmark network run one after the other; with a pool each, two spinning pools
    compete for the same cores, so the landmark network had to stay on one thread. One shared pool gives every
    core to each stage in turn (measurements in docs/runtime.md).

    The catch (onnxruntime 1.32, checked in fresh processes): the global pool can be made once per process, at any
    time; sessions made before keep their own pools and keep working, but from then on onnxruntime refuses every
    new session with a pool of its own (the default ``SessionOptions``) with ``RuntimeError: ... use_per_session_
    threads must be false when using a global thread pool``. Sessions made by other code of the process must then
    set ``SessionOptions.use_per_session_threads = False`` (and run on this pool).
    One thread needs no pool (None is returned); a second call keeps the first size. When other code made the
    global pool already, it is not replaced: None is returned and our sessions join that pool.
    """
    global _pool_size, _foreign_pool
    threads = threads or default_threads()
    with _lock:
        if _pool_size is None and not _foreign_pool and threads > 1:
            try:
                ort.set_global_thread_pool_sizes(threads, 1)
                _pool_size = threads
            except Exception as e:  # "Global thread pools have already been created": other code made it
                if "already" in str(e):
                    _foreign_pool = True
                else:
                    _pool_size = 0
        return _pool_size or None


def use_shared_pool(shared_pool: bool | None = None, threads: int | None = None) -> int | None:
    """The thread decision of a FaceAligner, asked before it builds its first model; returns the shared pool's
    size when facealign's pool is in use, else None.

    ``shared_pool``: True enables the pool (enable_shared_pool, as the commands do); False leaves the process as
    it is (per-session threads unless a global pool exists already: then onnxruntime allows only that one);
    None (the default of ``FaceAligner``) enables it once per process when that is safe:
      - not when FACEALIGN_SHARED_POOL is 0 / false / off, or for one thread (no pool needed);
      - not when onnxruntime sessions made by other code are alive in the process (Python
        ``onnxruntime.InferenceSession`` objects): that code would likely make more, and onnxruntime would refuse
        them. Then facealign keeps per-session threads and logs one warning;
      - a global pool made by other code is used as it is.
    A session made by other code AFTER the pool is on is refused by onnxruntime; docs/runtime.md has the error and
    the fixes (``FaceAligner(shared_pool=False)``, FACEALIGN_SHARED_POOL=0, or ``use_per_session_threads = False``
    in that code's SessionOptions).
    """
    global _auto_decided
    if shared_pool is True:
        return enable_shared_pool(threads)
    if shared_pool is False:
        return shared_pool_size()
    with _lock:
        if _auto_decided or _pool_size is not None or _foreign_pool:
            return shared_pool_size()
        threads = threads or default_threads()
        if threads <= 1:  # no pool needed; a later aligner with more threads may still enable it
            return None
        _auto_decided = True
        if os.environ.get("FACEALIGN_SHARED_POOL", "").strip().lower() in _OPT_OUT:
            return None
        if foreign_sessions():
            log.warning(
                "facealign: onnxruntime sessions made by other code exist in this process, so FaceAligner keeps a "
                "thread pool per session (slower than the facealign commands; docs/runtime.md). "
                "FaceAligner(shared_pool=True) would enable the shared pool (other code's new sessions then need "
                "use_per_session_threads = False); FaceAligner(shared_pool=False) silences this warning."
            )
            return None
        return enable_shared_pool(threads)


def foreign_sessions() -> int:
    """How many live onnxruntime.InferenceSession objects of this process create_session did not make (one pass
    over the objects the garbage collector tracks, in C: instances refer to their class; subclasses included)."""
    classes, todo = [], [ort.InferenceSession]
    while todo:
        c = todo.pop()
        classes.append(c)
        todo += c.__subclasses__()
    return sum(1 for o in gc.get_referrers(*classes) if isinstance(o, ort.InferenceSession) and o not in _ours)


def shared_pool_size() -> int | None:
    """The shared pool's thread count once enable_shared_pool made it (then every new session uses it), else None."""
    return _pool_size or None


def global_pool_in_use() -> bool:
    """True when new sessions must run on onnxruntime's global pool (facealign's or one made by other code)."""
    return bool(_pool_size) or _foreign_pool


def create_session(path: str | Path, threads: int | None = None) -> ort.InferenceSession:
    """A CPU session with full graph optimisation and a fixed thread count (no per-call set-up).

    On the global pool (enable_shared_pool, or one made by other code) the session runs on it and ``threads`` is
    not used.
    """
    global _foreign_pool
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        s = _session(path, threads, global_pool_in_use())
    except RuntimeError as e:  # other code made the global pool after our decision: join it
        if REFUSAL not in str(e):
            raise
        _foreign_pool = True
        s = _session(path, threads, True)
    _ours.add(s)
    return s


def _session(path: Path, threads: int | None, on_global_pool: bool) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if on_global_pool:
        opts.use_per_session_threads = False
    else:
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
