"""--jobs N: a worker killed (as by the OOM killer) fails only its input and the batch finishes; Ctrl-C or SIGTERM
end every process within seconds, with no traceback and nothing half-written, and --resume finishes the run."""
from __future__ import annotations

import os
import signal
import subprocess
import time

from jobs_helpers import group_alive, photos, start_cli

from facealign.io.results import read_results


def test_a_killed_worker_fails_its_input_and_the_batch_finishes(tmp_path):
    src = photos(tmp_path / "in", 16, odd=2)  # p02.png kills the worker that reads it
    out = tmp_path / "out"
    p = start_cli(["align", src, "--out", out, "-q", "--jobs", "2"], factory="worker_fakes:dying_aligner")
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1, err.decode()
    recs = read_results(out / "results.jsonl")
    assert [r["image"].rsplit("/", 1)[-1] for r in recs] == [f"p{i:02d}.png" for i in range(16)]
    bad = recs[2]
    assert "worker process killed by SIGKILL" in bad["error"]
    assert all(r["error"] is None and r["faces"] for i, r in enumerate(recs) if i != 2)
    assert b"Traceback" not in err and b"1 of 16 inputs failed" in err


def _wait_until_both_workers_are_held(p, out, gate) -> None:
    """Readiness, not a guess: some inputs are done (results.jsonl has a line) and both workers are held in the
    middle of an input (worker_fakes._Gated), so the run cannot finish before the signal, however loaded the
    machine is. Generous but bounded: a run that never gets there fails the test with its stderr."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        results = out / "results.jsonl"
        lines = results.read_bytes().count(b"\n") if results.is_file() else 0
        if lines >= 1 and len(list(gate.glob("busy-*"))) >= 2:
            return
        if p.poll() is not None:
            raise AssertionError(f"the run ended before it was interrupted: {p.communicate()[1].decode()}")
        time.sleep(0.05)
    raise AssertionError("the workers were not both busy 180 s after the start")


def _interrupt(tmp_path, sig: int) -> None:
    src = photos(tmp_path / "in", 24)
    out = tmp_path / "out"
    gate = tmp_path / "gate"
    gate.mkdir()
    p = start_cli(["align", src, "--out", out, "-q", "--jobs", "2"], factory="worker_fakes:gated_aligner",
                  env={"GATE_DIR": str(gate)})
    try:
        _wait_until_both_workers_are_held(p, out, gate)
        # the workers are in the middle of an input that will not end by itself: the driver must stop them
        os.killpg(p.pid, sig) if sig == signal.SIGINT else p.send_signal(sig)  # Ctrl-C reaches the whole group
        t0 = time.monotonic()
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("the run did not end within 30 s of the signal") from None
        assert time.monotonic() - t0 < 10, time.monotonic() - t0
        assert p.returncode == 130, err.decode()
        assert b"Traceback" not in err and b"interrupted" in err
        while group_alive(p.pid) and time.monotonic() - t0 < 10:  # every worker is gone too, within the same 10 s
            time.sleep(0.05)
        assert not group_alive(p.pid), f"a process of the run outlived the signal by {time.monotonic() - t0:.1f} s"
    finally:  # never leave a held worker behind, whatever failed
        if group_alive(p.pid):
            os.killpg(p.pid, signal.SIGKILL)
    assert not [q for q in out.rglob("*") if q.name.endswith(".tmp")]
    assert (out / "results.jsonl").read_bytes().endswith(b"\n")  # whole lines only
    recs = read_results(out / "results.jsonl")
    assert 0 < len(recs) < 24 and all(r["error"] is None for r in recs)
    q = start_cli(["align", src, "--out", out, "-q", "--jobs", "2", "--resume"])
    q.communicate(timeout=120)
    assert q.returncode == 0
    assert len(read_results(out / "results.jsonl")) == 24


def test_ctrl_c_ends_every_process_within_seconds(tmp_path):
    _interrupt(tmp_path, signal.SIGINT)


def test_sigterm_ends_the_run_like_ctrl_c(tmp_path):
    _interrupt(tmp_path, signal.SIGTERM)
