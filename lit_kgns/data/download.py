"""Verified downloads: nothing is left at the destination unless its sha256 matches."""

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

from lit_kgns.errors import LitKGNSError


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: its path inside the dataset folder, inside the source, and its sha256."""

    local: str
    remote: str
    sha256: str


class DownloadError(LitKGNSError, RuntimeError):
    """A download failed or its content does not match the expected checksum."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(url: str, destination: Path, sha256: str | None, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination`` atomically (temporary file in the same folder, then rename).

    The temporary file is removed on any failure, so an interrupted or corrupt download never leaves a
    partial file behind. A short read (fewer bytes than ``Content-Length``) counts as a failure.
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
        if sha256 is not None and (actual := sha256_of(temporary)) != sha256:
            raise DownloadError(f"{url}: sha256 {actual} does not match the expected {sha256}")
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
            if (actual := sha256_of(member)) != file.sha256:
                raise DownloadError(f"{url}: {file.remote} has sha256 {actual}, expected {file.sha256}")
            (folder / file.local).parent.mkdir(parents=True, exist_ok=True)
            os.replace(member, folder / file.local)
