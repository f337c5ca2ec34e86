"""CED plots (PNG) with matplotlib's Agg backend; matplotlib is optional (the ``plot`` extra)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from facealign.evaluation.metrics import auc, ced


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("CED plots need matplotlib: pip install facealign[plot]") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _draw(ax, curves: Mapping[str, Sequence[float]], max_error: float, xlabel: str, title: str) -> None:
    for label, errors in curves.items():
        e = np.asarray(errors, dtype=np.float64)
        x, y = ced(e, max_error)
        ax.plot(x, y, label=f"{label} (AUC@{max_error:.2f} {auc(e, max_error):.3f}, n={len(e)})", lw=1.8)
    ax.set_xlim(0, max_error)
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of faces")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)


def plot_ced(
    curves: Mapping[str, Sequence[float]],
    path: str | Path,
    title: str = "",
    max_error: float = 0.10,
    xlabel: str = "NME (inter-ocular)",
) -> Path:
    """Write a CED plot of several methods (``{label: per-face errors}``) to ``path``; the legend shows
    each method's AUC@max_error and its number of faces. Returns the path."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
    _draw(ax, curves, max_error, xlabel, title)
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_ced_panels(
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    path: str | Path,
    max_error: float = 0.10,
    xlabel: str = "NME (inter-ocular)",
) -> Path:
    """One PNG with a CED panel per data set (``{title: {label: errors}}``), side by side."""
    plt = _pyplot()
    n = max(len(panels), 1)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 4.6), dpi=100, squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels.items()):
        _draw(ax, curves, max_error, xlabel, title)
    fig.tight_layout()
    return _save(fig, plt, path)


def _save(fig, plt, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
