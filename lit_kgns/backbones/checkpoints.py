"""Official KGFM checkpoints: found under the data root, or downloaded from their public URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from lit_kgns.data.download import DownloadError, download_file
from lit_kgns.data.locks import data_root_lock, folders_removed_on_error
from lit_kgns.data.root import DATA_ROOT_ENV, resolve_data_root
from lit_kgns.errors import CheckpointError, CheckpointNotFoundError


@dataclass(frozen=True)
class PretrainedCheckpoint:
    """A released ``{"model": state_dict, "optimizer": ...}`` file."""

    relative_path: str  # under the data root
    url: str
    sha256: str
    # Renames applied to state-dict key prefixes before loading (released names -> our module names).
    prefix_renames: dict[str, str] = field(default_factory=dict)


_ULTRA = "https://github.com/DeepGraphLearning/ULTRA/raw/427966ad/ckpts/"
PRETRAINED: dict[str, PretrainedCheckpoint] = {
    "ultra_3g": PretrainedCheckpoint(
        "ultra_ckpts/ultra_3g.pth",
        _ULTRA + "ultra_3g.pth",
        "fdedc01b0045fc089d2ad5da08569466b7b221691fe978a18e91082bbb133c18",
    ),
    "ultra_4g": PretrainedCheckpoint(
        "ultra_ckpts/ultra_4g.pth",
        _ULTRA + "ultra_4g.pth",
        "48a046e708adf5632d87c30eacae01f5f51466b2301effdc2cb42358d22854e0",
    ),
    "ultra_50g": PretrainedCheckpoint(
        "ultra_ckpts/ultra_50g.pth",
        _ULTRA + "ultra_50g.pth",
        "f1c5377b2cf547aaa67520ffb6fce27b75b6eb3417b86dc9cf9dba89964ed10f",
    ),
    "trix": PretrainedCheckpoint(
        "trix_ckpts/entity_prediction.pth",
        "https://github.com/yuchengz99/TRIX/raw/1bbc3afa1ccdd56f2dfe9fb2e958425014e206b4/entity_prediction.pth",
        "ac63caeb3546d71dd355b4f82b2fb0bda27bdfcc235a94e39e59006433ca1e7f",
        # the released file names the two entity networks differently from upstream's own TRIX module
        prefix_renames={"entity_model_mini.": "entity_model_1.", "entity_model.": "entity_model_2."},
    ),
    "semma": PretrainedCheckpoint(
        "semma_ckpts/semma.pth",
        "https://github.com/arvindh75/semma/raw/ed525ac19085e61a66f6a3acfdf86e29fa3e5841/ckpts/semma.pth",
        "b2c50da070b3b11654bfbefbba1171185008a61cc095d6610f6740fb78189381",
    ),
    "motif_3g": PretrainedCheckpoint(
        "motif_ckpts/motif_3g.pth",
        "https://github.com/HxyScotthuang/MOTIF/raw/f8239a2f9f0d2db457c04582d1219e936b0c3da6/ckpts/motif_3g.pth",
        "0f2e4f7d21e01dc7c54d10b0db1a5de55c467a76f4ea2708f3ce6556a7654f8c",
    ),
}


HUB = "hf://"
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".ckpt", ".bin")


def checkpoint_path(name_or_path: str, data_root: str | Path | None = None) -> Path:
    """Path of a catalog checkpoint (downloading it into the data root if absent), of a Hugging Face Hub
    model (``hf://<owner>/<repo>[@<revision>]``, through ``huggingface_hub``'s cache, which honours
    ``HF_HUB_OFFLINE``), of the weights in a local snapshot folder, or of a plain file."""
    if name_or_path in PRETRAINED:
        return released_checkpoint(name_or_path, resolve_data_root(data_root))
    if name_or_path.startswith(HUB):
        return weights_in(hub_snapshot(name_or_path[len(HUB) :]))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return weights_in(path)
    if not path.is_file():
        raise CheckpointNotFoundError(
            f"checkpoint {name_or_path!r}: no such file, and not one of the known names {sorted(PRETRAINED)} "
            f"nor a {HUB}<owner>/<repo> model"
        )
    return path


def released_checkpoint(name: str, root: Path) -> Path:
    """The file of released checkpoint ``name`` under the data root ``root``, downloaded there once (under the
    root's lock, so that ranks and runs starting together fetch it once) if it is absent."""
    entry = PRETRAINED[name]
    path = root / entry.relative_path
    if path.is_file():
        return path
    try:
        with data_root_lock(root), folders_removed_on_error(path.parent):
            if not path.is_file():  # another process may have fetched it while this one waited
                download_file(entry.url, path, entry.sha256)
    except DownloadError as error:
        raise CheckpointNotFoundError(
            f"checkpoint {name!r} is not under the data root {root} ({entry.relative_path}) and could not be "
            f"downloaded ({error.message()}); offline, copy it to {path} or point --data.root / "
            f"${DATA_ROOT_ENV} at a folder that has {entry.relative_path}"
        ) from error
    return path


def hub_snapshot(spec: str) -> Path:
    """The local snapshot folder of Hub model ``<owner>/<repo>[@<revision>]``, downloaded into the Hub cache
    if it is not there yet."""
    from huggingface_hub import snapshot_download

    repo_id, _, revision = spec.partition("@")
    try:
        return Path(snapshot_download(repo_id, revision=revision or None))
    except Exception as error:  # offline without a cached copy, unknown repository, ...
        raise CheckpointNotFoundError(
            f"{HUB}{spec}: no snapshot in the Hugging Face cache and none could be downloaded ({error}); "
            "download it once online, or pass the snapshot folder's path"
        ) from error


def weights_in(folder: Path) -> Path:
    """The one weights file of a snapshot folder (``model.safetensors`` first)."""
    if (folder / "model.safetensors").is_file():
        return folder / "model.safetensors"
    candidates = sorted(path for path in folder.iterdir() if path.suffix in WEIGHT_SUFFIXES and path.is_file())
    if len(candidates) != 1:
        found = ", ".join(path.name for path in candidates) or "none"
        raise CheckpointNotFoundError(
            f"{folder}: expected one weights file ({', '.join(WEIGHT_SUFFIXES)}), found {found}"
        )
    return candidates[0]


def load_checkpoint_file(path: str | Path) -> object:
    """``torch.load(path, weights_only=True)`` on the CPU, a truncated or foreign file named in a
    :class:`CheckpointError` (never with torch's advice to trust the file with ``weights_only=False``)."""
    if Path(path).is_dir():
        inside = sorted(str(found) for found in Path(path).rglob("*.ckpt"))[:3]
        hint = f" such as {', '.join(inside)}" if inside else ""
        raise CheckpointError(f"{path} is a folder, not a checkpoint: pass a checkpoint file{hint}")
    try:
        if Path(path).suffix == ".safetensors":  # tensors only, no pickle at all
            from safetensors.torch import load_file

            return load_file(str(path), device="cpu")
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as error:
        raise CheckpointNotFoundError(f"{path}: no such checkpoint file") from error
    except Exception as error:  # torch raises RuntimeError, UnpicklingError, EOFError, ... for bad files
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"{path}: not a readable PyTorch checkpoint ({reason[:160]}); the file may be truncated or of "
            "another kind: download or save it again"
        ) from error


