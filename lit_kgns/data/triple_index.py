"""Exact, vectorised look-up of the true answers of ``(anchor, relation)`` queries."""

from __future__ import annotations

from functools import cached_property

import torch
from torch import Tensor

#: Largest ``B * num_nodes`` for which a batch's answers are held as a dense ``(B, num_nodes)`` boolean mask;
#: larger batches (graphs of millions of entities) use a binary search over the batch's sorted answers.
DENSE_MASK_LIMIT = 1 << 26


class TripleIndex:
    """Sorted index of true triples for filtered ranking and strict negative sampling.

    Every triple ``(h, r, t)`` answers two queries: the tail query ``(h, r)`` with ``t`` and the head query
    ``(t, r + R)`` with ``h``. Both are stored as ``query key = anchor * 2R + relation`` sorted once, so
    that the answers of a batch of queries are found by binary search (CSR ranges), without Python sets.
    """

    def __init__(self, triples: Tensor, num_nodes: int, num_direct_relations: int) -> None:
        heads, relations, tails = triples.long().t()
        self.num_nodes = num_nodes
        self.num_relations = 2 * num_direct_relations
        anchors = torch.cat([heads, tails])
        query_relations = torch.cat([relations, relations + num_direct_relations])
        answers = torch.cat([tails, heads])
        # Sorting by (query key, answer) makes ``contains`` a single search on a combined key.
        combined = (anchors * self.num_relations + query_relations) * num_nodes + answers
        combined = torch.unique(combined)  # sorted, duplicates dropped
        self.combined_keys = combined
        self.query_keys = combined // num_nodes
        self.answers = combined % num_nodes

    def to(self, device: torch.device | str) -> TripleIndex:
        moved = object.__new__(TripleIndex)
        moved.num_nodes, moved.num_relations = self.num_nodes, self.num_relations
        moved.combined_keys = self.combined_keys.to(device)
        moved.query_keys = self.query_keys.to(device)
        moved.answers = self.answers.to(device)
        return moved

    def answer_ranges(self, anchors: Tensor, relations: Tensor) -> tuple[Tensor, Tensor]:
        """Start and end offsets into ``self.answers`` of each query's true answers."""
        keys = anchors.long() * self.num_relations + relations.long()
        start = torch.searchsorted(self.query_keys, keys, right=False)
        end = torch.searchsorted(self.query_keys, keys, right=True)
        return start, end

    def answer_mask(self, anchors: Tensor, relations: Tensor) -> Tensor:
        """``(B, num_nodes)`` boolean mask, True where the entity is a known answer of the query."""
        start, end = self.answer_ranges(anchors, relations)
        rows, positions = expand_ranges(start, end - start)
        mask = torch.zeros(len(anchors), self.num_nodes, dtype=torch.bool, device=anchors.device)
        mask[rows, self.answers.index_select(0, positions)] = True
        return mask

    def batch(self, anchors: Tensor, relations: Tensor, also: Tensor | None = None) -> QueryAnswers:
        """The true answers of ``B`` queries as one object (plus ``also`` ``(B,)``, e.g. the positives)."""
        return QueryAnswers(self, anchors, relations, also)

    def locate(self, anchors: Tensor, relations: Tensor, answers: Tensor) -> tuple[Tensor, Tensor]:
        """``(position, found)``: where each ``(query, answer)`` pair is (or would be) in ``combined_keys``,
        and whether it is a true triple. Arguments broadcast (e.g. ``(B, 1)`` against ``(B, K)``)."""
        keys = (anchors.long() * self.num_relations + relations.long()) * self.num_nodes + answers.long()
        if len(self.combined_keys) == 0:
            return torch.zeros_like(keys), torch.zeros_like(keys, dtype=torch.bool)
        position = torch.searchsorted(self.combined_keys, keys.reshape(-1)).clamp(max=len(self.combined_keys) - 1)
        found = self.combined_keys[position] == keys.reshape(-1)
        return position.view(keys.shape), found.view(keys.shape)

    def contains(self, anchors: Tensor, relations: Tensor, answers: Tensor) -> Tensor:
        """Boolean tensor (shape of ``answers``), True where ``answers`` is a true answer of the query.

        ``anchors`` and ``relations`` broadcast against ``answers`` (e.g. ``(B, 1)`` against ``(B, K)``).
        """
        return self.locate(anchors, relations, answers)[1]


