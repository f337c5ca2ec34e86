"""The body keypoint network: the landmark network's family (depthwise encoder, multi-scale fusion, heatmaps,
soft-argmax) with 14 LSP joints.

uint8 NHWC BGR person crop (facealign.body.crop's rule) -> 14 heatmaps at stride 4 -> soft-argmax (integral
regression, sub-pixel) -> 14 joints in crop pixels; a per-joint confidence map pooled under each joint's heatmap
gives `scores`. The decode is inside the graph, so the ONNX file is the complete model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from facealign.training.landmarks.net import InvertedResidual, SeparableBlock, SpatialFusion, conv_bn

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


class BodyNet(nn.Module):
    """uint8 NHWC BGR (N, S, S, 3) -> dict(keypoints (N,14,2) crop pixels, scores (N,14), heatmaps logits)."""

    def __init__(self, cfg: BodyNetConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.widths
        self.stem = conv_bn(3, w[0], 3, 2)
        stages = []
        cin = w[0]
        for i, depth in enumerate(cfg.depths):
            blocks = []
            for j in range(depth):
                blocks.append(InvertedResidual(cin, w[i + 1], 2 if j == 0 else 1, cfg.expand))
                cin = w[i + 1]
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        c = cfg.fpn_channels
        self.fusion = SpatialFusion(list(w[1:]), c, cfg.upsample)
        self.head = nn.Sequential(*[SeparableBlock(c) for _ in range(cfg.head_blocks)])
        self.heatmap = nn.Conv2d(c, N_JOINTS, 1)
        self.confidence = nn.Conv2d(c, N_JOINTS, 1)
        hm = cfg.input_size // STRIDE
        # heatmap cell g covers crop pixels [4g - 0.5, 4g + 3.5]: its centre is 4g + 1.5
        g = torch.arange(hm, dtype=torch.float32) * STRIDE + (STRIDE - 1) / 2
        cells = torch.stack([g.repeat(hm), g.repeat_interleave(hm)], 1)  # (hm*hm, 2), row-major
        self.register_buffer("cells", cells, persistent=False)
        self.n_cells = hm * hm
        self.register_buffer("mean", torch.tensor([127.5, 127.5, 127.5]).view(1, 3, 1, 1), persistent=False)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.heatmap.weight, std=0.01)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = image.permute(0, 3, 1, 2).float()
        x = (x - self.mean) * (1.0 / 128.0)
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        fused = self.head(self.fusion(feats))
        logits = self.heatmap(fused)
        prob = torch.softmax(logits.reshape(-1, N_JOINTS, self.n_cells), dim=-1)
        kp = prob @ self.cells
        conf = (prob * self.confidence(fused).reshape(-1, N_JOINTS, self.n_cells)).sum(-1)
        return {"keypoints": kp, "scores": torch.sigmoid(conf), "score_logits": conf, "heatmaps": logits}


class ExportWrapper(nn.Module):
    """The ONNX graph: input -> (keypoints, scores, heatmaps): the heatmap logits too, so the runtime can decode
    near each peak and average a mirrored crop's heatmaps (facealign.body.onnx_body)."""

    def __init__(self, net: BodyNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor):
        out = self.net(image)
        return out["keypoints"], out["scores"], out["heatmaps"]


def count_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
