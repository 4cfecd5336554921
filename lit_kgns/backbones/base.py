"""The interface every backbone implements: score candidate entities, expose relation representations."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from lit_kgns.data.graph import KGGraph


class KGBackbone(nn.Module, ABC):
    """A link predictor over a :class:`KGGraph`.

    Queries are ``(anchor, relation, direction)``: a tail query ``(h, r, ?)`` has ``anchor=h`` and
    ``head_query=False``; a head query ``(?, r, t)`` has ``anchor=t`` and ``head_query=True``.
    ``relation`` is always the direct relation id ``r < R``; backbones that answer head queries on the
    inverse relation ``r + R`` (ULTRA and its descendants) do that mapping themselves.
    """

    @abstractmethod
    def forward(
        self,
        graph: KGGraph,
        anchors: Tensor,
        relations: Tensor,
        head_queries: Tensor,
        candidates: Tensor | None = None,
        removed_edges: Tensor | None = None,
    ) -> Tensor:
        """Score candidate answers.

        Args:
            graph: the graph to reason on.
            anchors: ``(B,)`` query entities.
            relations: ``(B,)`` direct relations of the queries.
            head_queries: ``(B,)`` True where the query asks for the head.
            candidates: ``(B, C)`` entity ids to score, or ``None`` for all ``graph.num_nodes`` entities.
            removed_edges: ``(M, 3)`` ``(head, relation, tail)`` triples whose edges (and inverses) are
                hidden from message passing, e.g. the training batch itself.

        Returns:
            ``(B, C)`` (or ``(B, num_nodes)``) logits, higher meaning more plausible.
        """

    @abstractmethod
    def relation_representations(self, graph: KGGraph, query_relations: Tensor | None = None) -> Tensor:
        """Representations of the ``graph.num_relations`` relations (direct then inverse).

        Query-conditioned backbones return ``(B, num_relations, d)`` conditioned on each of
        ``query_relations`` ``(B,)``; query-free ones return ``(num_relations, d)`` and ignore it.
        """

    def queries_per_forward(self, graph: KGGraph) -> int | None:
        """Most queries :meth:`score_all` scores in one forward on ``graph`` (``None``: no limit)."""
        return None

    @torch.no_grad()
    def score_all(self, graph: KGGraph, anchors: Tensor, relations: Tensor, head_queries: Tensor) -> Tensor:
        """``(B, num_nodes)`` logits of every entity as the answer (evaluation), in groups of at most
        :meth:`queries_per_forward` queries so that memory does not grow with the batch."""
        size = self.queries_per_forward(graph) or max(1, len(anchors))
        groups = zip(anchors.split(size), relations.split(size), head_queries.split(size), strict=True)
        return torch.cat([self(graph, *group) for group in groups])


@runtime_checkable
class EmbeddingBackbone(Protocol):
    """A backbone with one learned vector per entity (the embedding models): the space NearestNeighbor draws
    neighbours in, and what lets the Adversarial sampler precompute every query's pool."""

    def entity_table(self) -> Tensor:
        """``(num_entities, d)`` real entity vectors."""
        ...
