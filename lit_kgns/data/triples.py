"""Reading triple files: one ``head relation tail`` per line, tab- or whitespace-separated."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch


class TripleFileError(ValueError):
    """A triple file is missing, empty or malformed; the message names the file and the line."""


def read_triples(path: str | Path) -> list[tuple[str, str, str]]:
    """Read string triples from ``path``.

    Lines are split on tabs when the line has a tab, else on any whitespace (the MTDEA files are
    single-space separated). CRLF endings and a missing final newline are tolerated; blank lines are
    skipped. Every other line must have exactly three non-empty fields.
    """
    path = Path(path)
    if not path.is_file():
        raise TripleFileError(f"{path}: triple file not found")
    triples: list[tuple[str, str, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line_number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t") if "\t" in line else line.split()
            fields = [field.strip() for field in fields]
            if len(fields) != 3 or not all(fields):
                raise TripleFileError(
                    f"{path}:{line_number}: expected 3 fields (head, relation, tail) separated by a tab "
                    f"or whitespace, got {len(fields)}: {line[:120]!r}"
                )
            triples.append((fields[0], fields[1], fields[2]))
    if not triples:
        raise TripleFileError(f"{path}: empty triple file (expected lines 'head<TAB>relation<TAB>tail')")
    return triples


class Vocabulary:
    """String-to-id map that assigns ids in order of first appearance (as upstream ULTRA does)."""

    def __init__(self, labels: Iterable[str] = ()) -> None:
        self._ids: dict[str, int] = {}
        for label in labels:
            self.add(label)

    def add(self, label: str) -> int:
        return self._ids.setdefault(label, len(self._ids))

    def __getitem__(self, label: str) -> int:
        return self._ids[label]

    def __contains__(self, label: object) -> bool:
        return label in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def labels(self) -> list[str]:
        return list(self._ids)


def encode_triples(
    triples: list[tuple[str, str, str]],
    entities: Vocabulary,
    relations: Vocabulary,
    *,
    grow_entities: bool = True,
    grow_relations: bool = True,
    source: str = "",
) -> torch.Tensor:
    """Map string triples to a ``(T, 3)`` long tensor of ``(head, relation, tail)`` ids.

    With ``grow_*=False`` an unknown label raises a ``TripleFileError`` naming ``source`` and the
    offending triple (an evaluation triple outside a transductive vocabulary, say).
    """
    ids = torch.empty(len(triples), 3, dtype=torch.long)
    for row, (head, relation, tail) in enumerate(triples):
        for column, (label, vocab, grow, kind) in enumerate(
            (
                (head, entities, grow_entities, "entity"),
                (relation, relations, grow_relations, "relation"),
                (tail, entities, grow_entities, "entity"),
            )
        ):
            if grow:
                ids[row, column] = vocab.add(label)
            elif label in vocab:
                ids[row, column] = vocab[label]
            else:
                raise TripleFileError(
                    f"{source}: triple {row + 1} ({head}, {relation}, {tail}) has the {kind} {label!r}, "
                    f"which does not occur in the graph it is evaluated on"
                )
    return ids
