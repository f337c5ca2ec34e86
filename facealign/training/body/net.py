"""The body keypoint network: the landmark network's design (training.landmarks.net.HeatmapNet: depthwise encoder,
multi-scale fusion, heatmaps, soft-argmax) with 14 LSP joints.

uint8 NHWC BGR person crop (the crop rule of facealign.alignment.body_points) -> 14 heatmaps at stride 4 -> soft-argmax (integral
regression, sub-pixel) -> 14 joints in crop pixels; a per-joint confidence map pooled under each joint's heatmap
gives `scores`. The decode is inside the graph, so the ONNX file is the complete model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from facealign.training.landmarks.net import HeatmapNet, count_params  # noqa: F401 (count_params: train.py's)

N_JOINTS = 14
STRIDE = 4


@dataclass
class BodyNetConfig:
    """Network shape."""

    input_size: int = 128
    widths: list[int] = field(default_factory=lambda: [16, 24, 40, 80, 128])  # stem, strides 4, 8, 16, 32
    depths: list[int] = field(default_factory=lambda: [2, 3, 3, 2])
    expand: int = 4
    fpn_channels: int = 64
    head_blocks: int = 2
    upsample: str = "nearest"


class BodyNet(HeatmapNet):
    """uint8 NHWC BGR (N, S, S, 3) -> dict(keypoints (N,14,2) crop pixels, scores (N,14), heatmaps logits)."""

    def __init__(self, cfg: BodyNetConfig):
        super().__init__(cfg, N_JOINTS)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.decode(image)
        out["keypoints"] = out.pop("points")
        return out


class ExportWrapper(nn.Module):
    """The ONNX graph: input -> (keypoints, scores, heatmaps): the heatmap logits too, so the runtime can decode
    near each peak and average a mirrored crop's heatmaps (facealign.body.onnx_body)."""

    def __init__(self, net: BodyNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor):
        out = self.net(image)
        return out["keypoints"], out["scores"], out["heatmaps"]
