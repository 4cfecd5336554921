"""Verified downloads: nothing is left at the destination unless its checksum matches.

A file is pinned by its sha256 or, when its source is a git tree, by its git blob id (what ``git ls-tree``
prints, known without a copy of the file). A file with neither comes from a source outside git and is
trusted on first use: the sha256 of what was downloaded is recorded in ``MANIFEST`` beside it and checked
on every later load (:func:`record_checksums`, :func:`check_recorded`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lit_kgns.data.checksums import parse_checksums
from lit_kgns.errors import DataError, LitKGNSError

MANIFEST = ".lit_kgns_sha256"  # sha256sum-style lines of the unpinned files downloaded into a folder


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: its path inside the dataset folder, inside the source, and its sha256 and/or
    git blob id (neither: trusted on first use)."""

    local: str
    remote: str
    sha256: str | None
    git_blob: str | None = None

    @property
    def pinned(self) -> bool:
        return self.sha256 is not None or self.git_blob is not None


class DownloadError(LitKGNSError, RuntimeError):
    """A download failed or its content does not match the expected checksum."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_blob_of(path: Path) -> str:
    """The git blob id of a file: SHA-1 of ``b"blob <size>\\0"`` followed by the content (``git hash-object``)."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(path: Path, sha256: str | None, git_blob: str | None) -> str | None:
    """What differs from the expected checksums, or None."""
    if sha256 is not None and (actual := sha256_of(path)) != sha256:
        return f"sha256 {actual} does not match the expected {sha256}"
    if git_blob is not None and (actual := git_blob_of(path)) != git_blob:
        return f"git blob id {actual} does not match the expected {git_blob}"
    return None


def download_file(
    url: str, destination: Path, sha256: str | None, timeout: float = 60.0, *, git_blob: str | None = None
) -> Path:
    """Download ``url`` to ``destination`` atomically (temporary file in the same folder, then rename).

    The temporary file is removed on any failure, so an interrupted or corrupt download never leaves a
    partial file behind. A short read (fewer bytes than ``Content-Length``) counts as a failure, and so
    does a ``sha256`` or ``git_blob`` (when given) that the content does not match.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    temporary = Path(temporary_name)
    try:
        with open(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            expected_length = response.headers.get("Content-Length")
            shutil.copyfileobj(response, out)
        if expected_length is not None and temporary.stat().st_size != int(expected_length):
            raise DownloadError(f"{url}: truncated download ({temporary.stat().st_size} of {expected_length} bytes)")
        if (problem := _mismatch(temporary, sha256, git_blob)) is not None:
            raise DownloadError(f"{url}: {problem}")
        temporary.replace(destination)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, DownloadError | KeyboardInterrupt):
            raise
        raise DownloadError(f"could not download {url} to {destination}: {error}") from error
    return destination


def safe_extract(archive: Path, destination: Path) -> None:
    """Extract a zip or tar archive, refusing members that would land outside ``destination``.

    Extraction goes to a temporary sibling folder that is renamed into place only when complete.
    """
    destination = Path(destination)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f".{destination.name}."))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zipped:
                names = zipped.namelist()
                _check_members(names, staging)
                zipped.extractall(staging)
        else:
            with tarfile.open(archive) as tarred:
                members = tarred.getmembers()
                for member in members:
                    if member.issym() or member.islnk():
                        raise DownloadError(f"{archive}: refusing link member {member.name!r}")
                _check_members([member.name for member in members], staging)
                tarred.extractall(staging, filter="data")
        if destination.exists():
            shutil.rmtree(destination)
        staging.replace(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_members(names: list[str], root: Path) -> None:
    resolved_root = root.resolve()
    for name in names:
        target = (root / name).resolve()
        if target != resolved_root and resolved_root not in target.parents:
            raise DownloadError(f"refusing archive member {name!r}: it would extract outside {root}")


def download_from_archive(url: str, sha256: str | None, folder: Path, files: list[DataFile]) -> None:
    """Fetch and verify the archive ``url``, extract it aside, verify each of ``files`` (``remote`` is the
    member's path), then move it into ``folder``; nothing is moved unless every check passed for it."""
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download.") as scratch:
        scratch_dir = Path(scratch)
        archive_path = download_file(url, scratch_dir / Path(url).name, sha256)
        extracted = scratch_dir / "extracted"
        safe_extract(archive_path, extracted)
        for file in files:
            member = extracted / file.remote
            if not member.is_file():
                raise DownloadError(f"{url}: archive has no member {file.remote!r}")
            if (problem := _mismatch(member, file.sha256, file.git_blob)) is not None:
                raise DownloadError(f"{url}: {file.remote}: {problem}")
            (folder / file.local).parent.mkdir(parents=True, exist_ok=True)
            os.replace(member, folder / file.local)


def recorded_checksums(folder: Path) -> dict[str, str]:
    """The sha256 recorded in ``folder``'s manifest, by file name (empty without a manifest)."""
    manifest = folder / MANIFEST
    return parse_checksums(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}


def record_checksums(folder: Path, names: list[str]) -> None:
    """Trust on first use: record the sha256 of ``folder/<name>`` for each of ``names`` (just downloaded from
    a source that has no pinned checksum) in the folder's manifest, written atomically."""
    if not names:
        return
    recorded = recorded_checksums(folder) | {name: sha256_of(folder / name) for name in names}
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f"{MANIFEST}.", suffix=".part")
    try:
        with open(handle, "w", encoding="utf-8") as out:
            out.writelines(f"{digest}  {name}\n" for name, digest in sorted(recorded.items()))
        os.replace(temporary, folder / MANIFEST)
    finally:
        Path(temporary).unlink(missing_ok=True)


def check_recorded(folder: Path, names: list[str]) -> None:
    """Raise ``DataError`` if a file of ``names`` in ``folder`` differs from the sha256 recorded when it was
    downloaded; files without a record (the user's own copies) are not checked."""
    recorded = recorded_checksums(folder) if names else {}
    for name in names:
        path = folder / name
        if name in recorded and path.is_file() and (actual := sha256_of(path)) != recorded[name]:
            raise DataError(
                f"{path} changed since it was downloaded: sha256 {actual}, recorded {recorded[name]} in "
                f"{folder / MANIFEST}; delete the file to download it again, or its line in {MANIFEST} to keep it"
            )
