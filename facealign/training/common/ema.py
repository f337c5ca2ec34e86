"""Exponential moving average of a network's weights: the model that is evaluated and exported."""
from __future__ import annotations

import copy

import torch


class EMA:
    """A frozen copy of ``net`` whose parameters follow ``decay`` x old + (1 - decay) x new; buffers (batch-norm
    statistics) are copied. Early in training the memory is short (decay ramps up with the step)."""

    def __init__(self, net: torch.nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(net).eval()
        self.decay = decay
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, net: torch.nn.Module, step: int) -> None:
        """Fold the current weights of ``net`` in (``step``: the number of optimiser steps before this one)."""
        d = min(self.decay, (1 + step) / (10 + step))
        for pe, p in zip(self.model.parameters(), net.parameters()):
            pe.mul_(d).add_(p.detach(), alpha=1 - d)
        for be, b in zip(self.model.buffers(), net.buffers()):
            be.copy_(b)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state)
