"""One download per data root, however many processes start at once (DDP ranks, run-many jobs, two runs).

Downloads and extraction into a data root happen under its lock file; a process that waited for the lock
checks again and finds the files another one fetched. Folders made for a download that failed are removed,
so an offline attempt leaves the data root as it found it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from filelock import FileLock

LOCK_FILE = ".lit_kgns.lock"
LOCK_TIMEOUT_S = 6 * 3600.0  # waiting for another process's download of the largest graph


@contextmanager
def folders_removed_on_error(folder: Path, lock_file: str | None = None) -> Iterator[None]:
    """Creates ``folder`` (and its missing parents); if the block raises, removes the ones created here. With
    ``lock_file``, the block holds that file lock inside ``folder``, and the removal happens under it too."""
    created = [path for path in (folder, *folder.parents) if not path.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / lock_file, timeout=LOCK_TIMEOUT_S) if lock_file else nullcontext():
        try:
            yield
        except BaseException:
            for path in created:
                shutil.rmtree(path, ignore_errors=True)
            raise


def data_root_lock(root: Path) -> AbstractContextManager[None]:
    """Hold the download lock of the data root ``root``, creating the root for its lock file if needed (and
    removing it again, still under the lock, if the block raises)."""
    return folders_removed_on_error(root, LOCK_FILE)
