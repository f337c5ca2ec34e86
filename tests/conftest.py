from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def need_data(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a clear reason when the data is absent."""
    p = DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the shared data folder beside the repo) which is absent")
    return p


@pytest.fixture
def data_dir() -> Path:
    return need_data()
