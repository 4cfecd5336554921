"""Named groups of catalog datasets, usable wherever a list of dataset names is: ``transductive``,
``inductive_e``, ``inductive_er`` (the 57 graphs of the standard KGFM benchmark by protocol, as the papers group
them), ``all`` (the whole catalog: those 57 and the small classics Nations, Kinship, UMLS, Countries), and
``offline`` (the datasets whose files are all under the data root, plus those bundled with PyKEEN)."""

from __future__ import annotations

from pathlib import Path

from lit_kgns.data.catalog import available_datasets, get_entry
from lit_kgns.data.folders import is_folder_dataset
from lit_kgns.data.root import resolve_data_root

GROUPS = ("transductive", "inductive_e", "inductive_er", "all", "offline")


def group_members(group: str, root: str | Path | None = None) -> list[str]:
    """The datasets of ``group``, in catalog order."""
    names = available_datasets()
    if group == "all":
        return names
    if group == "offline":
        data_root = resolve_data_root(root)
        return [name for name in names if _is_local(name, data_root)]
    if group in GROUPS:
        return [name for name in names if benchmark_group(name) == group]
    raise KeyError(group)


def benchmark_group(name: str) -> str | None:
    """The benchmark group of dataset ``name`` (its protocol), ``None`` for graphs outside the standard 57
    (a folder of the user's own triples included)."""
    if is_folder_dataset(name):
        return None
    entry = get_entry(name)
    return entry.setting if entry.in_benchmark else None


def expand_groups(names: list[str], root: str | Path | None = None) -> list[str]:
    """``names`` with each group name replaced by its members; each dataset once, first mention first."""
    expanded: list[str] = []
    for name in names:
        members = group_members(name, root) if name in GROUPS else [name]
        expanded += [member for member in members if member not in expanded]
    return expanded


def _is_local(name: str, data_root: Path) -> bool:
    entry = get_entry(name)
    folder = data_root / entry.folder
    return entry.embedded is not None or all((folder / file.local).is_file() for file in entry.files)
