"""Every catalog entry by name, gathered from the modules that define them (which build on
:mod:`lit_kgns.data.entries`, and so cannot be imported by it)."""

from __future__ import annotations

from lit_kgns.data.entries import DatasetEntry, grail_entries, inference_graph_entries, transductive_entries
from lit_kgns.data.entries_more import more_entries
from lit_kgns.data.entries_remote import remote_entries


def _registry() -> dict[str, DatasetEntry]:
    entries = [*transductive_entries(), *grail_entries(), *inference_graph_entries(), *more_entries()]
    entries += remote_entries()
    return {entry.name: entry for entry in entries}


DATASETS: dict[str, DatasetEntry] = _registry()
