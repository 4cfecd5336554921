"""``lit-kgns download``: datasets, groups and released checkpoints fetched ahead of time from a loopback server,
verified, skipped when complete, listed; a failure is named and stops nothing else."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from test_remote_entries import SPARSE, closed_port_url, serve_blob_pinned

from lit_kgns.backbones import checkpoints
from lit_kgns.commands import download
from lit_kgns.data import catalog
from lit_kgns.data.catalog import get_entry

WEIGHTS = b"not really a checkpoint, but its sha256 is pinned"


def serve_checkpoint(local_server, monkeypatch: pytest.MonkeyPatch) -> None:
    local_server.put("ckpts/ultra_3g.pth", WEIGHTS)
    entry = dataclasses.replace(
        checkpoints.PRETRAINED["ultra_3g"],
        url=local_server.url + "ckpts/ultra_3g.pth",
        sha256=hashlib.sha256(WEIGHTS).hexdigest(),
    )
    monkeypatch.setitem(checkpoints.PRETRAINED, "ultra_3g", entry)


def test_items_are_fetched_verified_then_found_complete(local_server, tmp_path, monkeypatch, capsys) -> None:
    serve_blob_pinned(local_server, monkeypatch, SPARSE)
    serve_checkpoint(local_server, monkeypatch)
    root = tmp_path / "root"
    download.main(["fb15k-237-20", "ultra_3g", "--root", str(root)])
    printed = capsys.readouterr().out
    assert "[1/2] dataset fb15k-237-20: downloaded" in printed and "[2/2] checkpoint ultra_3g: downloaded" in printed
    assert (root / "ultra_ckpts" / "ultra_3g.pth").read_bytes() == WEIGHTS
    folder = root / get_entry("fb15k-237-20").folder
    assert sorted(path.name for path in folder.iterdir()) == sorted(SPARSE)
    assert f"| ultra_3g | checkpoint | downloaded | {root / 'ultra_ckpts' / 'ultra_3g.pth'} |" in printed
    requests = sum(local_server.requests.values())
    download.main(["fb15k-237-20", "ultra_3g", "--root", str(root)])  # again: nothing is fetched
    assert "2 present" in capsys.readouterr().out and sum(local_server.requests.values()) == requests
    download.main(["--list", "--root", str(root)])
    listed = capsys.readouterr().out
    assert "| fb15k-237-20 | dataset | yes |" in listed and "| ultra_3g | checkpoint | yes |" in listed
    assert "| fb15k-237 | dataset | no |" in listed and "| trix | checkpoint | no |" in listed


def test_a_failed_item_is_named_and_the_others_still_come(local_server, tmp_path, monkeypatch, capsys) -> None:
    serve_checkpoint(local_server, monkeypatch)
    offline = dataclasses.replace(get_entry("hetionet"), base_url=closed_port_url())
    monkeypatch.setitem(catalog.DATASETS, "hetionet", offline)
    root = tmp_path / "root"
    with pytest.raises(SystemExit) as stopped:
        download.main(["hetionet", "ultra_3g", "--root", str(root)])
    assert stopped.value.code == 1
    printed = capsys.readouterr().out
    assert "dataset hetionet: failed" in printed and "checkpoint ultra_3g: downloaded" in printed
    assert "could not be downloaded" in printed and "1 downloaded, 1 failed" in printed
    assert not (root / offline.folder).exists()  # nothing half written


def test_groups_expand_and_unknown_names_are_one_line(tmp_path, capsys) -> None:
    items = download.items_of(["inductive_e", "checkpoints", "grail_fb237_v1"], tmp_path)
    names = [item.name for item in items]
    assert "grail_fb237_v1" in names and names.count("grail_fb237_v1") == 1
    assert {"ultra_3g", "ultra_4g", "ultra_50g", "trix", "semma", "motif_3g"} <= set(names)
    with pytest.raises(SystemExit) as stopped:
        download.main(["fb15k-238", "--root", str(tmp_path)])
    assert stopped.value.code == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "'fb15k-238'" in error and "lit-kgns download --list" in error


def test_the_lit_kgns_help_names_download(monkeypatch, capsys) -> None:
    from lit_kgns.commands import entry

    monkeypatch.setattr("sys.argv", ["lit-kgns", "--help"])
    with pytest.raises(SystemExit) as stopped:
        entry.main()
    assert stopped.value.code == 0
    printed = capsys.readouterr().out
    assert "{fit,validate,test,predict}" in printed and entry.DOWNLOAD_HELP in printed
