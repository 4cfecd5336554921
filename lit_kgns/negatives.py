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

    What a sampler asks of the loss for its slots (all optional, see :mod:`lit_kgns.losses`):
    ``weight_offsets`` shift the self-adversarial logits (a ``log q`` correction), ``slot_weights`` scale
    each negative's weight, and ``guard_margin`` ``δ`` removes from the loss the hard slots whose detached
    score is at least the positive's minus ``δ`` (likely false negatives: :meth:`loss_mask`).
    """

    entities: Tensor  # (B, K)
    head_corrupted: Tensor  # (B,) bool
    mask: Tensor  # (B, K) bool
    hard: Tensor | None = None  # (B, K) bool
    weight_offsets: Tensor | None = None  # (B, K) float
    slot_weights: Tensor | None = None  # (B, K) float
    guard_margin: float | None = None

    def queries(self, positives: Tensor, num_direct_relations: int) -> Queries:
        return Queries.of(positives, self.head_corrupted, num_direct_relations)

    def triples(self, positives: Tensor) -> Tensor:
        """The corrupted ``(B, K, 3)`` ``(head, relation, tail)`` triples."""
        expanded = positives.unsqueeze(1).expand(-1, self.entities.shape[1], -1).clone()
        column = torch.where(self.head_corrupted, 0, 2)  # (B,)
        expanded.scatter_(2, column.view(-1, 1, 1).expand(-1, self.entities.shape[1], 1), self.entities.unsqueeze(-1))
        return expanded

    def rows(self, count: int) -> NegativeBatch:
        """The first ``count`` rows."""

        def first(tensor: Tensor | None) -> Tensor | None:
            return None if tensor is None else tensor[:count]

        return NegativeBatch(
            self.entities[:count],
            self.head_corrupted[:count],
            self.mask[:count],
            first(self.hard),
            first(self.weight_offsets),
            first(self.slot_weights),
            self.guard_margin,
        )

    def loss_mask(self, scores: Tensor) -> Tensor:
        """The negatives the loss uses, given the ``(B, 1 + K)`` scores: the valid ones, less the hard
        slots the semi-hard guard removes (``score_k >= score_0 - guard_margin``, scores detached)."""
        if self.guard_margin is None or self.hard is None:
            return self.mask
        detached = scores.detach()
        too_hard = self.hard & (detached[:, 1:] >= detached[:, :1] - self.guard_margin)
        return self.mask & ~too_hard

    def loss_options(self) -> dict[str, Tensor]:
        """The keyword arguments the loss receives besides scores and mask (none for plain negatives)."""
        options = {"offsets": self.weight_offsets, "slot_weights": self.slot_weights}
        return {key: value for key, value in options.items() if value is not None}
