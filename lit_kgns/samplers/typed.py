"""Typed (Krompaß et al., 2015): negatives from the entities of the domain / range class of ``r``.

Metadata format (tab-separated, ``#`` comments and blank lines ignored):

* ``types_file``: one ``entity<TAB>type`` line per (entity, type) pair; an entity may have several types.
  Entities are given by label (as in the triple files) or, when the dataset has no labels, by integer id.
* ``domain_range_file`` (optional): ``relation<TAB>domain type<TAB>range type``; ``None`` or an empty field
  means "no class" (no pool: the fallback decides). Without this file the domain (range) of ``r`` is
  derived from the observed types: the type held by most distinct training heads (tails) of ``r`` (ties to
  the smaller type id).

Files ending in ``.json`` are read in the PyKEEN extension's format instead (its ``entities_classes.json``:
``{"entity": ["class", ...]}``; its ``relation_domain_range.json``: ``{"relation": {"domain": "class",
"range": "class"}}``), so its YAGO4-20 and DB50K metadata work as they are.

The pool of a head corruption of ``(h, r, t)`` is every entity whose types contain ``domain(r)``; a tail
corruption uses ``range(r)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph, LinkPredictionSplit
from lit_kgns.data.triple_index import expand_ranges
from lit_kgns.errors import ConfigError
from lit_kgns.samplers.fallback import PoolRanges
from lit_kgns.samplers.pools import PoolSampler, SortedPools

NO_CLASS = ("", "none", "null")


def read_rows(path: str | Path, columns: int) -> list[list[str]]:
    """The ``columns``-field rows of a TSV metadata file, or of the extension's JSON equivalent."""
    path = Path(path)
    if path.suffix == ".json":
        return json_rows(path, columns)
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            row = line.rstrip("\n").split("\t")
            if len(row) < columns:
                raise ConfigError(f"{path}, line {number}: expected {columns} tab-separated fields, got {line!r}")
            rows.append(row)
    return rows


