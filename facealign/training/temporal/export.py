"""ONNX export of the temporal fusion network, checked against torch through the runtime class the registry builds
for it (facealign.stages.build_model)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch

from facealign.stages import build_model
from facealign.training.temporal.net import TemporalNet


def export_onnx(net: TemporalNet, path: str | Path, check: bool = True, opset: int = 17) -> float:
    """Write the ONNX model (input ``window`` (N, T, 68, 3) float32, output ``landmarks`` (N, 68, 2)) with the
    metadata past / future / window / frame; returns the max |onnx - torch| on random windows (0.0 when check is
    False). Raises if they disagree by > 1e-3."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = net.cpu().eval()
    dummy = torch.rand(2, net.window, 68, 3) - 0.5
    tmp = path.with_name(path.stem + ".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(net, (dummy,), str(tmp), input_names=["window"], output_names=["landmarks"],
                          dynamic_axes={"window": {0: "n"}, "landmarks": {0: "n"}}, opset_version=opset, dynamo=False)
    model = onnx.load(str(tmp))
    for k, v in {"past": net.past, "future": net.future, "window": net.window, "frame": "mean68_similarity"}.items():
        p = model.metadata_props.add()
        p.key, p.value = k, str(v)
    onnx.save(model, str(tmp))
    diff = check_onnx(net, tmp) if check else 0.0
    if diff > 1e-3:  # face-frame units (face box ~ 1): 1e-3 is a tenth of a pixel on a 100-pixel face
        raise RuntimeError(f"ONNX output differs from torch by {diff}")
    tmp.replace(path)
    return diff


def check_onnx(net: TemporalNet, path: str | Path, n: int = 3, seed: int = 0) -> float:
    """Max absolute difference between onnxruntime (the session of the temporal model build_model makes from the
    file: it reads the window metadata as the runtime does) and torch on random windows."""
    x = np.random.default_rng(seed).random((n, net.window, 68, 3)).astype(np.float32) - 0.5
    got = build_model(path, "temporal", threads=1).session.run(["landmarks"], {"window": x})[0]
    with torch.no_grad():
        want = net.eval()(torch.from_numpy(x)).numpy()
    return float(np.abs(got - want).max())
