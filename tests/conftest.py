from __future__ import annotations

from pathlib import Path

import pytest

from facealign.paths import data_root

REPO = Path(__file__).resolve().parents[1]
DATA = data_root()  # FACEALIGN_DATA, else ../shared/data beside this checkout (facealign/paths.py)


def need_data(*parts: str) -> Path:
    """Path under the data root (facealign.paths.data_root), or skip the test with a clear reason when absent."""
    p = DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the data root: FACEALIGN_DATA, else ../shared/data beside the checkout) which is absent")
    return p


@pytest.fixture
def data_dir() -> Path:
    return need_data()
