"""The temporal fusion network: a small temporal convolution over a window of per-frame landmark predictions.

Input ``window`` (N, T, 68, 3): x, y in the current frame's face frame (facealign.temporal.normalise) and the
per-point score, for T = past + 1 + future frames; the current frame is at index ``past``.

    motion  = points - current points            (how each point moves around the current frame)
    h       = Conv1d over time (valid padding, 2 layers of kernel k, then one spanning the rest) on
              [20 * motion, score] per frame (68 * 3 channels)
    a, delta = MLP(h, 5 * (current points - mean shape), current scores)   (zero-initialised last layer)
    output_k = sum_t (e_current + a_k - mean_t a_k)[t] * points_k[t] + delta_k / 20

i.e. per point an adaptive linear filter over the window whose weights sum to one (so it commutes with moving
the face: it can average noise on a still face and extrapolate on a moving one), plus, if ``correction``, a
small free correction. The shipped models have no correction term: it learns to fix the per-frame model's bias
on the synthetic sequences, which need not carry over to real video, while a filter cannot move a still face.
Residual: at initialisation the net returns the per-frame prediction unchanged. The causal variant has
future = 0 (it cannot see the future by construction: the future is not in its input).
"""
from __future__ import annotations

import torch
from torch import nn

from facealign.alignment.templates import MEAN68

MOTION_SCALE = 20.0
SHAPE_SCALE = 5.0


class TemporalNet(nn.Module):
    def __init__(self, past: int, future: int = 0, hidden: int = 64, kernel: int = 5, correction: bool = False) -> None:
        super().__init__()
        self.past, self.future = int(past), int(future)
        self.correction = bool(correction)
        t = self.past + 1 + self.future
        layers: list[nn.Module] = []
        ch = 68 * 3
        for _ in range(2):
            k = min(kernel, t)
            if k <= 1:
                break
            layers += [nn.Conv1d(ch, hidden, k), nn.GELU()]
            ch, t = hidden, t - k + 1
        layers += [nn.Conv1d(ch, hidden, t), nn.GELU()]  # spans what is left of the window
        self.temporal = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(hidden + 68 * 3, hidden), nn.GELU(), nn.Linear(hidden, 68 * (2 + self.window)))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)
        self.register_buffer("mean_shape", torch.tensor(MEAN68, dtype=torch.float32), persistent=False)

    @property
    def window(self) -> int:
        return self.past + 1 + self.future

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        n, t = window.shape[:2]
        pts = window[..., :2]
        score = window[..., 2]
        cur = pts[:, self.past]
        motion = (pts - cur[:, None]) * MOTION_SCALE
        x = torch.cat([motion.reshape(n, t, 136), score], -1).transpose(1, 2)  # (N, 204, T)
        h = self.temporal(x).reshape(n, -1)
        shape = ((cur - self.mean_shape) * SHAPE_SCALE).reshape(n, 136)
        out = self.head(torch.cat([h, shape, score[:, self.past]], -1)).reshape(n, 68, 2 + t)
        a = out[..., 2:]
        a = a - a.mean(-1, keepdim=True)  # the filter's weights sum to one: e_current + (zero-sum part)
        filtered = cur + torch.einsum("nkt,ntkc->nkc", a, pts - cur[:, None])
        return filtered + out[..., :2] / MOTION_SCALE if self.correction else filtered
