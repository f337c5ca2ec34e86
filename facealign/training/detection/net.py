"""The detector network: a small depthwise-separable backbone, a light FPN over strides 8/16/32 and per-level heads.

Every feature cell carries ``len(ANCHORS[level])`` square anchors; each anchor predicts one face score logit,
4 box offsets (SSD encoding, see facealign.detection.anchors) and 10 keypoint offsets. The export wrapper takes
uint8 NHWC BGR images (any H, W multiple of 32), normalises in-graph and returns raw predictions concatenated
over levels: ``scores`` (N, A) sigmoid probabilities, ``boxes`` (N, A, 4), ``kps`` (N, A, 10).
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

STRIDES = (8, 16, 32)


def conv_bn(cin: int, cout: int, k: int = 3, s: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class DWBlock(nn.Module):
    """Depthwise 3x3 (stride s) + pointwise 1x1; residual when shapes allow."""

    def __init__(self, cin: int, cout: int, s: int = 1) -> None:
        super().__init__()
        self.dw = conv_bn(cin, cin, 3, s, groups=cin, act=False)
        self.pw = conv_bn(cin, cout, 1)
        self.res = s == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw(self.dw(x))
        return x + y if self.res else y


class Head(nn.Module):
    """One level's predictions: a DW block, then 1x1 convs for score, box and points."""

    def __init__(self, ch: int, n_anchors: int) -> None:
        super().__init__()
        self.n = n_anchors
        self.body = DWBlock(ch, ch)
        self.cls = nn.Conv2d(ch, n_anchors, 1)
        self.box = nn.Conv2d(ch, 4 * n_anchors, 1)
        self.kps = nn.Conv2d(ch, 10 * n_anchors, 1)
        nn.init.constant_(self.cls.bias, -4.0)  # start with a low face prior (focal-loss style) for stable training

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H*W*A, 15): per anchor its score logit, 4 box and 10 point offsets; anchor order is row-major cells,
        anchors inner (matches anchors.py)."""
        x = self.body(x)
        # the three 1x1 convs as one, output channels grouped per anchor (score, box, points): one conv, one layout
        # change and one reshape per level in the exported graph instead of three (same weights, same numbers)
        a = self.n
        w = torch.cat([self.cls.weight.view(a, 1, -1), self.box.weight.view(a, 4, -1), self.kps.weight.view(a, 10, -1)], 1)
        b = torch.cat([self.cls.bias.view(a, 1), self.box.bias.view(a, 4), self.kps.bias.view(a, 10)], 1)
        y = F.conv2d(x, w.reshape(a * 15, -1, 1, 1), b.reshape(-1))
        return y.permute(0, 2, 3, 1).reshape(y.shape[0], -1, 15)


class SSDLiteNet(nn.Module):
    """Backbone (stride 2 stem, DW blocks) -> C3/C4/C5 -> top-down FPN -> heads. Input float NCHW, normalised."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 96, 128), fpn: int = 48, n_anchors: int = 2) -> None:
        super().__init__()
        w0, w1, w2, w3, w4 = widths
        self.stem = conv_bn(3, w0, 3, 2)  # /2 (no full-resolution block: it dominated the run time)
        self.s4 = nn.Sequential(DWBlock(w0, w1, 2), DWBlock(w1, w1))  # /4
        self.s8 = nn.Sequential(DWBlock(w1, w2, 2), DWBlock(w2, w2), DWBlock(w2, w2))  # /8
        self.s16 = nn.Sequential(DWBlock(w2, w3, 2), DWBlock(w3, w3), DWBlock(w3, w3))  # /16
        self.s32 = nn.Sequential(DWBlock(w3, w4, 2), DWBlock(w4, w4), DWBlock(w4, w4))  # /32
        self.lat3, self.lat4, self.lat5 = conv_bn(w2, fpn, 1), conv_bn(w3, fpn, 1), conv_bn(w4, fpn, 1)
        self.smooth3, self.smooth4 = DWBlock(fpn, fpn), DWBlock(fpn, fpn)
        self.heads = nn.ModuleList([Head(fpn, n_anchors) for _ in STRIDES])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c3 = self.s8(self.s4(self.stem(x)))
        c4 = self.s16(c3)
        c5 = self.s32(c4)
        p5 = self.lat5(c5)
        p4 = self.smooth4(self.lat4(c4) + F.interpolate(p5, size=c4.shape[-2:], mode="nearest"))
        p3 = self.smooth3(self.lat3(c3) + F.interpolate(p4, size=c3.shape[-2:], mode="nearest"))
        out = torch.cat([h(p) for h, p in zip(self.heads, (p3, p4, p5))], 1)  # (B, anchors, 15)
        return out[..., 0], out[..., 1:5], out[..., 5:]


def normalise(x_uint8_nhwc: torch.Tensor) -> torch.Tensor:
    """uint8 NHWC BGR -> float NCHW in about [-1, 1] (the same in training and in the exported graph)."""
    return (x_uint8_nhwc.permute(0, 3, 1, 2).float() - 127.5) / 128.0


class ExportWrapper(nn.Module):
    """uint8 NHWC BGR in, (scores sigmoid, box offsets, point offsets) out; what the ONNX file contains."""

    def __init__(self, net: SSDLiteNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cls, box, kps = self.net(normalise(x))
        return torch.sigmoid(cls), box, kps