def expand_ranges(start: Tensor, count: Tensor) -> tuple[Tensor, Tensor]:
    """``(rows, positions)``: every position of the ranges ``[start[i], start[i] + count[i])``, with its row ``i``."""
    rows = torch.repeat_interleave(torch.arange(len(start), device=start.device), count)
    first = (start - (count.cumsum(0) - count)).index_select(0, rows)
    return rows, torch.arange(len(rows), device=start.device) + first


class QueryAnswers:
    """The true answers of a batch of ``B`` queries, for exact membership tests of ``(B, K)`` candidates.

    A search in the whole index costs ``log2(2T)`` random reads per candidate; the answers of one batch are few
    (about 140k for 1,024 FB15k-237 queries), so they are gathered once and each candidate costs a single read
    of a dense ``(B, num_nodes)`` mask, or, above :data:`DENSE_MASK_LIMIT`, a search in the batch's sorted
    answers only.
    """

    def __init__(self, index: TripleIndex, anchors: Tensor, relations: Tensor, also: Tensor | None = None) -> None:
        self.index = index
        self.anchors, self.relations, self.also = anchors, relations, also
        self.num_queries, self.num_nodes = len(anchors), index.num_nodes

    @cached_property
    def pairs(self) -> tuple[Tensor, Tensor]:
        """``(rows, entities)``: every answer of every query, flat (gathered on first use)."""
        start, end = self.index.answer_ranges(self.anchors, self.relations)
        rows, positions = expand_ranges(start, end - start)
        entities = self.index.answers.index_select(0, positions)
        device = self.anchors.device
        if self.also is not None:
            rows = torch.cat([rows, torch.arange(self.num_queries, device=device)])
            entities = torch.cat([entities, self.also.long()])
        return rows, entities

    @property
    def dense(self) -> bool:
        return self.num_queries * self.num_nodes <= DENSE_MASK_LIMIT

    @cached_property
    def mask(self) -> Tensor:
        """``(B, num_nodes)`` boolean mask of the answers."""
        rows, entities = self.pairs
        mask = torch.zeros(self.num_queries * self.num_nodes, dtype=torch.bool, device=rows.device)
        return mask.index_fill_(0, rows * self.num_nodes + entities, True).view(self.num_queries, self.num_nodes)

    @cached_property
    def sorted_keys(self) -> Tensor:
        rows, entities = self.pairs
        return torch.sort(rows * self.num_nodes + entities).values

    def contains(self, candidates: Tensor) -> Tensor:
        """``(B, K)`` boolean: is ``candidates[i, j]`` a true answer of query ``i``?"""
        rows = torch.arange(self.num_queries, device=candidates.device).unsqueeze(1)
        return self.contains_pairs(rows.expand_as(candidates), candidates)

    def contains_pairs(self, rows: Tensor, candidates: Tensor) -> Tensor:
        """Boolean of the shape of ``candidates``: is ``candidates`` a true answer of query ``rows``?"""
        keys = (rows * self.num_nodes + candidates).reshape(-1)
        if self.dense:  # a flat index_select: on CPU several times faster than indexing the 2-D mask
            return self.mask.view(-1).index_select(0, keys).view(candidates.shape)
        sorted_keys = self.sorted_keys
        if len(sorted_keys) == 0:
            return torch.zeros_like(candidates, dtype=torch.bool)
        position = torch.searchsorted(sorted_keys, keys).clamp(max=len(sorted_keys) - 1)
        return (sorted_keys[position] == keys).view(candidates.shape)

    def rows_mask(self, rows: Tensor) -> Tensor:
        """``(len(rows), num_nodes)`` answer mask of the queries ``rows`` only."""
        if self.dense:
            return self.mask[rows]
        also = None if self.also is None else self.also[rows]
        return QueryAnswers(self.index, self.anchors[rows], self.relations[rows], also).mask