def read_state_dict(path: Path, prefix_renames: dict[str, str] | None = None) -> dict[str, torch.Tensor]:
    """The ``model`` state dict of a released checkpoint, a bare state dict, or the backbone of a lit_kgns
    Lightning checkpoint (``backbone.*`` of its ``state_dict``), loaded with ``weights_only=True``."""
    payload = load_checkpoint_file(path)
    if Path(path).suffix == ".safetensors" and all(key.startswith("model.") for key in payload):
        # a Hub snapshot of upstream's transformers wrapper holds the network as its `model` attribute
        payload = {key[len("model.") :]: value for key, value in payload.items()}
    if isinstance(payload, dict) and "pytorch-lightning_version" in payload:
        prefix = "backbone."
        lightning = payload.get("state_dict", {})
        payload = {key[len(prefix) :]: value for key, value in lightning.items() if key.startswith(prefix)}
    state = payload.get("model", payload) if isinstance(payload, dict) else payload
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a state dict or {{'model': state_dict}}, got {type(payload).__name__}")
    renames = prefix_renames or {}
    return {_rename(key, renames): value for key, value in state.items()}


def _rename(key: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        if key.startswith(old):
            return new + key[len(old) :]
    return key


def load_pretrained(
    module: nn.Module,
    name_or_path: str,
    data_root: str | Path | None = None,
    adapt: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None,
) -> None:
    """Load a released checkpoint into ``module`` with ``strict=True``; errors name the file and the keys."""
    path = checkpoint_path(name_or_path, data_root)
    renames = PRETRAINED[name_or_path].prefix_renames if name_or_path in PRETRAINED else {}
    state = read_state_dict(path, renames)
    if adapt is not None:
        state = adapt(state)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{path}: does not fit {type(module).__name__}: {error}") from error
