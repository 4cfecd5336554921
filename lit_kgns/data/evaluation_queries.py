"""Evaluation batches of distinct queries: each ``(h, r, ?)`` or ``(?, r, t)`` is scored once, however many
target triples ask it.

A KGFM's forward for a query scores every entity; every target triple sharing the query needs those same
scores and only ranks a different answer among them (FB15k-237's test split: 40,932 head and tail queries, 22,850
distinct). :class:`EvaluationQueries` groups a split's targets by query; a batch is a run of whole groups
(:class:`EvaluationBatch`), so a query is never scored twice, and under DDP the ranks split the groups, so
every target is still ranked exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import Dataset

from lit_kgns.data.triple_index import expand_ranges


@dataclass
class EvaluationBatch:
    """``Q`` distinct queries and the ``A`` target triples that ask them."""

    anchors: Tensor  # (Q,) the known entity of each query
    relations: Tensor  # (Q,) its relation (a direct relation id; head_queries says which side is asked)
    head_queries: Tensor  # (Q,) bool: (?, r, t) rather than (h, r, ?)
    answers: Tensor  # (A,) the true answer each target triple gives its query
    answer_query: Tensor  # (A,) the query (row of the first three) each answer belongs to
    triples: Tensor  # (A, 3) the target triple of each answer

    def __len__(self) -> int:
        return len(self.answers)

    @classmethod
    def of_triples(cls, triples: Tensor, tail_only: bool = False) -> EvaluationBatch:
        """Every target's queries as their own rows, repeated queries included (the per-triple protocol):
        the tail queries of ``triples``, then their head queries unless ``tail_only``."""
        heads, relations, tails = triples.t()
        rows = torch.arange(len(triples), device=triples.device)
        head_queries = torch.zeros(len(triples), dtype=torch.bool, device=triples.device)
        if tail_only:
            return cls(heads, relations, head_queries, tails, rows, triples)
        anchors, answers = torch.cat([heads, tails]), torch.cat([tails, heads])
        head_queries = torch.cat([head_queries, ~head_queries])
        rows = torch.arange(len(anchors), device=triples.device)
        return cls(anchors, relations.repeat(2), head_queries, answers, rows, triples.repeat(2, 1))


#: The index of a query without answers (see :meth:`EvaluationQueries.collate`).
NO_QUERY = -1


class EvaluationQueries(Dataset):
    """The distinct queries of one split's targets: the tail query ``(h, r, ?)`` of every target and, unless
    ``tail_only``, its head query ``(?, r, t)``; item ``i`` is query ``i``, and :meth:`collate` turns a list
    of them into one :class:`EvaluationBatch`. Queries are ordered tail queries first, then by relation and
    anchor; a query's answers keep the order of the targets."""

    def __init__(self, triples: Tensor, tail_only: bool = False) -> None:
        asked = EvaluationBatch.of_triples(triples.long(), tail_only)  # a row per target and direction
        keys = torch.stack([asked.head_queries.long(), asked.relations, asked.anchors], dim=1)
        distinct, query_of_row = torch.unique(keys, dim=0, return_inverse=True)
        order = torch.sort(query_of_row, stable=True).indices
        self.head_queries, self.relations, self.anchors = distinct[:, 0].bool(), distinct[:, 1], distinct[:, 2]
        self.answers, self.triples = asked.answers[order], asked.triples[order]
        counts = torch.bincount(query_of_row, minlength=len(distinct))
        self.start = counts.cumsum(0) - counts
        self.counts = counts

    def __len__(self) -> int:
        return len(self.anchors)

    def __getitem__(self, index: int) -> int:
        return index

    def collate(self, indices: list[int]) -> EvaluationBatch:
        """The batch of queries ``indices``; :data:`NO_QUERY` stands for a query that asks nothing (scored,
        never ranked: what a DDP rank left without queries evaluates)."""
        asked = torch.as_tensor(indices, dtype=torch.long)
        queries = asked.clamp(min=0)
        answer_query, positions = expand_ranges(self.start[queries], self.counts[queries] * (asked >= 0))
        return EvaluationBatch(
            self.anchors[queries],
            self.relations[queries],
            self.head_queries[queries],
            self.answers[positions],
            answer_query,
            self.triples[positions],
        )
