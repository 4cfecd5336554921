"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

# the offline benchmark copies live next to the repository: <repo>/../shared/data
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of offline benchmark copies; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data not found: offline benchmark copies are needed for this test")
    return SHARED_DATA
