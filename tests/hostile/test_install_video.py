"""`facealign video` works after the README's plain install: PyAV is a main dependency, not an extra."""
from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_pyav_is_installed_by_the_plain_install():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    names = [d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in project["dependencies"]]
    assert "av" in names
    # the old spelling `pip install 'facealign[video]'` still resolves
    assert "video" in project["optional-dependencies"]
