"""The dataset catalog: every benchmark by name, where its files live and how to build it.

``load_dataset(name, root)`` looks for the dataset's folder under the data root (``root``, else
``$LIT_KGNS_DATA``, else the user cache directory). Nations, Kinship and UMLS need no data root: when the
root has no folder of that name they are read from the copies bundled with the installed ``pykeen``
package. A missing folder of a dataset with a known public source is downloaded file by file from
commit-pinned GitHub URLs, each file checked against its sha256 or git blob id before it is moved into place.
Files from sources outside git (Zenodo, S3, Dropbox) have no checksum known in advance: they are trusted on
first use, their sha256 recorded in the folder's ``.lit_kgns_sha256`` and checked on every later load. The
entries themselves are in :mod:`lit_kgns.data.entries`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lit_kgns.data.download import (
    DataFile,
    DownloadError,
    check_recorded,
    download_file,
    download_from_archive,
    git_blob_of,
    record_checksums,
    sha256_of,
)
from lit_kgns.data.entries import DatasetEntry, DatasetNotFoundError
from lit_kgns.data.graph import KGDataset
from lit_kgns.data.locks import data_root_lock, folders_removed_on_error
from lit_kgns.data.registry import DATASETS
from lit_kgns.data.root import DATA_ROOT_ENV, resolve_data_root
from lit_kgns.errors import DataNotFoundError, UnknownDatasetError

__all__ = [
    "DataFile",
    "DatasetEntry",
    "DatasetNotFoundError",
    "available_datasets",
    "dataset_folder",
    "get_entry",
    "load_dataset",
]

# upstream ULTRA / PyKEEN spellings, lowercased, for convenience
ALIASES: dict[str, str] = {
    "fb15k237": "fb15k-237",
    "codexsmall": "codex-s",
    "codexmedium": "codex-m",
    "codexlarge": "codex-l",
    "yago310": "yago3-10",  # NELL995, DBpedia100k, AristoV4, Hetionet: lowercased, they are catalog names
    "kinships": "kinship",
    "countries": "countries_s1",
    "conceptnet100k": "conceptnet-100k",
    "wdsinger": "wd-singer",  # NELL23k needs no alias: lowercased, it is the catalog name
    **{f"fb15k237_{percent}": f"fb15k-237-{percent}" for percent in (10, 20, 50)},
    "ilpc2022:small": "ilpc2022_small",
    "ilpc2022:large": "ilpc2022_large",
    "metafam": "mtdea_metafam",
    "fbnell": "mtdea_fbnell",
    **{f"hm:{size}": f"hm_{size}" for size in ("1k", "3k", "5k", "indigo")},
    **{f"fbingram:{level}": f"ingram_fb_{level}" for level in (25, 50, 75, 100)},
    **{f"nlingram:{level}": f"ingram_nl_{level}" for level in (0, 25, 50, 75, 100)},
    **{f"wkingram:{level}": f"ingram_wk_{level}" for level in (25, 50, 75, 100)},
    **{  # WikiTopicsMT1:tax .. WikiTopicsMT4:health, one per catalog entry
        name.replace("mtdea_wikitopics_", "wikitopics").replace("_", ":"): name
        for name in DATASETS
        if name.startswith("mtdea_wikitopics_")
    },
    **{
        f"{upstream}inductive:v{version}": f"grail_{family}_v{version}"
        for upstream, family in (("fb15k237", "fb237"), ("wn18rr", "wn18rr"), ("nell", "nell"))
        for version in (1, 2, 3, 4)
    },
}


def available_datasets() -> list[str]:
    """The canonical dataset names, in catalog order."""
    return list(DATASETS)


def get_entry(name: str) -> DatasetEntry:
    """The catalog entry of ``name`` (case-insensitive; upstream ULTRA names such as ``NLIngram:25`` work)."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in DATASETS:
        raise UnknownDatasetError(f"unknown dataset {name!r}; available: {', '.join(available_datasets())}")
    return DATASETS[key]


