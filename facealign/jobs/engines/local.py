"""The local engine: this process (``jobs`` = 1) or ``jobs`` spawned worker processes, each with its own models.

The driver hands each worker a few inputs at a time over a pipe of its own and watches every worker's process:
a worker that dies (kill -9, the kernel's out-of-memory killer, a crash in native code) fails the one input it
was working on with a clear error, its other inputs go to the others, and a new worker takes its place, so the
batch always finishes. When the driver stops early (Ctrl-C, an exception, the consumer closing the iterator)
every worker is asked to stop, then terminated, then killed, within a few seconds; workers ignore SIGINT (the
driver alone reports the interrupt) and turn SIGTERM into a normal exit, so their atomic writes clean up.
"""
from __future__ import annotations

import os
import signal
from collections import deque
from typing import Any, Iterator, Sequence

from facealign.io.inputs import InputItem
from facealign.jobs.batch_options import BatchOptions
from facealign.jobs.engines.base import Engine, JobFactory
from facealign.jobs.photo import ImageJob, error_record, run_one

PER_WORKER = 4  # inputs queued per worker: enough to keep it busy, few enough to bound memory
STOP_GRACE = 2.0  # seconds a stopping worker may take to finish its input before it is terminated
MAX_SILENT_DEATHS = 3  # workers in a row that die before finishing any input: the job cannot run


