"""Where datasets and checkpoints live on disk."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir

DATA_ROOT_ENV = "LIT_KGNS_DATA"


def resolve_data_root(root: str | Path | None = None) -> Path:
    """``root`` if given, else ``$LIT_KGNS_DATA``, else the user cache directory (``~/.cache/lit_kgns``)."""
    if root is not None:
        return Path(root).expanduser()
    if from_environment := os.environ.get(DATA_ROOT_ENV):
        return Path(from_environment).expanduser()
    return Path(user_cache_dir("lit_kgns"))
