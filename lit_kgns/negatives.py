"""What a training batch carries besides its positive triples: the queries they pose and their negatives."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Queries:
    """The query each positive ``(h, r, t)`` poses once a side is chosen for corruption.

    A tail corruption asks ``(h, r, ?)`` (anchor ``h``, answer ``t``); a head corruption asks ``(?, r, t)``,
    which backbones answer as the tail query ``(t, r + R, ?)`` on the inverse relation (anchor ``t``,
    answer ``h``).
    """

    anchors: Tensor  # (B,)
    relations: Tensor  # (B,) direct relation ids r < R
    head_queries: Tensor  # (B,) bool
    answers: Tensor  # (B,)
    query_relations: Tensor  # (B,) r, or r + R for head queries

    @classmethod
    def of(cls, positives: Tensor, head_queries: Tensor, num_direct_relations: int) -> Queries:
        heads, relations, tails = positives.t()
        return cls(
            anchors=torch.where(head_queries, tails, heads),
            relations=relations,
            head_queries=head_queries,
            answers=torch.where(head_queries, heads, tails),
            query_relations=relations + head_queries.long() * num_direct_relations,
        )


@dataclass
class NegativeBatch:
    """Negatives for ``B`` positives: ``entities`` replace the head (``head_corrupted``) or the tail.

    ``mask`` is ``(B, K)``, False for slots that hold no valid negative (an empty pool in ``mask`` fallback
    mode); losses ignore those slots. ``hard`` marks the slots a hard-negative sampler (KMAS) filled, for
    its diagnostics; ``None`` for samplers without that notion.
    """

    entities: Tensor  # (B, K)
    head_corrupted: Tensor  # (B,) bool
    mask: Tensor  # (B, K) bool
    hard: Tensor | None = None  # (B, K) bool

    def queries(self, positives: Tensor, num_direct_relations: int) -> Queries:
        return Queries.of(positives, self.head_corrupted, num_direct_relations)

    def triples(self, positives: Tensor) -> Tensor:
        """The corrupted ``(B, K, 3)`` ``(head, relation, tail)`` triples."""
        expanded = positives.unsqueeze(1).expand(-1, self.entities.shape[1], -1).clone()
        column = torch.where(self.head_corrupted, 0, 2)  # (B,)
        expanded.scatter_(
            2, column.view(-1, 1, 1).expand(-1, self.entities.shape[1], 1), self.entities.unsqueeze(-1)
        )
        return expanded

    def rows(self, count: int) -> NegativeBatch:
        """The first ``count`` rows."""
        hard = None if self.hard is None else self.hard[:count]
        return NegativeBatch(self.entities[:count], self.head_corrupted[:count], self.mask[:count], hard)