class LocalEngine(Engine):
    """``jobs`` processes on this machine; at most ``PER_WORKER * jobs`` inputs in flight."""

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs

    def records(self, items: Sequence[InputItem], opts: BatchOptions, names: dict[str, str],
                job: JobFactory | None = None) -> Iterator[dict[str, Any]]:
        factory = job or ImageJob
        if not items:  # nothing to do: no models to load
            return
        if self.jobs <= 1 or len(items) <= 1:
            one = factory(opts, names)
            for item in items:
                yield run_one(one, item)
            return
        if opts.threads is None:  # share the cores between the workers instead of oversubscribing
            opts.threads = max(1, (os.cpu_count() or 1) // self.jobs)
        yield from _Pool(self.jobs, opts, names, factory).records(items)


def _worker_main(conn, opts: BatchOptions, names: dict[str, str], factory: JobFactory = ImageJob) -> None:
    """A worker process: ("start", i) when it takes input i, ("done", i, record) when it is done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the driver handles it
    signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        job = factory(opts, names)
    except Exception as e:
        conn.send(("fatal", f"cannot start a worker: {type(e).__name__}: {e}"))
        return
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the driver is gone
            return
        if msg is None:
            return
        index, item = msg
        conn.send(("start", index))
        conn.send(("done", index, run_one(job, item)))


def _exit_on_term(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through the atomic writers' cleanup


class _Worker:
    def __init__(self, ctx, opts: BatchOptions, names: dict[str, str], factory: JobFactory = ImageJob) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, opts, names, factory), daemon=True)
        self.proc.start()
        child.close()
        self.queued: deque[int] = deque()  # inputs sent, in order; the first is the one it works on
        self.current: int | None = None  # the input it said it started
        self.finished_any = False
        self.fatal: str | None = None  # why it could not start, if it said so


class _Pool:
    def __init__(self, jobs: int, opts: BatchOptions, names: dict[str, str], factory: JobFactory = ImageJob) -> None:
        import multiprocessing as mp

        self.ctx = mp.get_context("spawn")  # onnxruntime sessions are not fork-safe
        self.jobs, self.opts, self.names, self.factory = jobs, opts, names, factory
        self.workers: list[_Worker] = []

    def records(self, items: Sequence[InputItem]) -> Iterator[dict[str, Any]]:
        from multiprocessing.connection import wait

        n = len(items)
        source = iter(enumerate(items))
        retry: deque[tuple[int, InputItem]] = deque()  # inputs of a dead worker that it had not started
        by_index: dict[int, InputItem] = {}
        results: dict[int, dict[str, Any]] = {}
        nxt = 0
        silent_deaths = 0
        fatal: str | None = None
        try:
            self.workers = [_Worker(self.ctx, self.opts, self.names, self.factory) for _ in range(self.jobs)]
            while nxt < n:
                # feed: inputs in flight plus results waiting for their turn stay within the window
                while fatal is None:
                    w = min(self.workers, key=lambda w: len(w.queued))
                    if len(w.queued) >= PER_WORKER:
                        break
                    # inputs given back by a dead worker go first, whatever the window: one of them may be the
                    # next to yield, which the results waiting behind it would otherwise block forever
                    if not retry and len(by_index) + len(results) >= PER_WORKER * self.jobs:
                        break
                    nxt_item = retry.popleft() if retry else next(source, None)
                    if nxt_item is None:
                        break
                    i, item = nxt_item
                    by_index[i] = item
                    w.queued.append(i)
                    try:
                        w.conn.send((i, item))
                    except (OSError, EOFError):  # it died: noticed below by its sentinel
                        pass
                if fatal is not None:  # no worker can start: every input left fails with the reason
                    for i, item in list(by_index.items()):
                        results[i] = error_record(item.path, fatal)
                    by_index.clear()
                    for i, item in [*retry, *source]:
                        results[i] = error_record(item.path, fatal)
                    retry.clear()
                ready = wait([w.conn for w in self.workers] + [w.proc.sentinel for w in self.workers], timeout=1.0)
                for w in list(self.workers):
                    if w.conn in ready:
                        self._receive(w, by_index, results)
                    if w.proc.sentinel in ready or not w.proc.is_alive():
                        self._receive(w, by_index, results)  # what it sent before dying
                        why = self._buried(w, by_index, results, retry)
                        silent_deaths = 0 if w.finished_any else silent_deaths + 1
                        if why.startswith("cannot start") or silent_deaths >= MAX_SILENT_DEATHS:
                            fatal = why
                        if fatal is None:
                            self.workers.append(_Worker(self.ctx, self.opts, self.names, self.factory))
                while nxt in results:
                    yield results.pop(nxt)
                    nxt += 1
        finally:
            self._stop_all()

    def _receive(self, w: _Worker, by_index: dict, results: dict) -> None:
        try:
            while w.conn.poll(0):
                msg = w.conn.recv()
                if msg[0] == "start":
                    w.current = msg[1]
                elif msg[0] == "done":
                    i = msg[1]
                    results[i] = msg[2]
                    by_index.pop(i, None)
                    if w.queued and w.queued[0] == i:
                        w.queued.popleft()
                    w.current = None
                    w.finished_any = True
                elif msg[0] == "fatal":
                    w.fatal = msg[1]
        except (EOFError, OSError):
            pass

    def _buried(self, w: _Worker, by_index: dict, results: dict, retry: deque) -> str:
        """Handle a worker that has died: fail the input it was on, give its other inputs back; the reason."""
        w.proc.join(timeout=1.0)
        self.workers.remove(w)
        w.conn.close()
        why = w.fatal or _death(w.proc.exitcode)
        for i in list(w.queued):
            item = by_index.get(i)
            if item is None:
                continue
            if i == w.current:
                results[i] = error_record(item.path, f"{why} while processing this input")
                del by_index[i]
            else:
                retry.append((i, by_index.pop(i)))
        return why

    def _stop_all(self) -> None:
        """Every worker ends: asked (it finishes its input), then SIGTERM, then SIGKILL; none outlives this call."""
        import time

        for w in self.workers:
            try:
                w.conn.send(None)
            except (OSError, EOFError, ValueError):
                pass
        deadline = time.monotonic() + STOP_GRACE
        for w in self.workers:
            w.proc.join(timeout=max(0.0, deadline - time.monotonic()))
        for w in self.workers:
            if w.proc.is_alive():
                w.proc.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for w in self.workers:
            w.proc.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(timeout=1.0)
            w.conn.close()
        self.workers = []


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        sig = -exitcode
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        hint = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"worker process killed by {name}{hint}"
    return f"worker process exited unexpectedly (status {exitcode})"
