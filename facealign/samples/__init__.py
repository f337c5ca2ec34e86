"""The sample photo shipped inside the package, so documented commands work after a plain install.

    facealign align "$(facealign sample)" --out out
"""
from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
DEFAULT = "astronaut.jpg"


def sample_path(name: str = DEFAULT) -> Path:
    """The path of a packaged sample photo (default: the public-domain astronaut portrait, one face)."""
    path = SAMPLES_DIR / name
    if not path.is_file():
        names = ", ".join(sorted(p.name for p in SAMPLES_DIR.glob("*.jpg")))
        raise FileNotFoundError(f"no packaged sample {name!r} (samples: {names})")
    return path
