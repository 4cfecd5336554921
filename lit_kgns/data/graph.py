"""The graph a backbone passes messages on, and the splits that query it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import torch
from torch import Tensor

from lit_kgns.data.triple_index import TripleIndex

T = TypeVar("T")


@dataclass(eq=False)
class KGGraph:
    """A knowledge graph with inverse edges, as ULTRA consumes it.

    ``edge_index[:, :E]`` holds the direct triples ``head -> tail`` typed ``r < R``; ``edge_index[:, E:]``
    their inverses ``tail -> head`` typed ``r + R``. ``num_relations`` counts both (``2R``).
    ``relation_labels`` name the direct relations in id order (what text-aware backbones such as SEMMA
    read) and ``dataset`` is the catalog dataset the graph belongs to, if any. ``cache`` holds structures
    derived from the graph (relation graphs, incidence matrices) so that backbones and samplers compute
    them once per graph and device.
    """

    edge_index: Tensor  # (2, 2E)
    edge_type: Tensor  # (2E,)
    num_nodes: int
    num_relations: int
    name: str = ""
    relation_labels: list[str] = field(default_factory=list, repr=False)
    dataset: str | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_triples(
        cls,
        triples: Tensor,
        num_nodes: int,
        num_direct_relations: int,
        name: str = "",
        relation_labels: list[str] | None = None,
        dataset: str | None = None,
    ) -> KGGraph:
        """Build the graph of ``(T, 3)`` ``(head, relation, tail)`` triples plus their inverses."""
        heads, relations, tails = triples.t()
        edge_index = torch.cat([torch.stack([heads, tails]), torch.stack([tails, heads])], dim=1)
        edge_type = torch.cat([relations, relations + num_direct_relations])
        labels = list(relation_labels or [])
        return cls(edge_index, edge_type, num_nodes, 2 * num_direct_relations, name, labels, dataset)

    @property
    def num_direct_relations(self) -> int:
        return self.num_relations // 2

    @property
    def num_edges(self) -> int:
        return self.edge_index.shape[1]

    @property
    def direct_triples(self) -> Tensor:
        """The ``(E, 3)`` direct ``(head, relation, tail)`` triples of the graph."""
        num_direct = self.num_edges // 2
        return torch.stack(
            [self.edge_index[0, :num_direct], self.edge_type[:num_direct], self.edge_index[1, :num_direct]],
            dim=1,
        )

    @property
    def device(self) -> torch.device:
        return self.edge_index.device

    def to(self, device: torch.device | str) -> KGGraph:
        """The graph on ``device`` (self when already there); the cache is not carried over."""
        device = torch.device(device)
        if self.edge_index.device == device:
            return self
        return KGGraph(
            self.edge_index.to(device),
            self.edge_type.to(device),
            self.num_nodes,
            self.num_relations,
            self.name,
            self.relation_labels,
            self.dataset,
        )

    def fingerprint(self) -> dict[str, int | str]:
        """What identifies the graph in a checkpoint: its counts and a hash of its edges and relation labels."""

        def digest(graph: KGGraph) -> str:
            hasher = hashlib.sha256()
            for tensor in (graph.edge_index, graph.edge_type):
                hasher.update(tensor.detach().cpu().to(torch.int64).numpy().tobytes())
            hasher.update("\t".join(graph.relation_labels).encode())
            return hasher.hexdigest()[:16]

        counts = {"entities": self.num_nodes, "relations": self.num_direct_relations, "edges": self.num_edges // 2}
        return {"name": self.name, **counts, "sha256": self.cached("fingerprint", digest)}

    def cached(self, key: str, build: Callable[[KGGraph], T]) -> T:
        """``cache[key]``, built by ``build(self)`` on first use."""
        if key not in self.cache:
            self.cache[key] = build(self)
        return self.cache[key]


@dataclass(eq=False)
class LinkPredictionSplit:
    """Target triples queried on a message-passing graph, with the triples known to be true for filtering.

    ``targets`` and ``filter_triples`` are ``(T, 3)`` ``(head, relation, tail)`` tensors with direct
    relation ids; a head query ``(?, r, t)`` is answered on the inverse relation ``r + R``. Evaluation ranks
    the tail query ``(h, r, ?)`` and the head query of each target, or with ``tail_only`` the tail query
    alone (the protocol upstream reports for the sparse DacKGR graphs, its ``mrr-tail``).
    """

    name: str
    graph: KGGraph
    targets: Tensor
    filter_triples: Tensor
    tail_only: bool = False

    @cached_property
    def known_answers(self) -> TripleIndex:
        return TripleIndex(self.filter_triples, self.graph.num_nodes, self.graph.num_direct_relations)

    def to(self, device: torch.device | str) -> LinkPredictionSplit:
        return LinkPredictionSplit(
            self.name, self.graph.to(device), self.targets.to(device), self.filter_triples.to(device), self.tail_only
        )


@dataclass(eq=False)
class KGDataset:
    """One benchmark: a training split, validation splits and test splits with their graphs.

    Transductive datasets share one graph between the three stages; inductive ones test on a separate
    inference graph (``inductive_e``: new entities, ``inductive_er``: new entities and relations).
    """

    name: str
    setting: str  # "transductive", "inductive_e" or "inductive_er"
    train: LinkPredictionSplit
    valid: LinkPredictionSplit
    test: LinkPredictionSplit
    entity_labels: list[str] = field(default_factory=list, repr=False)
    relation_labels: list[str] = field(default_factory=list, repr=False)
    test_entity_labels: list[str] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        def describe(split: LinkPredictionSplit) -> str:
            graph = split.graph
            return (
                f"{graph.num_nodes} entities, {graph.num_direct_relations} relations, {graph.num_edges // 2} edges, "
                f"{len(split.targets)} targets"
            )

        return (
            f"{self.name} ({self.setting})\n  train: {describe(self.train)}\n  valid: {describe(self.valid)}\n"
            f"  test:  {describe(self.test)}"
        )
