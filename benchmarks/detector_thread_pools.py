"""How a plain FaceAligner's onnxruntime thread pools affect its speed: one setting per fresh process.

    python benchmarks/detector_thread_pools.py [--modes plain,shared,nospin] [--rounds 2]

plain: FaceAligner() as a user makes it (a pool per session: detector on all cores, landmarks on one thread);
shared: after enable_shared_pool() (what the commands do; process-wide, so later foreign sessions with pools of
their own are refused by onnxruntime); nospin: a pool per session, both on all cores, with
``session.intra_op.allow_spinning = 0`` (no process-wide state). Prints the median of 40 `detect` calls (after 5)
on the packaged sample letterboxed to 640x480 and on a 6-face group photo shrunk to 640 px wide.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def child(mode: str) -> None:
    import cv2
    import numpy as np
    import onnxruntime as ort

    from facealign import paths
    from facealign.runtime import session as S

    if mode == "shared":
        S.enable_shared_pool()
    elif mode == "nospin":
        def no_spin(path, threads=None):
            o = ort.SessionOptions()
            o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            o.intra_op_num_threads, o.inter_op_num_threads = S.default_threads(), 1
            o.add_session_config_entry("session.intra_op.allow_spinning", "0")
            o.log_severity_level = 3
            return ort.InferenceSession(str(path), sess_options=o, providers=["CPUExecutionProvider"])

        import facealign.detection.ssdlite as det_mod
        import facealign.landmarks.onnx_landmarks as lmk_mod

        det_mod.create_session = lmk_mod.create_session = no_spin
    from facealign.pipeline import FaceAligner
    from facealign.samples import sample_path

    fa = FaceAligner()
    one = cv2.imread(str(sample_path()))
    h, w = one.shape[:2]
    s = min(640 / w, 480 / h)
    letterbox = np.zeros((480, 640, 3), np.uint8)
    r = cv2.resize(one, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    letterbox[: r.shape[0], : r.shape[1]] = r
    photos = {"one face 640x480": letterbox}
    group = cv2.imread(str(paths.data_root() / "wild" / "group_t1.jpg"))
    if group is not None:
        photos["group 640 wide"] = cv2.resize(group, (640, round(group.shape[0] * 640 / group.shape[1])),
                                              interpolation=cv2.INTER_AREA)
    for name, img in photos.items():
        for _ in range(5):
            n = len(fa.detect(img))
        t = []
        for _ in range(40):
            t0 = time.perf_counter()
            fa.detect(img)
            t.append(time.perf_counter() - t0)
        print(f"| {mode} | {name} | {n} | {1000 * statistics.median(t):.2f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modes", default="plain,shared,nospin")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    print("| setting | photo | faces | median ms |\n|---|---|---|---|", flush=True)
    for _ in range(args.rounds):
        for m in args.modes.split(","):
            subprocess.run([sys.executable, __file__, "--child", m], check=True)


if __name__ == "__main__":
    main()
