"""--jobs N: a worker killed (as by the OOM killer) fails only its input and the batch finishes; Ctrl-C or SIGTERM
end every process within seconds, with no traceback and nothing half-written, and --resume finishes the run."""
from __future__ import annotations

import os
import signal
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


def _interrupt(tmp_path, sig: int) -> None:
    src = photos(tmp_path / "in", 24)
    out = tmp_path / "out"
    p = start_cli(["align", src, "--out", out, "-q", "--jobs", "2"], factory="worker_fakes:slow_aligner")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the workers are busy
        if (out / "results.jsonl").is_file() and (out / "results.jsonl").read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.1)
    os.killpg(p.pid, sig) if sig == signal.SIGINT else p.send_signal(sig)  # Ctrl-C reaches the whole group
    t0 = time.monotonic()
    _, err = p.communicate(timeout=30)
    assert time.monotonic() - t0 < 10
    assert p.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"interrupted" in err
    for _ in range(50):  # every worker is gone too
        if not group_alive(p.pid):
            break
        time.sleep(0.1)
    assert not group_alive(p.pid)
    assert not [q for q in out.rglob("*") if q.name.endswith(".tmp")]
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
