"""The landmark network: a depthwise-separable encoder, multi-scale spatial fusion, heatmaps, soft-argmax.

uint8 NHWC BGR crop (the crop rule of facealign.alignment.crop) -> 68 heatmaps at stride 4 -> soft-argmax
(integral regression) -> 68 points in crop pixels; a per-point confidence map is pooled under each point's
heatmap into `scores`. With ``cfg.points3d`` a second set of 68 heatmaps on the same features gives
`landmarks3d`: the points in the 3D convention (each semantic point where it is, hidden or not; the jaw not on
the visible outline; docs/conventions.md). A stride-4 `features` map is computed in training when cfg.feature_channels > 0 (kept so
the checkpoints of the runs that had it load); it is never exported, the runtime reads only landmarks and scores.
The whole decode happens inside the graph, so the ONNX file is the complete model.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from facealign.training.landmarks.config import NetConfig

N_POINTS = 68
STRIDE = 4


def conv_bn(cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise (stride), 1x1 linear project; residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(
            conv_bn(cin, mid, 1),
            conv_bn(mid, mid, 3, stride, groups=mid),
            conv_bn(mid, cout, 1, act=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.use_res else y


class SeparableBlock(nn.Module):
    """3x3 depthwise + 1x1 pointwise with a residual: cheap spatial smoothing at the heatmap resolution."""

    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(conv_bn(c, c, 3, groups=c), conv_bn(c, c, 1, act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class SpatialFusion(nn.Module):
    """The spatial half of the space-time CNN: FPN-style top-down fusion of strides 4, 8, 16 and 32."""

    def __init__(self, in_channels: list[int], c: int, upsample: str = "bilinear"):
        super().__init__()
        if upsample not in ("bilinear", "nearest"):
            raise ValueError(f"upsample must be 'bilinear' or 'nearest', got {upsample!r}")
        self.upsample = upsample
        self.lateral = nn.ModuleList([conv_bn(ci, c, 1) for ci in in_channels])
        self.smooth = nn.ModuleList([conv_bn(c, c, 3, groups=c) for _ in in_channels[:-1]])

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        top = self.lateral[-1](feats[-1])
        for i in range(len(feats) - 2, -1, -1):
            lat = self.lateral[i](feats[i])
            size = (int(lat.shape[-2]), int(lat.shape[-1]))  # fixed input size: constant in the graph
            if self.upsample == "nearest":
                up = F.interpolate(top, size=size, mode="nearest")
            else:
                up = F.interpolate(top, size=size, mode="bilinear", align_corners=False)
            top = self.smooth[i](lat + up)
        return top


class HeatmapNet(nn.Module):
    """The heatmap keypoint network shared by the landmark and the body network: encoder, spatial fusion, head,
    ``n_points`` heatmaps decoded by soft-argmax and a confidence pooled under each heatmap. ``cfg`` needs
    input_size, widths, depths, expand, fpn_channels, head_blocks and upsample; ``features`` > 0 adds a stride-4
    feature head (training only; the landmark runs that had it keep it so their checkpoints load)."""

    def __init__(self, cfg, n_points: int, features: int = 0):
        super().__init__()
        self.cfg = cfg
        self.n_points = n_points
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
        self.heatmap = nn.Conv2d(c, n_points, 1)
        self.confidence = nn.Conv2d(c, n_points, 1)
        self.features = conv_bn(c, features, 1) if features else None
        hm = cfg.input_size // STRIDE
        # heatmap cell g covers crop pixels [4g - 0.5, 4g + 3.5]: its centre is 4g + 1.5
        g = torch.arange(hm, dtype=torch.float32) * STRIDE + (STRIDE - 1) / 2
        # (hm * hm, 2): the (x, y) crop position of every heatmap cell in row-major order, so that the soft-argmax
        # is one matrix product of the softmax with it (one MatMul in the graph instead of marginal sums)
        cells = torch.stack([g.repeat(hm), g.repeat_interleave(hm)], 1)
        self.register_buffer("cells", cells, persistent=False)
        self.n_cells = hm * hm
        self.register_buffer("mean", torch.tensor([127.5, 127.5, 127.5]).view(1, 3, 1, 1), persistent=False)
        self._init()

    def _init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.heatmap.weight, std=0.01)

    def fuse(self, image: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC BGR (N, S, S, 3) -> the fused stride-4 features the heads read."""
        x = image.permute(0, 3, 1, 2).float()
        x = (x - self.mean) * (1.0 / 128.0)
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return self.head(self.fusion(feats))

    def soft_argmax(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Heatmap logits (N, P, h, w) -> (softmax (N, P, h*w), expected crop position (N, P, 2))."""
        # reshapes with constant shapes (no Shape/Gather ops in the exported graph): the input size is fixed
        prob = torch.softmax(logits.reshape(-1, self.n_points, self.n_cells), dim=-1)
        return prob, prob @ self.cells  # one MatMul: the expected (x, y) under each point's heatmap

    def decode(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """uint8 NHWC BGR (N, S, S, 3) -> dict(points (N, P, 2) crop pixels, scores (N, P), score_logits,
        heatmaps logits[, features])."""
        return self.heads(self.fuse(image))

    def heads(self, fused: torch.Tensor) -> dict[str, torch.Tensor]:
        """The outputs of :meth:`decode` from the fused features."""
        logits = self.heatmap(fused)  # (N, P, h, w)
        prob, points = self.soft_argmax(logits)
        conf = (prob * self.confidence(fused).reshape(-1, self.n_points, self.n_cells)).sum(-1)
        out = {"points": points, "scores": torch.sigmoid(conf), "score_logits": conf, "heatmaps": logits}
        if self.features is not None:
            out["features"] = self.features(fused)
        return out


class LandmarkNet(HeatmapNet):
    """uint8 NHWC BGR (N, S, S, 3) -> dict(landmarks (N,68,2), scores (N,68), heatmaps logits[, features]
    [, landmarks3d (N,68,2), heatmaps3d]) ."""

    def __init__(self, cfg: NetConfig):
        super().__init__(cfg, N_POINTS, cfg.feature_channels)
        self.heatmap3d = nn.Conv2d(cfg.fpn_channels, N_POINTS, 1) if cfg.points3d else None
        if self.heatmap3d is not None:
            nn.init.normal_(self.heatmap3d.weight, std=0.01)
            nn.init.zeros_(self.heatmap3d.bias)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        fused = self.fuse(image)
        out = self.heads(fused)
        out["landmarks"] = out.pop("points")
        if self.heatmap3d is not None:
            out["heatmaps3d"] = self.heatmap3d(fused)
            out["landmarks3d"] = self.soft_argmax(out["heatmaps3d"])[1]
        return out


def adopt_weights(net: LandmarkNet, state: dict[str, torch.Tensor]) -> bool:
    """Load ``state`` into ``net``; a state without the 3D head (a 2D-only run continued with ``points3d``) starts
    the 3D head as a copy of the 2D heatmap layer: the two conventions differ only where the jaw leaves the
    outline, so training begins from the 2D points. Returns True when the head was copied."""
    if net.heatmap3d is None or "heatmap3d.weight" in state:
        net.load_state_dict(state)
        return False
    state = dict(state)
    state["heatmap3d.weight"] = state["heatmap.weight"].clone()
    state["heatmap3d.bias"] = state["heatmap.bias"].clone()
    net.load_state_dict(state)
    return True


class ExportWrapper(nn.Module):
    """The ONNX graph: input -> (landmarks, scores[, landmarks3d]), the runtime contract
    (facealign.landmarks.onnx_landmarks); the training-only outputs (heatmaps, score logits, features) are not
    exported."""

    def __init__(self, net: LandmarkNet):
        super().__init__()
        self.net = net
        self.outputs = ["landmarks", "scores"] + (["landmarks3d"] if net.heatmap3d is not None else [])

    def forward(self, image: torch.Tensor):
        out = self.net(image)
        return tuple(out[k] for k in self.outputs)


def count_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
