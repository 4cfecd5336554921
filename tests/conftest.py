"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# the offline benchmark copies: $LIT_KGNS_DATA when it holds them, else next to the repository (../shared/data)
BESIDE_THE_REPOSITORY = Path(__file__).resolve().parents[2] / "shared" / "data"


def offline_copies() -> Path | None:
    """The first of ``$LIT_KGNS_DATA`` and ``../shared/data`` that holds the offline copies (a released ULTRA
    checkpoint and FB15k-237 mark them), or ``None``."""
    candidates = [Path(value) for value in [os.environ.get("LIT_KGNS_DATA")] if value] + [BESIDE_THE_REPOSITORY]
    for folder in candidates:
        if (folder / "ultra_ckpts").is_dir() and (folder / "fb15k-237").is_dir():
            return folder
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of offline benchmark copies; skips the test when it is absent."""
    folder = offline_copies()
    if folder is None:
        pytest.skip("no offline benchmark copies in $LIT_KGNS_DATA or ../shared/data: this test needs them")
    return folder
