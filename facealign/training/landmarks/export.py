"""ONNX export of the landmark network (the runtime contract: landmarks, scores[, landmarks3d]), checked against torch through
the runtime class the registry builds for it (facealign.stages.build_model)."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from facealign.stages import build_model
from facealign.training.fold_input import fold_input_normalisation
from facealign.training.landmarks.net import ExportWrapper, LandmarkNet


def export_onnx(net: LandmarkNet, path: str | Path, check: bool = True, opset: int = 17) -> float:
    """Write the ONNX file (input `input` uint8 NHWC BGR, dynamic batch) and return the max |onnx - torch|
    of the landmarks on random crops (0.0 when check is False). Raises if the outputs disagree by > 1e-2 px."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # eval() on the wrapper itself: the exporter restores the wrapper's mode on all children afterwards
    model = ExportWrapper(copy.deepcopy(net).cpu()).eval()
    size = net.cfg.input_size
    dummy = torch.randint(0, 256, (2, size, size, 3), dtype=torch.uint8)
    names = model.outputs
    tmp = path.with_suffix(".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            str(tmp),
            input_names=["input"],
            output_names=names,
            dynamic_axes={"input": {0: "n"}, **{k: {0: "n"} for k in names}},
            opset_version=opset,
            dynamo=False,
        )
    fold_input_normalisation(tmp)  # one pass over the pixels fewer (see facealign/training/fold_input.py)
    diff = check_onnx(model, tmp) if check else 0.0
    tmp.replace(path)
    return diff


def check_onnx(model: torch.nn.Module, path: str | Path, n: int = 3, seed: int = 0) -> float:
    """Max absolute difference of every output (landmarks, scores[, landmarks3d]) between torch and the runtime's session (built by
    build_model, so the file loads as a landmark model of the registry) on random uint8 crops."""
    size = model.net.cfg.input_size
    x = np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    runtime = build_model(path, "landmarks", threads=1)
    got = runtime.session.run(runtime.outputs, {runtime.input_name: x})
    with torch.no_grad():
        want = model(torch.from_numpy(x))
    diff = max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want))
    if diff > 1e-2:
        raise RuntimeError(f"ONNX output differs from torch by {diff}")
    return diff
