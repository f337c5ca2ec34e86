"""ONNX export of the detector and its check against torch through the runtime class the registry builds for it
(facealign.stages.build_model)."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from facealign.training.detection.net import ExportWrapper, SSDLiteNet, normalise
from facealign.training.fold_input import fold_input_normalisation

OUTPUTS = ["scores", "boxes", "kps"]


def export_onnx(net: SSDLiteNet, path: str | Path, check: bool = True, opset: int = 17) -> float:
    """Write the uint8 NHWC BGR -> (scores, boxes, kps) graph with dynamic batch, height and width; returns the
    max |onnxruntime - torch| on random images (0.0 when check is False). Raises if they disagree by > 1e-2."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = ExportWrapper(copy.deepcopy(net).eval())
    dummy = torch.zeros(1, 320, 320, 3, dtype=torch.uint8)
    tmp = path.with_suffix(".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(
            wrapper, (dummy,), str(tmp), input_names=["input"], output_names=OUTPUTS, opset_version=opset,
            dynamic_axes={"input": {0: "batch", 1: "height", 2: "width"}, **{o: {0: "batch", 1: "anchors"} for o in OUTPUTS}},
            dynamo=False,
        )
    # Sub/Div of the pixels folded into the stem, black border: ~13% faster at 640x480 (see fold_input.py)
    fold_input_normalisation(tmp, exact_border=False)
    diff = check_onnx(net, tmp) if check else 0.0
    if diff > 1e-2:
        raise RuntimeError(f"ONNX output differs from torch by {diff}")
    tmp.replace(path)
    return diff


def black_border_stem(net: SSDLiteNet) -> SSDLiteNet:
    """``net`` with its stem padding raw black pixels instead of normalised zeros: the torch twin of the exported
    graph (fold_input_normalisation(exact_border=False)), for checking the export."""
    conv = net.stem[0]
    ph, pw = conv.padding
    conv.padding = (0, 0)
    black = float(normalise(torch.zeros((1, 1, 1, 1), dtype=torch.uint8)))  # a raw 0 after normalise()
    conv.register_forward_pre_hook(lambda m, inp: (F.pad(inp[0], (pw, pw, ph, ph), value=black),))
    return net


def check_onnx(net: SSDLiteNet, path: str | Path, sizes: tuple[tuple[int, int], ...] = ((320, 320), (480, 640))) -> float:
    """Largest absolute difference between onnxruntime and torch outputs on random images of the given sizes (the
    session of the detector build_model makes from the file, so it loads as a detector of the registry)."""
    from facealign.stages import build_model

    sess = build_model(path, "detector", threads=1).session
    wrapper = ExportWrapper(black_border_stem(copy.deepcopy(net).eval()))
    rng = np.random.default_rng(0)
    worst = 0.0
    for h, w in sizes:
        x = rng.integers(0, 256, (1, h, w, 3), dtype=np.uint8)
        with torch.no_grad():
            ref = [t.numpy() for t in wrapper(torch.from_numpy(x))]
        got = sess.run(OUTPUTS, {"input": x})
        for a, b in zip(ref, got):
            if a.shape != b.shape:
                raise AssertionError(f"shape mismatch {a.shape} vs {b.shape}")
            worst = max(worst, float(np.abs(a - b).max()))
    return worst
