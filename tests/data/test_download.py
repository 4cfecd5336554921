"""Verified downloads and safe archive extraction, against a loopback HTTP server."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from lit_kgns.data.download import DownloadError, download_file, safe_extract, sha256_of

CONTENT = b"a\tr\tb\nb\ts\tc\n"
DIGEST = hashlib.sha256(CONTENT).hexdigest()


def leftovers(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


def test_download_with_matching_sha256(local_server, tmp_path: Path) -> None:
    local_server.put("data/train.txt", CONTENT)
    destination = tmp_path / "out" / "train.txt"
    assert download_file(local_server.url + "data/train.txt", destination, DIGEST) == destination
    assert destination.read_bytes() == CONTENT
    assert sha256_of(destination) == DIGEST
    assert leftovers(destination.parent) == [destination]


def test_wrong_sha256_leaves_nothing_behind(local_server, tmp_path: Path) -> None:
    local_server.put("train.txt", CONTENT)
    destination = tmp_path / "out" / "train.txt"
    with pytest.raises(DownloadError, match="does not match"):
        download_file(local_server.url + "train.txt", destination, "0" * 64)
    assert not destination.exists()
    assert leftovers(destination.parent) == []  # no *.part either


def test_wrong_sha256_keeps_an_existing_destination(local_server, tmp_path: Path) -> None:
    local_server.put("train.txt", CONTENT)
    destination = tmp_path / "train.txt"
    destination.write_bytes(b"previous\n")
    with pytest.raises(DownloadError):
        download_file(local_server.url + "train.txt", destination, "0" * 64)
    assert destination.read_bytes() == b"previous\n"


def test_truncated_download_is_an_error(local_server, tmp_path: Path) -> None:
    destination = tmp_path / "out" / "train.txt"
    with pytest.raises(DownloadError):
        download_file(local_server.url + "truncated/train.txt", destination, None)
    assert leftovers(destination.parent) == []


def test_missing_remote_file_is_an_error(local_server, tmp_path: Path) -> None:
    destination = tmp_path / "out" / "train.txt"
    with pytest.raises(DownloadError, match="404"):
        download_file(local_server.url + "nowhere.txt", destination, DIGEST)
    assert leftovers(destination.parent) == []


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("pack", [_tar, _zip], ids=["tar", "zip"])
def test_safe_extract_extracts_a_clean_archive(tmp_path: Path, pack) -> None:
    archive = pack(tmp_path / "a.archive", {"train.txt": CONTENT, "sub/valid.txt": CONTENT})
    destination = tmp_path / "extracted"
    safe_extract(archive, destination)
    assert (destination / "train.txt").read_bytes() == CONTENT
    assert (destination / "sub" / "valid.txt").read_bytes() == CONTENT


@pytest.mark.parametrize("pack", [_tar, _zip], ids=["tar", "zip"])
@pytest.mark.parametrize("evil", ["../escape.txt", "sub/../../escape.txt"])
def test_safe_extract_refuses_members_outside_and_leaves_nothing(tmp_path: Path, pack, evil: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    archive = pack(tmp_path / "evil.archive", {"train.txt": CONTENT, evil: b"owned\n"})
    destination = work / "extracted"
    with pytest.raises(DownloadError, match="refusing"):
        safe_extract(archive, destination)
    assert not destination.exists()
    assert leftovers(work) == []  # no staging folder left
    assert not (tmp_path / "escape.txt").exists()


def test_safe_extract_refuses_links(tmp_path: Path) -> None:
    archive = tmp_path / "link.tar"
    with tarfile.open(archive, "w") as tarred:
        info = tarfile.TarInfo("passwd")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tarred.addfile(info)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(DownloadError, match="link"):
        safe_extract(archive, work / "extracted")
    assert leftovers(work) == []
