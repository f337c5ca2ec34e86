"""int8 quantisation of the landmark network, with its speed and its NME change on 300-W AFW.

    python scripts/quantize_models.py [--out DIR]   (default: the cache folder, speed/quant)

Makes, from facealign/models/landmarks_stfan112.onnx (or --model):
- ``static_qdq_all.onnx``: static QDQ int8 of every supported op (per-channel weights, uint8 activations), calibrated on crops made by the
  runtime's own crop rule (ONNXLandmarks.crops) from 300-W training photos (lfpw_train, helen_train) with
  ground-truth boxes, so calibration sees exactly what inference feeds;
- ``static_qdq_conv.onnx``: the same with only Conv quantised (additions, resize and the heatmap decoding stay float);
- ``static_qdq_body.onnx``: the body in int8 (Conv, Add, Relu, Resize, Concat) with the output convolutions
  (heatmap, confidence, features) and the soft-argmax decoding in float;
- ``dynamic.onnx``: dynamic quantisation (weights int8, activations quantised at run time).
Then measures each against the float model: NME (inter-ocular, %) on 300-W AFW with ground-truth boxes (the
evaluation code of facealign.evaluation) and ms per face at batch 1 and 8 with 1 thread. Writes OUT/quantize.md and
OUT/quantize.json. It never replaces the shipped model: copying a file into facealign/models is the maintainer's call
(the rule: only when NME rises by at most 0.1 point and the speed gain is real).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from facealign.paths import cache_dir, data_path
from facealign.runtime import registry

DATA = data_path("300w")


def calibration_crops(model_path: Path, n: int, seed: int = 0) -> np.ndarray:
    """(n, S, S, 3) uint8 network inputs from 300-W training faces (never AFW, the evaluation set)."""
    from facealign.alignment.points import tight_box
    from facealign.data.pts import read_pts_folder
    from facealign.io.images import load_image
    from facealign.landmarks.onnx_landmarks import ONNXLandmarks

    samples = read_pts_folder(DATA / "lfpw_train") + read_pts_folder(DATA / "helen_train")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(samples), size=min(n, len(samples)), replace=False)
    lm = ONNXLandmarks(path=model_path, threads=1)
    crops = []
    for i in pick:
        s = samples[i]
        img = load_image(s.image).pixels
        c, _ = lm.crops(img, tight_box(s.points)[None])
        crops.append(c[0].copy())
    return np.stack(crops)


class _Reader:
    """CalibrationDataReader over a stack of crops, a few at a time."""

    def __init__(self, crops: np.ndarray, input_name: str, batch: int = 8) -> None:
        self.batches = iter([{input_name: crops[i : i + batch]} for i in range(0, len(crops), batch)])

    def get_next(self):
        return next(self.batches, None)


def quantize_all(model: Path, out: Path, crops: np.ndarray) -> dict[str, Path]:
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType, quantize_dynamic,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    out.mkdir(parents=True, exist_ok=True)
    pre = out / "preprocessed.onnx"
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)
    import onnx

    graph = onnx.load(str(pre)).graph
    # the output convolutions feed the soft-argmax / score decoding: 8-bit heatmap logits cost accuracy, keep float
    head = [n.name for n in graph.node if n.op_type == "Conv" and any(o in {"features"} or "heatmap" in n.name
            or "confidence" in n.name or "features" in n.name for o in n.output)]
    variants = (
        ("static_qdq_all", None, []),  # every op the quantiser supports, decoding included
        ("static_qdq_conv", ["Conv"], []),  # convolutions only; additions, resize, decoding float
        ("static_qdq_body", ["Conv", "Add", "Relu", "Resize", "Concat"], head),  # int8 body, float output convs + decoding
    )
    files = {}
    for name, ops, exclude in variants:
        path = out / f"{name}.onnx"
        quantize_static(
            str(pre), str(path), _Reader(crops, "input"), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=ops,
            nodes_to_exclude=exclude, calibrate_method=CalibrationMethod.MinMax,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )
        files[name] = path
    path = out / "dynamic.onnx"
    quantize_dynamic(str(pre), str(path), weight_type=QuantType.QUInt8, op_types_to_quantize=["Conv"])
    files["dynamic"] = path
    return files


def afw_nme(model_path: Path) -> float:
    """Mean inter-ocular NME (%) on 300-W AFW with ground-truth boxes."""
    from facealign.evaluation.landmarks_eval import dataset_metrics, evaluate_samples
    from facealign.data.pts import read_pts_folder
    from facealign.landmarks.onnx_landmarks import ONNXLandmarks
    from facealign.pipeline import FaceAligner

    fa = FaceAligner(detector=None, landmarks=ONNXLandmarks(path=model_path, threads=1), threads=1)
    results = evaluate_samples(fa, read_pts_folder(DATA / "afw"), boxes="gt", progress=False)
    return 100.0 * float(dataset_metrics(results)["nme"]["io"])


def ms_per_face(model_path: Path, batch: int, runs: int = 30, warmup: int = 5, threads: int = 1) -> float:
    from facealign.runtime.session import create_session

    sess = create_session(model_path, threads)
    x = np.random.default_rng(0).integers(0, 256, (batch, 112, 112, 3), dtype=np.uint8)
    ts = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        sess.run(None, {"input": x})
        if i >= warmup:
            ts.append((time.perf_counter() - t0) * 1e3 / batch)
    return float(np.median(ts))


WILD = data_path("wild")


def quantize_detector(model: Path, out: Path, runs: int) -> str:
    """Static int8 of the detector (body in int8), calibrated on 20 portraits at the 640 working size; reports
    speed at 640x480 and how many float detections the int8 model reproduces (IoU >= 0.5) on the other photos.
    An indication only: the detector's own AP evaluation decides."""
    import cv2
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from facealign.detection.ssdlite import SSDLiteDetector, preprocess
    from facealign.alignment.boxes import iou

    portraits = sorted((WILD / "portraits").glob("*.jpg"))
    calib, held_out = portraits[:20], sorted(WILD.glob("*.jpg")) + portraits[20:]
    pre, q = out / "detector_preprocessed.onnx", out / "detector_static_qdq_body.onnx"
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)

    class Reader:
        def __init__(self) -> None:
            self.it = iter([{"input": preprocess(cv2.imread(str(f)), 640)[0]} for f in calib])

        def get_next(self):
            return next(self.it, None)

    quantize_static(str(pre), str(q), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    op_types_to_quantize=["Conv", "Add", "Relu", "Resize", "Concat"],
                    calibrate_method=CalibrationMethod.MinMax)
    a, b = SSDLiteDetector(path=str(model), threads=1), SSDLiteDetector(path=str(q), threads=1)
    n_a = n_b = hit = 0
    ious = []
    for f in held_out:
        im = cv2.imread(str(f))
        fa, fb = a.detect(im), b.detect(im)
        n_a, n_b = n_a + len(fa), n_b + len(fb)
        for x in fa:
            best = max([iou(x.box, y.box) for y in fb] or [0.0])
            if best >= 0.5:
                hit, ious = hit + 1, ious + [best]
    x = np.random.default_rng(0).integers(0, 256, (1, 480, 640, 3), dtype=np.uint8)
    speeds = {}
    for name, path in (("float", model), ("int8", q)):
        from facealign.runtime.session import create_session

        sess = create_session(path, 1)
        ts = []
        for i in range(5 + runs):
            t0 = time.perf_counter()
            sess.run(None, {"input": x})
            if i >= 5:
                ts.append((time.perf_counter() - t0) * 1e3)
        speeds[name] = float(np.median(ts))
    return (f"Detector int8 ({model.name} -> {q.name}; 1 thread, 640x480 input, median of {runs} runs): float "
            f"{speeds['float']:.2f} ms, int8 {speeds['int8']:.2f} ms. On {len(held_out)} held-out photos the float model "
            f"finds {n_a} faces, int8 {n_b}; {hit} of the float detections are reproduced (IoU >= 0.5, mean IoU "
            f"{np.mean(ious) if ious else 0:.3f}).\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(registry.get("stfan-lmk-112").path))
    ap.add_argument("--out", default=str(cache_dir("speed", "quant")), help="folder for the quantised files and the report")
    ap.add_argument("--calib", type=int, default=256, help="calibration crops (default 256)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--detector", nargs="?", const=str(registry.get("ssdlite-det").path),
                    help="also try int8 on the detector (default file: the shipped one)")
    args = ap.parse_args(argv)
    model, out = Path(args.model), Path(args.out)
    if not DATA.is_dir():
        sys.exit(f"needs the 300-W data at {DATA}")
    crops = calibration_crops(model, args.calib)
    files = {"float": model, **quantize_all(model, out, crops)}
    rows = {}
    for name, path in files.items():
        rows[name] = {
            "file": str(path), "size_kb": round(path.stat().st_size / 1024),
            "nme_io_afw_pct": afw_nme(path),
            "ms_per_face_b1": ms_per_face(path, 1, args.runs), "ms_per_face_b8": ms_per_face(path, 8, args.runs),
        }
        print(name, rows[name], flush=True)
    base = rows["float"]
    lines = ["| model | size KB | NME io AFW % | change (points) | ms/face batch 1 | ms/face batch 8 |", "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        d = r["nme_io_afw_pct"] - base["nme_io_afw_pct"]
        lines.append(f"| {name} | {r['size_kb']} | {r['nme_io_afw_pct']:.3f} | {d:+.3f} | {r['ms_per_face_b1']:.2f} | {r['ms_per_face_b8']:.2f} |")
    md = (f"Landmark model int8 quantisation ({model.name}; {args.calib} calibration crops from 300-W lfpw/helen "
          f"train; NME on AFW, ground-truth boxes; 1 thread, median of {args.runs} runs)\n\n" + "\n".join(lines) + "\n")
    if args.detector:
        md += "\n" + quantize_detector(Path(args.detector), out, args.runs)
    (out / "quantize.md").write_text(md)
    (out / "quantize.json").write_text(json.dumps(rows, indent=1))
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
