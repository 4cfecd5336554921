"""Reading triple files: one ``head relation tail`` per line, tab- or whitespace-separated."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import torch

from lit_kgns.errors import DataError


class TripleFileError(DataError):
    """A triple file is missing, empty or malformed; the message names the file and the line."""


def read_triples(
    path: str | Path, *, relation_last: bool = False, tab_only: bool = False
) -> list[tuple[str, str, str]]:
    """Read string triples from ``path``, always returned as ``(head, relation, tail)``.

    Lines are split on tabs when the line has a tab, else on any whitespace (the MTDEA files are
    single-space separated); with ``tab_only=True`` only on tabs (ConceptNet's entities contain spaces,
    so a line without tabs must fail rather than split on them). ``relation_last=True`` reads
    ``head<TAB>tail<TAB>relation`` lines (the DacKGR ``*.triples`` files). A UTF-8 byte-order mark, CRLF
    endings and a missing final newline are tolerated; blank lines are skipped, and so is a first line
    that names the columns (``head relation tail``, ``subject predicate object``, ...: see
    ``HEADER_WORDS``), with a warning. Every other line must have exactly three non-empty fields.
    """
    path = Path(path)
    if not path.is_file():
        raise TripleFileError(f"{path}: triple file not found")
    try:
        triples = _parse_lines(path, relation_last=relation_last, tab_only=tab_only)
    except UnicodeDecodeError as error:
        line_number = _first_undecodable_line(path)
        raise TripleFileError(f"{path}:{line_number}: not UTF-8 text ({error.reason})") from error
    if not triples:
        raise TripleFileError(f"{path}: empty triple file (expected lines 'head<TAB>relation<TAB>tail')")
    return triples


# Column names a header line is made of (compared lower-case, without "#" or "_id" decorations).
HEADER_WORDS = {"head", "relation", "tail", "h", "r", "t", "subject", "predicate", "object", "source", "target"}
HEADER_WORDS |= {"s", "p", "o", "rel", "edge", "type", "from", "to"}


def _parse_lines(path: Path, *, relation_last: bool, tab_only: bool) -> list[tuple[str, str, str]]:
    triples: list[tuple[str, str, str]] = []
    columns = ("head", "tail", "relation") if relation_last else ("head", "relation", "tail")
    separators = "a tab" if tab_only else "a tab or whitespace"
    # utf-8-sig: a byte-order mark must not become part of the first entity's label
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line_number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t") if tab_only or "\t" in line else line.split()
            fields = [field.strip() for field in fields]
            if len(fields) != 3:
                raise TripleFileError(
                    f"{path}:{line_number}: expected 3 fields ({', '.join(columns)}) separated by "
                    f"{separators}, got {len(fields)}: {line[:120]!r}"
                )
            if not all(fields):
                named = zip(columns, fields, strict=True)
                empty = ", ".join(name for name, field in named if not field)
                raise TripleFileError(f"{path}:{line_number}: empty {empty} field in {line[:120]!r}")
            if not triples and _is_header(fields):
                warnings.warn(f"{path}:{line_number}: header line {line[:120]!r} skipped", stacklevel=3)
                continue
            if relation_last:
                triples.append((fields[0], fields[2], fields[1]))
            else:
                triples.append((fields[0], fields[1], fields[2]))
    return triples


def _is_header(fields: list[str]) -> bool:
    return all(field.lower().strip("#").removesuffix("_id") in HEADER_WORDS for field in fields)


def _first_undecodable_line(path: Path) -> int:
    """The number of the first line that is not valid UTF-8 (only called on the error path)."""
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return line_number
    return 0


class Vocabulary:
    """String-to-id map that assigns ids in order of first appearance (as upstream ULTRA does)."""

    def __init__(self, labels: Iterable[str] = ()) -> None:
        self._ids: dict[str, int] = {}
        self.extend(labels)

    def add(self, label: str) -> int:
        return self._ids.setdefault(label, len(self._ids))

    def extend(self, labels: Iterable[str]) -> None:
        """Add ``labels`` in order, skipping those already present."""
        ids = self._ids
        # dict.fromkeys keeps first-appearance order, so the Python loop runs over distinct labels only
        for label in dict.fromkeys(labels):
            if label not in ids:
                ids[label] = len(ids)

    def missing(self, labels: Iterable[str]) -> set[str]:
        """The distinct ``labels`` that have no id."""
        return set(labels).difference(self._ids.keys())

    def lookup(self, labels: Iterable[str]) -> list[int]:
        """The ids of ``labels``; raises ``KeyError`` for an unknown label."""
        return list(map(self._ids.__getitem__, labels))

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

    Growing vocabularies number new entities in the order head, tail of each triple in turn (as
    upstream ULTRA's loaders do). With ``grow_*=False`` an unknown label raises a ``TripleFileError``
    naming ``source`` and the offending triple (an evaluation triple outside a transductive vocabulary,
    say); nothing is added to either vocabulary then.
    """
    if not triples:
        return torch.empty(0, 3, dtype=torch.long)
    heads, relation_labels, tails = zip(*triples, strict=True)
    # entities in (head, tail) row-major order, which fixes the first-appearance numbering
    entity_labels = list(chain.from_iterable(zip(heads, tails, strict=True)))
    if not grow_entities or not grow_relations:
        _check_known(
            triples,
            (heads, relation_labels, tails),
            entities if not grow_entities else None,
            relations if not grow_relations else None,
            source,
        )
    if grow_entities:
        entities.extend(entity_labels)
    if grow_relations:
        relations.extend(relation_labels)
    entity_ids = torch.tensor(entities.lookup(entity_labels), dtype=torch.long).view(-1, 2)
    relation_ids = torch.tensor(relations.lookup(relation_labels), dtype=torch.long)
    return torch.stack([entity_ids[:, 0], relation_ids, entity_ids[:, 1]], dim=1)


def _check_known(
    triples: list[tuple[str, str, str]],
    label_columns: tuple[tuple[str, ...], ...],
    entities: Vocabulary | None,
    relations: Vocabulary | None,
    source: str,
) -> None:
    """Raise for the first triple with a label unknown to a vocabulary that must not grow."""
    candidates = ((0, entities, "entity"), (1, relations, "relation"), (2, entities, "entity"))
    checks = [(column, vocab, kind) for column, vocab, kind in candidates if vocab is not None]
    # fast path: set differences over distinct labels; the row search below runs only on failure
    if not any(vocab.missing(label_columns[column]) for column, vocab, _ in checks):
        return
    for row, triple in enumerate(triples):
        for column, vocab, kind in checks:
            label = triple[column]
            if label not in vocab:
                head, relation, tail = triple
                raise TripleFileError(
                    f"{source}: triple {row + 1} ({head}, {relation}, {tail}) has the {kind} {label!r}, "
                    f"which does not occur in the graph it is evaluated on"
                )
