"""Where data, caches, peers and training runs live: the one module that knows outside folders.

Every default can be overridden by an environment variable, so nothing depends on one machine's layout:

| variable           | what                                               | default                                         |
|--------------------|----------------------------------------------------|-------------------------------------------------|
| FACEALIGN_DATA     | labelled data sets (300w/, ytf68/, mtfl/, body/ ...) | ``../shared/data`` beside a development checkout, else ``./data`` |
| FACEALIGN_CACHE    | crop caches, scene caches, peer outputs            | ``$XDG_CACHE_HOME/facealign`` (``~/.cache/facealign``) |
| FACEALIGN_PEERS    | peer model files (e.g. YuNet's ONNX)               | ``peers`` beside the data root (``../shared/peers``) |
| FACEALIGN_PEER_ENVS| the peers' virtual environments (benchmarks/peers/setup_peers.sh) | ``peer-envs`` under the cache folder |
| FACEALIGN_RUNS     | training run folders                               | ``./runs``                                      |

A relative path given in a config or on the command line is taken as it is (relative to the working folder);
``data_path("300w/afw")`` joins a path onto the data root unless it is absolute.
"""
from __future__ import annotations

import os
from pathlib import Path

# the source checkout this package lives in, if it is one (pyproject.toml beside the package folder)
_CHECKOUT = Path(__file__).resolve().parent.parent


def _env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def checkout_root() -> Path | None:
    """The development checkout holding this package, or None for an installed package."""
    return _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else None


def data_root() -> Path:
    """The folder of labelled data sets (FACEALIGN_DATA)."""
    env = _env("FACEALIGN_DATA")
    if env is not None:
        return env
    root = checkout_root()
    if root is not None and (root.parent / "shared" / "data").is_dir():
        return root.parent / "shared" / "data"
    return Path("data")


def data_path(path: str | os.PathLike) -> Path:
    """``path`` under the data root, unless it is absolute or names an existing path from the working folder."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    return data_root() / p


def cache_dir(*parts: str) -> Path:
    """A folder under the cache root (FACEALIGN_CACHE); not created here."""
    env = _env("FACEALIGN_CACHE")
    if env is None:
        xdg = _env("XDG_CACHE_HOME")
        env = (xdg if xdg is not None else Path.home() / ".cache") / "facealign"
    return env.joinpath(*parts)


def peers_dir() -> Path:
    """Peer model files for side-by-side benchmarks (FACEALIGN_PEERS)."""
    env = _env("FACEALIGN_PEERS")
    return env if env is not None else data_root().parent / "peers"


def peer_envs_dir(*parts: str) -> Path:
    """The peers' virtual environments, one folder per peer (FACEALIGN_PEER_ENVS, default
    ``cache_dir("peer-envs")``); benchmarks/peers/setup_peers.sh makes them. Not created here."""
    env = _env("FACEALIGN_PEER_ENVS")
    return (env if env is not None else cache_dir("peer-envs")).joinpath(*parts)


def runs_dir(*parts: str) -> Path:
    """Training run folders (FACEALIGN_RUNS, default ./runs)."""
    env = _env("FACEALIGN_RUNS")
    return (env if env is not None else Path("runs")).joinpath(*parts)
