"""Time the body network at batch 1 on one onnxruntime thread: the network alone (one crop) and ONNXBody.predict
(crop + network + joints back to the photo) for one person on a 640x480 photo; median of N runs.

    python benchmarks/body_speed.py [--model NAME_OR_ONNX] [--runs 300] [--tta]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from facealign.stages import build_model


def median_ms(fn, runs: int) -> float:
    for _ in range(20):
        fn()
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return 1000 * float(np.median(t))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--tta", action="store_true")
    a = ap.parse_args()
    model = build_model(a.model, "body", threads=1, flip_tta=a.tta)
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    box = np.array([[200.0, 40.0, 360.0, 460.0]])
    crops, _ = model.crops(photo, box)
    net = median_ms(lambda: model.session.run(None, {model.input_name: crops}), a.runs)
    full = median_ms(lambda: model.predict(photo, box), a.runs)
    print(f"{model.name}: network {net:.2f} ms, predict (crop + network + back) {full:.2f} ms a person "
          f"(batch 1, 1 thread{', flip TTA' if a.tta else ''}, median of {a.runs})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