def load_dataset(name: str, root: str | Path | None = None) -> KGDataset:
    """Build the dataset ``name`` from its folder under the data root (downloading it if it is missing).

    Raises ``KeyError`` for an unknown name, ``DatasetNotFoundError`` when the files are absent and no
    source is known, ``DownloadError`` when a download fails or does not match its checksum,
    ``TripleFileError`` for a malformed file, and ``DataError`` for a file trusted on first use that changed
    since it was downloaded.
    """
    entry = get_entry(name)
    dataset = entry.build(entry.name, dataset_folder(entry.name, root))
    dataset.valid.tail_only = dataset.test.tail_only = entry.tail_only
    return dataset


def dataset_folder(name: str, root: str | Path | None = None) -> Path:
    """The folder holding every file of dataset ``name``, obtaining the files first if needed.

    Order: the folder under the data root when it is complete; else, for Nations / Kinship / UMLS when
    the root has no such folder, the copy bundled with ``pykeen``; else the missing files are downloaded
    into the folder under the root.
    """
    entry = get_entry(name)
    data_root = resolve_data_root(root)
    if data_root.exists() and not data_root.is_dir():
        raise DataNotFoundError(f"data root {data_root} is a file, not a folder (--data.root / ${DATA_ROOT_ENV})")
    folder = data_root / entry.folder
    missing = [file for file in entry.files if not (folder / file.local).is_file()]
    # unpinned files downloaded earlier must still be what was downloaded (trust on first use)
    check_recorded(folder, [file.local for file in entry.files if not file.pinned and file not in missing])
    if not missing:
        return folder
    if entry.embedded is not None and not folder.exists() and (bundled := _bundled_folder(entry)) is not None:
        return bundled
    if entry.base_url is None:
        raise DatasetNotFoundError(
            f"dataset {entry.name!r}: {', '.join(str(folder / file.local) for file in missing)} not found "
            f"under the data root {data_root} (expected folder {entry.folder!r}); put the files there, "
            f"pass --data.root (root=... in Python) or set ${DATA_ROOT_ENV}"
        )
    foreign = [file.local for file in entry.files if file not in missing and not _is_published(folder, file)]
    if foreign:
        # the files present are not the published ones: the user's own data, not to be completed by a download
        raise DatasetNotFoundError(
            f"dataset {entry.name!r}: {folder} lacks {', '.join(file.local for file in missing)}, and its "
            f"{', '.join(foreign)} differ from the published files; add the missing files, or use another folder"
        )
    try:
        with data_root_lock(data_root):
            _download_missing(entry, folder)
    except DownloadError as error:
        raise DownloadError(
            f"dataset {entry.name!r} is not under the data root {data_root} and could not be downloaded "
            f"({error.message()}); offline, copy its files into {folder} or point --data.root / "
            f"${DATA_ROOT_ENV} at a folder that has them"
        ) from error
    return folder


def _download_missing(entry: DatasetEntry, folder: Path) -> None:
    """Download the files of ``entry`` that ``folder`` lacks (under the data root's lock: another process may
    have fetched them while this one waited); the folders made for a download that fails are removed."""
    missing = [file for file in entry.files if not (folder / file.local).is_file()]
    if not missing:
        return
    with folders_removed_on_error(folder):
        if entry.archive is not None:
            download_from_archive(entry.url(entry.archive), entry.archive_sha256, folder, missing)
            record_checksums(folder, [file.local for file in missing if not file.pinned])
            return
        for file in missing:
            download_file(entry.url(file.remote), folder / file.local, file.sha256, git_blob=file.git_blob)
            if not file.pinned:  # recorded as soon as it lands, so a later failure cannot orphan it
                record_checksums(folder, [file.local])


def _is_published(folder: Path, file: DataFile) -> bool:
    if file.sha256 is not None:
        return sha256_of(folder / file.local) == file.sha256
    # an unpinned file has been checked against its recorded sha256, if any, by check_recorded
    return file.git_blob is None or git_blob_of(folder / file.local) == file.git_blob


def _bundled_folder(entry: DatasetEntry) -> Path | None:
    """pykeen's bundled copy of ``entry``, located without importing pykeen (its import is slow)."""
    spec = importlib.util.find_spec("pykeen")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / str(entry.embedded)
    return folder if all((folder / file.local).is_file() for file in entry.files) else None
