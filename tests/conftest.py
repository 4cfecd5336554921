"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture(autouse=True)
def _restore_data_root_environment() -> Iterator[None]:
    """The CLI exports ``--data.root`` as ``$LIT_KGNS_DATA`` for the backbones' checkpoint lookup; a test that
    runs the CLI in process must not hand its (perhaps deliberately bad) root to the tests after it."""
    before = os.environ.get("LIT_KGNS_DATA")
    yield
    if before is None:
        os.environ.pop("LIT_KGNS_DATA", None)
    else:
        os.environ["LIT_KGNS_DATA"] = before
