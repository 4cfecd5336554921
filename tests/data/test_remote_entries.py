"""The 17 catalog entries with no offline copy (lit_kgns/data/entries_remote.py): names, commit-pinned sources,
git-blob-id and trust-on-first-use verification against a loopback server, and the offline error."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import socket
import zipfile
from pathlib import Path

import pytest

from lit_kgns.data import catalog
from lit_kgns.data.catalog import available_datasets, get_entry, load_dataset
from lit_kgns.data.download import MANIFEST, DownloadError, git_blob_of, recorded_checksums, sha256_of
from lit_kgns.data.entries_remote import nell995
from lit_kgns.data.triples import TripleFileError
from lit_kgns.errors import DataError

# name: (setting, upstream ULTRA spelling)
REMOTE: dict[str, tuple[str, str]] = {
    "nell995": ("transductive", "NELL995"),
    "yago3-10": ("transductive", "YAGO310"),
    "codex-l": ("transductive", "CoDExLarge"),
    "dbpedia100k": ("transductive", "DBpedia100k"),
    "aristov4": ("transductive", "AristoV4"),
    "hetionet": ("transductive", "Hetionet"),
    "fb15k-237-20": ("transductive", "FB15k237_20"),
    "fb15k-237-50": ("transductive", "FB15k237_50"),
    **{f"ingram_fb_{level}": ("inductive_er", f"FBIngram:{level}") for level in (25, 50, 75, 100)},
    "hm_indigo": ("inductive_e", "HM:indigo"),
    "mtdea_wikitopics_mt1_tax": ("inductive_er", "WikiTopicsMT1:tax"),
    "mtdea_wikitopics_mt1_health": ("inductive_er", "WikiTopicsMT1:health"),
    "mtdea_wikitopics_mt2_org": ("inductive_er", "WikiTopicsMT2:org"),
    "mtdea_wikitopics_mt2_sci": ("inductive_er", "WikiTopicsMT2:sci"),
}
# sources outside git: no checksum known in advance, trusted on first use
UNPINNED = {"aristov4", "hetionet"} | {name for name in REMOTE if name.startswith("mtdea_wikitopics_mt")}
# immutable or at least fixed locations of the sources outside git (ULTRA's own)
OUTSIDE_GIT = (
    "https://zenodo.org/records/5942560/files/",
    "https://www.dropbox.com/s/",
    "https://reltrans.s3.us-east-2.amazonaws.com/",
)
PINNED_RAW = re.compile(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+")


def blob(content: bytes) -> str:
    """git's blob id, computed independently of lit_kgns."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def closed_port_url() -> str:
    """A loopback URL nothing listens on: every request is refused at once, as offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def lines(*triples: str) -> bytes:
    return "".join(f"{triple}\n" for triple in triples).encode()


# --- names and sources ------------------------------------------------------------------------------------


def test_the_catalog_holds_the_57_benchmark_graphs() -> None:
    extra = {"nations", "kinship", "umls", "countries_s1", "countries_s2", "countries_s3"}
    assert set(REMOTE) <= set(available_datasets())
    assert len(set(available_datasets()) - extra) == 57


@pytest.mark.parametrize("name", sorted(REMOTE))
def test_names_and_upstream_spellings_resolve(name: str) -> None:
    setting, upstream = REMOTE[name]
    assert get_entry(name).name == get_entry(upstream).name == get_entry(upstream.lower()).name == name
    assert get_entry(name).setting == setting


@pytest.mark.parametrize("name", sorted(REMOTE))
def test_every_source_is_pinned(name: str) -> None:
    entry = get_entry(name)
    urls = [entry.url(entry.archive)] if entry.archive else [entry.url(file.remote) for file in entry.files]
    assert not any("/main/" in url or "/master/" in url for url in urls)
    if name in UNPINNED:
        assert all(url.startswith(OUTSIDE_GIT) for url in urls)
        assert not any(file.pinned for file in entry.files) and entry.archive_sha256 is None
    else:
        assert all(PINNED_RAW.fullmatch(url) for url in urls), urls
        for file in entry.files:
            assert file.sha256 is None and re.fullmatch(r"[0-9a-f]{40}", str(file.git_blob)), file


def test_git_blob_ids_are_what_git_prints(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"")
    assert git_blob_of(path) == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # git hash-object /dev/null
    path.write_bytes(b"hello\n")
    assert git_blob_of(path) == "ce013625030ba8dba906f756967f9e9ca394464a"


# --- git blob ids -----------------------------------------------------------------------------------------

SPARSE = {  # DacKGR layout: head<TAB>tail<TAB>relation
    "train.triples": lines("a\tb\tr", "b\tc\tr", "c\ta\ts"),
    "dev.triples": lines("a\tc\tr"),
    "test.triples": lines("b\ta\ts"),
}


def serve_blob_pinned(local_server, monkeypatch: pytest.MonkeyPatch, content: dict[str, bytes]):
    """fb15k-237-20 from the loopback server, its blob ids those of ``content`` (what upstream would serve)."""
    entry = get_entry("fb15k-237-20")
    files = tuple(dataclasses.replace(file, git_blob=blob(content[file.local])) for file in entry.files)
    entry = dataclasses.replace(entry, base_url=local_server.url, files=files)
    monkeypatch.setitem(catalog.DATASETS, entry.name, entry)
    for file in entry.files:
        local_server.put(file.remote, content[file.local])
    return entry


def test_a_blob_pinned_dataset_is_downloaded_and_verified(
    local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = serve_blob_pinned(local_server, monkeypatch, SPARSE)
    dataset = load_dataset("FB15k237_20", tmp_path / "root")
    assert (len(dataset.train.targets), len(dataset.valid.targets), len(dataset.test.targets)) == (3, 1, 1)
    assert dataset.relation_labels == ["r", "s"]  # relation last in the files
    folder = tmp_path / "root" / entry.folder
    assert sorted(path.name for path in folder.iterdir()) == sorted(SPARSE)  # pinned: no manifest
    assert all(git_blob_of(folder / file.local) == file.git_blob for file in entry.files)


def test_a_tampered_blob_is_refused_and_leaves_nothing(
    local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = serve_blob_pinned(local_server, monkeypatch, SPARSE)
    local_server.put(entry.files[1].remote, lines("a\tc\tEVIL"))
    root = tmp_path / "root"
    with pytest.raises(DownloadError, match="git blob id") as failure:
        load_dataset("fb15k-237-20", root)
    assert "--data.root" in str(failure.value)
    assert not root.exists()  # neither the verified first file nor the folders made for it


# --- trust on first use -----------------------------------------------------------------------------------

TRIPLES = {"train.txt": lines("a\tr\tb", "b\tr\tc"), "valid.txt": lines("a\tr\tc"), "test.txt": lines("c\tr\ta")}


def test_an_unpinned_file_is_recorded_on_first_download_and_checked_later(
    local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = dataclasses.replace(get_entry("hetionet"), base_url=local_server.url)
    monkeypatch.setitem(catalog.DATASETS, entry.name, entry)
    for file in entry.files:
        local_server.put(file.remote.split("?")[0], TRIPLES[file.local])  # the server ignores ?dl=1
    root = tmp_path / "root"
    assert len(load_dataset("hetionet", root).train.targets) == 2
    folder = root / "hetionet"
    assert recorded_checksums(folder) == {name: hashlib.sha256(data).hexdigest() for name, data in TRIPLES.items()}
    local_server.put(entry.files[0].remote.split("?")[0], lines("x\tr\ty"))  # upstream changes: not fetched again
    assert len(load_dataset("hetionet", root).train.targets) == 2
    (folder / "valid.txt").write_bytes(lines("a\tr\tb"))
    with pytest.raises(DataError, match="changed since it was downloaded") as failure:
        load_dataset("hetionet", root)
    assert str(folder / "valid.txt") in str(failure.value) and MANIFEST in str(failure.value)
    # deleting the changed file fetches it again and records it again
    (folder / "valid.txt").unlink()
    assert len(load_dataset("hetionet", root).valid.targets) == 1
    assert recorded_checksums(folder)["valid.txt"] == sha256_of(folder / "valid.txt")


def test_an_unpinned_archive_is_recorded_member_by_member(
    local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in TRIPLES.items():
            archive.writestr(name.removesuffix(".txt"), data)  # Aristo-v4's members have no suffix
    local_server.put("aristo-v4.zip", buffer.getvalue())
    entry = dataclasses.replace(get_entry("aristov4"), base_url=local_server.url)
    monkeypatch.setitem(catalog.DATASETS, entry.name, entry)
    root = tmp_path / "root"
    assert len(load_dataset("AristoV4", root).test.targets) == 1
    folder = root / "aristov4"
    assert sorted(path.name for path in folder.iterdir()) == sorted([MANIFEST, *TRIPLES])
    assert recorded_checksums(folder)["test.txt"] == hashlib.sha256(TRIPLES["test.txt"]).hexdigest()
    (folder / "test.txt").write_bytes(lines("c\tr\tb"))
    with pytest.raises(DataError, match=r"test\.txt changed"):
        load_dataset("aristov4", root)


# --- offline ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["yago3-10", "hetionet", "aristov4", "mtdea_wikitopics_mt1_tax", "hm_indigo"])
def test_offline_a_remote_only_dataset_fails_in_one_clear_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = dataclasses.replace(get_entry(name), base_url=closed_port_url())
    monkeypatch.setitem(catalog.DATASETS, name, entry)
    root = tmp_path / "root"
    with pytest.raises(DownloadError) as failure:
        load_dataset(name, root)
    message = failure.value.message()
    assert "\n" not in message
    assert f"dataset {name!r}" in message and "could not be downloaded" in message
    assert "--data.root" in message and "LIT_KGNS_DATA" in message
    assert not root.exists()


# --- NELL-995's builder -----------------------------------------------------------------------------------


def test_nell995_trains_on_facts_and_train(tmp_path: Path) -> None:
    (tmp_path / "facts.txt").write_bytes(lines("a r b", "b r c"))
    (tmp_path / "train.txt").write_bytes(lines("c s a"))
    (tmp_path / "valid.txt").write_bytes(lines("a s d"))  # d: a node without edges, as upstream counts it
    (tmp_path / "test.txt").write_bytes(lines("d r a"))
    dataset = nell995("nell995", tmp_path)
    assert len(dataset.train.targets) == dataset.train.graph.num_edges // 2 == 3
    assert dataset.train.graph.num_nodes == 4 and dataset.relation_labels == ["r", "s"]
    assert len(dataset.test.filter_triples) == 5
    (tmp_path / "test.txt").write_bytes(lines("e r a"))  # beyond upstream's node count
    with pytest.raises(TripleFileError, match=r"test\.txt"):
        nell995("nell995", tmp_path)
