"""Re-export a training checkpoint to ONNX with the current export code (graph-only changes need no retraining).

    python scripts/export_onnx.py landmarks checkpoints/landmarks_best.pt runs/landmarks/best.onnx
    python scripts/export_onnx.py detector checkpoints/detector_best.pt runs/detector/best.onnx
    python scripts/export_onnx.py temporal runs/temporal/last_causal.pt runs/temporal/temporal_causal.onnx

Any checkpoint layout of facealign.training.common.checkpoint (old files in checkpoints/ too); landmark
checkpoints export their EMA weights when present. Prints the largest |onnxruntime - torch| difference. The file
ships only by `facealign models promote OUT --name NAME`.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=["landmarks", "detector", "temporal"])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    from facealign.training.common import checkpoint

    ck = checkpoint.load(args.checkpoint)
    if args.kind == "landmarks":
        from facealign.training.landmarks.export import export_onnx
        from facealign.training.landmarks.train import load_teacher

        diff = export_onnx(load_teacher(args.checkpoint), args.out)  # the frozen EMA network of the checkpoint
    elif args.kind == "detector":
        from facealign.training.detection.export import export_onnx
        from facealign.training.detection.net import SSDLiteNet

        net = SSDLiteNet(tuple(ck.config["widths"]), ck.config["fpn"])
        net.load_state_dict(ck.weights)
        diff = export_onnx(net.eval(), args.out)
    else:
        from facealign.training.temporal.export import export_onnx
        from facealign.training.temporal.net import TemporalNet

        n = ck.config["net"]
        past, future = (n["past"], 0) if ck.extra.get("tag") == "causal" else (n["offline_past"], n["offline_future"])
        net = TemporalNet(past, future, n["hidden"], n["kernel"], n["correction"])
        net.load_state_dict(ck.weights)
        diff = export_onnx(net, args.out)
    print(f"{args.out}: max |onnx - torch| = {diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
