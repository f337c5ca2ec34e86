"""ONNX export of the body network (uint8 NHWC BGR in, normalisation folded into the first convolution),
checked against torch through the runtime class the registry builds for it (facealign.stages.build_model)."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from facealign.stages import build_model
from facealign.training.body.net import BodyNet, ExportWrapper
from facealign.training.fold_input import fold_input_normalisation

OUTPUTS = ["keypoints", "scores", "heatmaps"]


def export_onnx(net: BodyNet, path: str | Path, check: bool = True, opset: int = 17) -> float:
    """Write the ONNX file (input ``input``, dynamic batch) and return the max |onnx - torch| of the keypoints
    on random crops (0.0 without the check). Raises if they disagree by more than 1e-2 px."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = ExportWrapper(copy.deepcopy(net).cpu()).eval()
    size = net.cfg.input_size
    dummy = torch.randint(0, 256, (2, size, size, 3), dtype=torch.uint8)
    tmp = path.with_suffix(".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (dummy,), str(tmp), input_names=["input"], output_names=OUTPUTS,
                          dynamic_axes={"input": {0: "n"}, **{k: {0: "n"} for k in OUTPUTS}},
                          opset_version=opset, dynamo=False)
    fold_input_normalisation(tmp)
    diff = 0.0
    if check:
        x = np.random.default_rng(0).integers(0, 256, (3, size, size, 3), dtype=np.uint8)
        runtime = build_model(tmp, "body", threads=1)
        got = runtime.session.run(OUTPUTS, {runtime.input_name: x})
        with torch.no_grad():
            want = model(torch.from_numpy(x))
        diff = max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want))
        if diff > 1e-2:
            raise RuntimeError(f"ONNX output differs from torch by {diff}")
    tmp.replace(path)
    return diff
