"""Exact, vectorised look-up of the true answers of ``(anchor, relation)`` queries."""

from __future__ import annotations

import torch
from torch import Tensor


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
        counts = end - start
        rows = torch.repeat_interleave(torch.arange(len(anchors), device=anchors.device), counts)
        offsets = torch.arange(int(counts.sum()), device=anchors.device) - torch.repeat_interleave(
            counts.cumsum(0) - counts, counts
        )
        mask = torch.zeros(len(anchors), self.num_nodes, dtype=torch.bool, device=anchors.device)
        mask[rows, self.answers[torch.repeat_interleave(start, counts) + offsets]] = True
        return mask

    def contains(self, anchors: Tensor, relations: Tensor, answers: Tensor) -> Tensor:
        """Boolean tensor (shape of ``answers``), True where ``answers`` is a true answer of the query.

        ``anchors`` and ``relations`` broadcast against ``answers`` (e.g. ``(B, 1)`` against ``(B, K)``).
        """
        keys = (anchors.long() * self.num_relations + relations.long()) * self.num_nodes + answers.long()
        position = torch.searchsorted(self.combined_keys, keys.reshape(-1)).clamp(
            max=len(self.combined_keys) - 1
        )
        found = self.combined_keys[position] == keys.reshape(-1)
        return found.view(keys.shape) if len(self.combined_keys) else torch.zeros_like(keys, dtype=torch.bool)