def json_rows(path: Path, columns: int) -> list[list[str]]:
    """``[entity, class]`` rows of ``{"entity": ["class", ...]}`` (2 columns) or ``[relation, domain, range]``
    rows of ``{"relation": {"domain": "class", "range": "class"}}`` (3 columns)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}, line {error.lineno}: invalid JSON ({error.msg})") from error
    expected = "lists of classes" if columns == 2 else 'objects with "domain" and "range"'
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object mapping names to {expected}")
    rows = []
    for name, value in data.items():
        if columns == 2 and isinstance(value, list):
            rows.extend([name, str(cls)] for cls in value)
        elif columns == 3 and isinstance(value, dict):
            rows.append([name, str(value.get("domain", "None")), str(value.get("range", "None"))])
        else:
            raise ConfigError(f"{path}: entry {name!r} should map to {expected}, got {value!r}")
    return rows


def integer_id(name: str, path: str | Path) -> int:
    """An entity or relation id of a metadata file read without dataset labels."""
    if not name.isdigit():
        raise ConfigError(f"{path}: {name!r} is not an integer id, and the dataset has no labels to look it up")
    return int(name)


def observed_classes(graph: KGGraph, entity_types: Tensor, num_types: int) -> Tensor:
    """``(2R,)`` class per query relation: for ``q`` the type most frequent among the distinct entities
    observed as answers of ``q`` (the range of ``r`` for ``q = r``, its domain for ``q = r + R``);
    -1 if none."""
    # (query relation, answer entity) pairs
    pairs = torch.unique(torch.stack([graph.edge_type, graph.edge_index[1]], 1), dim=0).contiguous()
    # Join (q, entity) with (entity, type) through a sort on the entity.
    order = torch.argsort(entity_types[:, 0])
    typed_entities, types = entity_types[order, 0], entity_types[order, 1]
    answers = pairs[:, 1].contiguous()
    start = torch.searchsorted(typed_entities, answers)
    end = torch.searchsorted(typed_entities, answers, right=True)
    counts = end - start
    rows, positions = expand_ranges(start, counts)
    joined_types = types[positions]
    votes = torch.zeros(graph.num_relations, num_types, dtype=torch.long)
    votes.index_put_((pairs[rows, 0], joined_types), torch.ones_like(joined_types), accumulate=True)
    best = votes.argmax(dim=1)  # first maximum: ties go to the smaller type id
    return torch.where(votes.max(dim=1).values > 0, best, -1)


class TypedSampler(PoolSampler):
    """Negatives of the schema class of ``r``'s domain (head corruption) or range (tail corruption).

    Args:
        types_file: TSV ``entity<TAB>type``, or the extension's JSON (see the module docstring).
        domain_range_file: TSV ``relation<TAB>domain<TAB>range``, or the extension's JSON; derived from
            observed types when omitted.
        kwargs: the options of :class:`PoolSampler` (``num_negatives``, ``side``, ``seed``, ``fallback``, ...).

    Labels are taken from the Trainer's DataModule at ``setup``; outside a Trainer, call :meth:`set_types`
    with id tensors (or pass ``entity_labels`` / ``relation_labels`` to :meth:`load_metadata`).
    """

    def __init__(
        self,
        types_file: str | None = None,
        domain_range_file: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.types_file = types_file
        self.domain_range_file = domain_range_file
        self.entity_types: Tensor | None = None  # (P, 2) entity id, type id
        self.domain_range: Tensor | None = None  # (R, 2) domain type, range type (-1: none)
        self.num_types = 0
        self._pools: dict[tuple[int, str], tuple[SortedPools, Tensor]] = {}

    def set_types(self, entity_types: Tensor, domain_range: Tensor | None = None, num_types: int | None = None) -> None:
        """Use ``(P, 2)`` ``(entity, type)`` id pairs and optional ``(R, 2)`` ``(domain, range)`` type ids."""
        self.entity_types = entity_types.long().cpu()
        self.domain_range = None if domain_range is None else domain_range.long().cpu()
        self.num_types = (
            num_types if num_types is not None else int(entity_types[:, 1].max()) + 1 if len(entity_types) else 0
        )
        self._pools.clear()

    def load_metadata(self, entity_labels: list[str] | None = None, relation_labels: list[str] | None = None) -> None:
        """Parse ``types_file`` / ``domain_range_file`` with the dataset's labels."""
        if self.types_file is None:
            raise ConfigError("TypedSampler needs types_file (TSV entity<TAB>type) or set_types(...)")
        entity_index = {label: i for i, label in enumerate(entity_labels or [])}
        type_index: dict[str, int] = {}
        pairs = []
        for row in read_rows(self.types_file, columns=2):
            entity = entity_index.get(row[0]) if entity_index else integer_id(row[0], self.types_file)
            if entity is None:  # an entity of the metadata that is not in this dataset
                continue
            pairs.append((entity, type_index.setdefault(row[1], len(type_index))))
        domain_range = None
        if self.domain_range_file is not None:
            relation_index = {label: i for i, label in enumerate(relation_labels or [])}
            num_direct = len(relation_labels) if relation_labels else 0
            rows = read_rows(self.domain_range_file, columns=3)
            num_direct = num_direct or max(integer_id(row[0], self.domain_range_file) for row in rows) + 1
            domain_range = torch.full((num_direct, 2), -1, dtype=torch.long)
            for row in rows:
                relation = relation_index.get(row[0]) if relation_index else integer_id(row[0], self.domain_range_file)
                if relation is None:
                    continue
                for column, name in enumerate(row[1:3]):
                    if name.strip().lower() not in NO_CLASS and name in type_index:
                        domain_range[relation, column] = type_index[name]
        self.set_types(torch.tensor(pairs, dtype=torch.long).view(-1, 2), domain_range, len(type_index))

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage == "fit" and self.entity_types is None:
            datamodule = trainer.datamodule
            names = getattr(datamodule, "train_names", [])
            dataset = datamodule.dataset(names[0]) if names and hasattr(datamodule, "dataset") else None
            self.load_metadata(
                getattr(dataset, "entity_labels", None) or None,
                getattr(dataset, "relation_labels", None) or None,
            )
        super().setup(trainer, pl_module, stage)

    def attach(self, splits: list[LinkPredictionSplit], device: torch.device | str = "cpu") -> None:
        if self.entity_types is None:
            self.load_metadata()
        super().attach(splits, device)

    def typed_pools(self, graph_id: int) -> tuple[SortedPools, Tensor]:
        """``(pools keyed by type, (2R,) class per query relation)`` on the graph's device."""
        graph = self.graphs[graph_id].graph
        key = (graph_id, str(graph.device))
        if key not in self._pools:
            assert self.entity_types is not None
            types = self.entity_types[self.entity_types[:, 0] < graph.num_nodes]
            if self.domain_range is not None:
                # Relations the file does not list have no class.
                domain_range = torch.full((graph.num_direct_relations, 2), -1, dtype=torch.long)
                listed = self.domain_range[: graph.num_direct_relations]
                domain_range[: len(listed)] = listed
                # Query relation r (tail corruption) uses the range, r + R (head corruption) the domain.
                classes = torch.cat([domain_range[:, 1], domain_range[:, 0]])
            else:
                classes = observed_classes(graph.to("cpu"), types, max(self.num_types, 1))
            pools = SortedPools.from_pairs(types[:, 1], types[:, 0], deduplicate=True)
            self._pools[key] = (pools.to(graph.device), classes.to(graph.device))
        return self._pools[key]

    def pool_ranges(self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int) -> PoolRanges:
        pools, classes = self.typed_pools(graph_id)
        return pools.ranges(classes[query_relations])
