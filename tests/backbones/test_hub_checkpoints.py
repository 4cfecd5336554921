"""Checkpoints from the Hugging Face Hub (``hf://owner/repo``) and from local snapshot folders, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from lit_kgns.backbones import Ultra
from lit_kgns.backbones.checkpoints import checkpoint_path
from lit_kgns.errors import CheckpointNotFoundError

SMALL = {"dim": 8, "num_relation_layers": 1, "num_entity_layers": 1}


def snapshot(folder: Path, source: Ultra) -> Path:
    """A snapshot as upstream's transformers wrapper publishes it: the network under ``model.``."""
    folder.mkdir(parents=True)
    save_file(
        {f"model.{key}": value.contiguous() for key, value in source.state_dict().items()}, folder / "model.safetensors"
    )
    (folder / "config.json").write_text('{"model_type": "ultra"}')
    return folder


def same_weights(left: torch.nn.Module, right: torch.nn.Module) -> bool:
    return all(torch.equal(a, b) for a, b in zip(left.state_dict().values(), right.state_dict().values(), strict=True))


def test_a_local_snapshot_folder_loads(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = Ultra(**SMALL)
    folder = snapshot(tmp_path / "ultra_small", source)
    loaded = Ultra(**SMALL, checkpoint=str(folder))
    assert same_weights(source, loaded)
    assert not same_weights(source, Ultra(**SMALL))  # the load is what made them equal


def test_hf_names_resolve_through_the_hub_cache_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hub

    torch.manual_seed(1)
    source = Ultra(**SMALL)
    cache = tmp_path / "hub"
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / "models--someone--ultra_small"
    snapshot(repo / "snapshots" / commit, source)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    assert checkpoint_path("hf://someone/ultra_small") == repo / "snapshots" / commit / "model.safetensors"
    assert same_weights(source, Ultra(**SMALL, checkpoint="hf://someone/ultra_small"))
    with pytest.raises(CheckpointNotFoundError, match="hf://someone/missing: no snapshot in the Hugging Face cache"):
        checkpoint_path("hf://someone/missing")


def test_a_folder_without_one_weights_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.pth").write_bytes(b"")
    (tmp_path / "b.pt").write_bytes(b"")
    with pytest.raises(CheckpointNotFoundError, match=r"expected one weights file .* found a\.pth, b\.pt"):
        checkpoint_path(str(tmp_path))
