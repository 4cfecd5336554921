"""Uniform corruption: over all entities, or over the entities that are not known true answers."""

from __future__ import annotations

import torch
from torch import Tensor

from lit_kgns.samplers.base import NegativeSampler


def sample_from_mask(
    candidates: Tensor, num_samples: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Draw ``num_samples`` entities per row uniformly (with replacement) among the True entries.

    Returns ``(entities, valid)``; a row without any candidate yields invalid slots (entity 0).
    This is upstream ULTRA's trick: offsets into the row-major list of candidate positions.
    """
    counts = candidates.sum(dim=1)  # (B,)
    positions = candidates.nonzero()[:, 1]
    uniform = torch.rand(len(candidates), num_samples, generator=generator, device=candidates.device)
    index = (uniform * counts.unsqueeze(1)).long().clamp(max=(counts - 1).clamp(min=0).unsqueeze(1))
    index = index + (counts.cumsum(0) - counts).unsqueeze(1)
    valid = (counts > 0).unsqueeze(1).expand(-1, num_samples)
    if len(positions) == 0:
        return torch.zeros_like(index), valid
    return positions[index.clamp(max=len(positions) - 1)], valid


class UniformSampler(NegativeSampler):
    """Replace the head or tail by an entity drawn uniformly from all entities (may hit true triples)."""

    def corrupt(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> tuple[Tensor, Tensor]:
        graph = self.graphs[graph_id].graph
        entities = torch.randint(
            graph.num_nodes,
            (len(positives), self.num_negatives),
            generator=self.generator,
            device=positives.device,
        )
        return entities, torch.ones_like(entities, dtype=torch.bool)


class StrictUniformSampler(NegativeSampler):
    """Uniform over the entities that do not form a known training triple with the query (ULTRA's default).

    For a tail corruption of ``(h, r, t)`` every ``t'`` with ``(h, r, t')`` in the training graph is
    excluded, the positive included; head corruptions likewise. Filtering is exact (sorted index, no sets).
    """

    def corrupt(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> tuple[Tensor, Tensor]:
        context = self.graphs[graph_id]
        anchors, query_relations, answers = self.query(positives, head_corrupted, context.graph)
        candidates = ~context.known.answer_mask(anchors, query_relations)
        candidates[torch.arange(len(answers), device=answers.device), answers] = False
        return sample_from_mask(candidates, self.num_negatives, self.generator)
