"""One download per data root, however many processes start at once (DDP ranks, run-many jobs, two runs).

Downloads and extraction into a data root happen under its lock file; a process that waited for the lock
checks again and finds the files another one fetched. Folders made for a download that failed are removed,
so an offline attempt leaves the data root as it found it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

LOCK_FILE = ".lit_kgns.lock"
LOCK_TIMEOUT_S = 6 * 3600.0  # waiting for another process's download of the largest graph


@contextmanager
def folders_removed_on_error(folder: Path) -> Iterator[None]:
    """Creates ``folder`` (and its missing parents); if the block raises, removes the ones created here."""
    created = [path for path in (folder, *folder.parents) if not path.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for path in created:
            shutil.rmtree(path, ignore_errors=True)
        raise


@contextmanager
def data_root_lock(root: Path) -> Iterator[None]:
    """Hold the download lock of the data root ``root``. The root is created for its lock file if needed and,
    if the block raises, removed again (still under the lock) when it was created here."""
    created = [path for path in (root, *root.parents) if not path.exists()]
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(root / LOCK_FILE, timeout=LOCK_TIMEOUT_S):
        try:
            yield
        except BaseException:
            for path in created:
                shutil.rmtree(path, ignore_errors=True)
            raise
