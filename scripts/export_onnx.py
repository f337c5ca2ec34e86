"""Re-export a training checkpoint to ONNX with the current export code (graph-only changes need no retraining).

    python scripts/export_onnx.py landmarks runs/landmarks_fast/best.pt facealign/models/landmarks_stfan112_fast.onnx
    python scripts/export_onnx.py detector checkpoints/detector_best.pt facealign/models/detector_ssdlite.onnx

Landmark checkpoints: `best.pt` / `last.pt` of `facealign train landmarks` (EMA weights when present). Detector
checkpoints: `best.pt` of `facealign train detector`. Prints the largest |onnxruntime - torch| difference.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=["landmarks", "detector"])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    if args.kind == "landmarks":
        from facealign.training.landmarks.export import export_onnx
        from facealign.training.landmarks.train import load_teacher

        diff = export_onnx(load_teacher(args.checkpoint), args.out)  # the frozen EMA network of the checkpoint
    else:
        from facealign.training.detection.export import check_onnx, export_onnx
        from facealign.training.detection.net import SSDLiteNet

        ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        cfg = ck["cfg"]
        net = SSDLiteNet(tuple(cfg["widths"]), cfg["fpn"])
        net.load_state_dict(ck["net"])
        export_onnx(net.eval(), args.out)
        diff = check_onnx(net, args.out)
    print(f"{args.out}: max |onnx - torch| = {diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
