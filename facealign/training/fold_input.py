"""Fold the input normalisation of an exported network into its first convolution.

Our networks take uint8 NHWC pixels and start with Transpose -> Cast -> Sub(127.5) -> Div(128) -> Conv. On a
640x480 detector input the two element-wise float ops cost about a fifth of the whole network (they touch every
pixel twice and are memory bound). A convolution is linear, so

    conv((x - m) / s, W) + b  ==  conv(pad(x, value=m), W / s) + (b - m / s * sum(W))

where the explicit pad with the value ``m`` reproduces the original zero padding of the normalised image exactly
(a pixel of value m normalises to 0). The rewritten graph is Transpose -> Cast -> Pad -> Conv: same outputs to float
rounding, one pass over the pixels fewer.

``exact_border=False`` drops the Pad too (the convolution pads with raw 0, i.e. black instead of mid-grey, in the
one-pixel frame around the image): another ~0.3 ms on a 640x480 detector input. Only the outputs next to the
image's top and left edges change (bottom and right are black padding to a multiple of 32 in training and at run
time anyway); the detector uses it, with recall and AP re-measured (docs/speed.md).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def fold_input_normalisation(path: str | Path, out: str | Path | None = None, exact_border: bool = True) -> bool:
    """Rewrite ``path`` (in place, or to ``out``); returns False (and writes nothing) when the graph does not start
    with the Cast -> Sub(const) -> Div(const) -> Conv pattern, e.g. because it was already folded."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    g = model.graph
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in g.node if n.op_type == "Constant"}
    inits = {t.name: t for t in g.initializer}
    users: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    cast = next((n for n in g.node if n.op_type == "Cast"), None)
    if cast is None:
        return False
    chain = [cast]
    for ops in (("Sub",), ("Div", "Mul"), ("Conv",)):
        nxt = users.get(chain[-1].output[0], [])
        if len(nxt) != 1 or nxt[0].op_type not in ops:
            return False
        chain.append(nxt[0])
    _, sub, div, conv = chain
    if any(a.name == "group" and a.i != 1 for a in conv.attribute):
        return False

    def value(name: str) -> np.ndarray | None:
        if name in consts:
            return consts[name]
        return numpy_helper.to_array(inits[name]) if name in inits else None

    mean, scale = value(sub.input[1]), value(div.input[1])
    if mean is None or scale is None:
        return False
    mean, scale = mean.astype(np.float64).ravel(), scale.astype(np.float64).ravel()
    # per-channel statistics would need a per-channel pad value: only one value for all channels is folded
    if np.ptp(mean) > 0 or np.ptp(scale) > 0:
        return False
    mean, scale = float(mean[0]), float(scale[0])
    if div.op_type == "Mul":
        scale = 1.0 / scale
    w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
    b = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64) if len(conv.input) > 2 else np.zeros(w.shape[0])
    w_new = w / scale
    b_new = b - mean / scale * w.sum(axis=(1, 2, 3))
    attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
    pads = list(attrs.pop("pads", [0, 0, 0, 0]))
    k = len(pads) // 2
    wname, bname = conv.input[1] + "_folded", (conv.input[2] if len(conv.input) > 2 else conv.input[1]) + "_bias_folded"
    g.initializer.extend([
        numpy_helper.from_array(w_new.astype(np.float32), wname),
        numpy_helper.from_array(b_new.astype(np.float32), bname),
    ])
    if exact_border:
        g.initializer.extend([
            numpy_helper.from_array(np.array([0, 0] + pads[:k] + [0, 0] + pads[k:], np.int64), "fold_pads"),
            numpy_helper.from_array(np.array(mean, np.float32), "fold_pad_value"),
        ])
        pad = helper.make_node("Pad", [cast.output[0], "fold_pads", "fold_pad_value"], ["fold_padded"],
                               mode="constant", name="fold_pad")
        new_conv = helper.make_node("Conv", ["fold_padded", wname, bname], list(conv.output),
                                    name=conv.name or "stem_conv", pads=[0] * len(pads), **attrs)
        replacement = [pad, new_conv]
    else:
        new_conv = helper.make_node("Conv", [cast.output[0], wname, bname], list(conv.output),
                                    name=conv.name or "stem_conv", pads=pads, **attrs)
        replacement = [new_conv]
    nodes = []
    for n in g.node:
        if n is conv:
            nodes += replacement
        elif n is not sub and n is not div:
            nodes.append(n)
    # drop the now unused constants and the old weights
    used = {i for n in nodes for i in n.input}
    del g.node[:]
    g.node.extend(n for n in nodes if not (n.op_type == "Constant" and n.output[0] not in used))
    keep_init = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep_init)
    onnx.checker.check_model(model)
    target = Path(out or path)
    tmp = target.with_suffix(".fold.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(target)
    return True
