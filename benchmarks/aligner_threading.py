"""Is a plain FaceAligner() as fast as the commands? One thread setting per fresh process.

    python benchmarks/aligner_threading.py [--modes default,per_session,command,spin_stop,no_spin]
                                           [--runs 30] [--warmup 5] [--rounds 2] [--threads N]

Modes (each in a fresh process: onnxruntime's global pool is once per process):
  default      ``FaceAligner()`` as a user makes it: the shared pool turned on by default (runtime.session.
               use_shared_pool)
  per_session  ``FaceAligner(shared_pool=False)``: the old default (a pool per session, detector on all cores,
               landmark network on one thread, both spinning)
  command      ``build_aligner(AlignerOptions())``, the factory `facealign align` / `facealign bench` use
  spin_stop    candidate without process-wide state: a pool per session, both networks on all cores, with
               ``session.force_spinning_stop = 1`` (threads spin during a run, stop when it returns)
  no_spin      the same with ``session.intra_op.allow_spinning = 0``

Photos: the bundled sample (`facealign sample`, 512x512) and the same photo letterboxed into 640x480 (one face).
Prints the median and p90 ms of ``fa.detect(image)`` (detector + landmark network + the check) over ``--runs``
calls after ``--warmup``, per mode, photo and round, then the median over rounds. Only meaningful on an idle
machine: the load average is printed first.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MODES = ("default", "per_session", "command", "spin_stop", "no_spin")


def photos():
    import cv2
    import numpy as np

    from facealign.samples import sample_path

    one = cv2.imread(str(sample_path()))
    h, w = one.shape[:2]
    s = min(640 / w, 480 / h)
    box = np.zeros((480, 640, 3), np.uint8)
    r = cv2.resize(one, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    box[: r.shape[0], : r.shape[1]] = r
    return {f"sample {w}x{h}": one, "one face 640x480": box}


def make_aligner(mode: str, threads: int | None):
    from facealign.pipeline import AlignerOptions, FaceAligner, build_aligner
    from facealign.runtime import session as S

    if mode == "default":
        return FaceAligner(threads=threads)
    if mode == "per_session":
        return FaceAligner(threads=threads, shared_pool=False)
    if mode == "command":
        return build_aligner(AlignerOptions(threads=threads))
    if mode in ("spin_stop", "no_spin"):
        import onnxruntime as ort

        import facealign.detection.ssdlite as det_mod
        import facealign.landmarks.onnx_landmarks as lmk_mod

        key, value = (("session.force_spinning_stop", "1") if mode == "spin_stop"
                      else ("session.intra_op.allow_spinning", "0"))

        def session(path, threads_=None):
            o = ort.SessionOptions()
            o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            o.intra_op_num_threads, o.inter_op_num_threads = threads_ or S.default_threads(), 1
            o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            o.add_session_config_entry(key, value)
            o.log_severity_level = 3
            return ort.InferenceSession(str(path), sess_options=o, providers=["CPUExecutionProvider"])

        det_mod.create_session = lmk_mod.create_session = session
        n = threads or S.default_threads()
        return FaceAligner(threads=n, landmark_threads=n, shared_pool=False)
    raise SystemExit(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")


def child(mode: str, runs: int, warmup: int, threads: int | None) -> None:
    from facealign.runtime import session as S

    fa = make_aligner(mode, threads)
    fa.detector, fa.landmark_model  # load both models before timing
    opts = fa.detector.session.get_session_options()
    pool = S.shared_pool_size() or ("global" if S.global_pool_in_use() else f"own {opts.intra_op_num_threads}")
    for name, img in photos().items():
        for _ in range(warmup):
            n = len(fa.detect(img))
        t = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fa.detect(img)
            t.append(1000 * (time.perf_counter() - t0))
        t.sort()
        print(json.dumps({"mode": mode, "photo": name, "faces": n, "pool": str(pool),
                          "median": statistics.median(t), "p90": t[min(len(t) - 1, int(0.9 * len(t)))]}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="every mode once per round, rounds interleaved")
    ap.add_argument("--threads", type=int, default=None, help="default: FACEALIGN_THREADS or the core count (<= 4)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.runs, args.warmup, args.threads)
        return
    modes = [m for m in args.modes.split(",") if m]
    for m in modes:
        if m not in MODES:
            raise SystemExit(f"unknown mode {m!r}; choose from {', '.join(MODES)}")
    load = os.getloadavg()
    print(f"cores {os.cpu_count()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
          + ("  ** not idle: the numbers are not valid **" if load[0] > 0.5 else ""))
    results = []
    print("| mode | photo | faces | pool | round | median ms | p90 ms |\n|---|---|---|---|---|---|---|", flush=True)
    for r in range(args.rounds):
        for m in modes:
            cmd = [sys.executable, __file__, "--child", m, "--runs", str(args.runs), "--warmup", str(args.warmup)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                if line.startswith("{"):
                    d = json.loads(line)
                    results.append(d)
                    print(f"| {m} | {d['photo']} | {d['faces']} | {d['pool']} | {r + 1} | {d['median']:.2f} | "
                          f"{d['p90']:.2f} |", flush=True)
    print("\nmedian over rounds (ms):\n\n| mode | " + " | ".join(sorted({d["photo"] for d in results})) + " |")
    print("|---|" + "---|" * len({d["photo"] for d in results}))
    for m in modes:
        cells = [statistics.median([d["median"] for d in results if d["mode"] == m and d["photo"] == p])
                 for p in sorted({d["photo"] for d in results})]
        print(f"| {m} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
