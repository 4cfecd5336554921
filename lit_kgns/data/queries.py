"""Questions asked by name: a file of ``head<TAB>relation<TAB>?`` / ``?<TAB>relation<TAB>tail`` lines.

A query is held as a ``(head, relation, tail)`` id row with ``-1`` where the ``?`` is, so the tail query
``(h, r, ?)`` is ``(h, r, -1)`` and the head query ``(?, r, t)`` is ``(-1, r, t)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from lit_kgns.data.graph import KGDataset, KGGraph
from lit_kgns.data.triples import TripleFileError
from lit_kgns.errors import DataError

ASKED = "?"
UNKNOWN = -1  # the id of the asked side in a query row
FORMAT = "'head<TAB>relation<TAB>?' or '?<TAB>relation<TAB>tail'"


@dataclass(frozen=True)
class Labels:
    """The labels of the entities and relations of one graph, in id order."""

    entities: list[str]
    relations: list[str]

    def entity_ids(self) -> dict[str, int]:
        return {label: index for index, label in enumerate(self.entities)}

    def relation_ids(self) -> dict[str, int]:
        return {label: index for index, label in enumerate(self.relations)}


def prediction_labels(dataset: KGDataset) -> Labels:
    """Labels of the graph ``dataset``'s test split queries (the inference graph of an inductive dataset:
    ``test_entity_labels``; else the dataset's own). Datasets built in Python without labels are named by
    their ids (``"0"``, ``"1"``, ...), so queries and predictions still work on them."""
    graph = dataset.test.graph
    labels = graph_labels(dataset, graph, dataset.test_entity_labels or dataset.entity_labels)
    entities, relations = labels.entities, labels.relations
    if len(entities) != graph.num_nodes or len(relations) != graph.num_direct_relations:
        raise DataError(
            f"dataset {dataset.name!r}: {len(entities)} entity and {len(relations)} relation labels for a test "
            f"graph of {graph.num_nodes} entities and {graph.num_direct_relations} relations"
        )
    return labels


def graph_labels(dataset: KGDataset, graph: KGGraph, entities: Sequence[str] | None) -> Labels:
    """Labels of ``graph``, one of ``dataset``'s: ``entities``, the graph's relation labels or the dataset's,
    and ids (``"0"``, ``"1"``, ...) for whichever are missing."""
    relations = graph.relation_labels or dataset.relation_labels
    return Labels(
        list(entities or [str(index) for index in range(graph.num_nodes)]),
        list(relations or [str(index) for index in range(graph.num_direct_relations)]),
    )


def read_queries(path: str | Path, labels: Labels) -> Tensor:
    """``(Q, 3)`` query rows (``-1`` at the ``?``) of the file at ``path``, one query per non-blank line.

    Fields are separated by tabs only, since labels may hold spaces. Every malformed line is a
    :class:`~lit_kgns.data.triples.TripleFileError` naming ``path:line`` and what was expected; an unknown
    label is named, with the closest known ones as a hint (never substituted).
    """
    path = Path(path)
    if not path.is_file():
        raise TripleFileError(f"{path}: query file not found (data.predict_queries; lines {FORMAT})")
    entity_ids, relation_ids = labels.entity_ids(), labels.relation_ids()
    rows = []
    with path.open("rb") as handle:  # bytes, so that text that is not UTF-8 is named by its line
        for number, raw in enumerate(handle, start=1):
            try:
                # a byte-order mark must not become part of the first label
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                raise TripleFileError(f"{path}:{number}: not UTF-8 text ({error.reason})") from error
            if line.strip():
                rows.append(_parse(line, f"{path}:{number}", entity_ids, relation_ids))
    if not rows:
        raise TripleFileError(f"{path}: no queries (expected lines {FORMAT})")
    return torch.tensor(rows, dtype=torch.long)


def _parse(line: str, where: str, entity_ids: dict[str, int], relation_ids: dict[str, int]) -> list[int]:
    fields = [field.strip() for field in line.split("\t")]
    if len(fields) != 3:
        raise TripleFileError(f"{where}: expected 3 tab-separated fields, {FORMAT}, got {len(fields)}: {line[:120]!r}")
    head, relation, tail = fields
    if relation == ASKED:
        raise TripleFileError(f"{where}: the relation cannot be asked; expected {FORMAT}, got {line[:120]!r}")
    asked = [head, tail].count(ASKED)
    if asked != 1:
        what = "no '?'" if asked == 0 else "'?' as both head and tail"
        raise TripleFileError(f"{where}: {what}; expected exactly one of head or tail to be '?' ({FORMAT})")
    named = [("head", head, entity_ids), ("relation", relation, relation_ids), ("tail", tail, entity_ids)]
    row = []
    for column, label, ids in named:
        if label == ASKED:
            row.append(UNKNOWN)
        elif label in ids:
            row.append(ids[label])
        elif not label:
            raise TripleFileError(f"{where}: empty {column} field in {line[:120]!r}")
        else:
            kind, what = ("relation", "relations") if column == "relation" else (f"{column} entity", "entities")
            close = difflib.get_close_matches(label, list(ids), n=3)
            hint = f"; close labels: {', '.join(map(repr, close))}" if close else ""
            raise TripleFileError(
                f"{where}: unknown {kind} {label!r} (not among the {len(ids)} {what} of the graph queried){hint}"
            )
    return row


class QueryRows(Dataset):
    """The query rows of a query file, served as ``{"queries": (3,)}`` (collated to ``(B, 3)``)."""

    def __init__(self, queries: Tensor) -> None:
        self.queries = queries

    def __len__(self) -> int:
        return len(self.queries)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"queries": self.queries[index]}
