"""Uniform corruption: over all entities, or over the entities that are not known true answers."""

from __future__ import annotations

import torch
from torch import Tensor

from lit_kgns.data.triple_index import QueryAnswers
from lit_kgns.negatives import NegativeBatch
from lit_kgns.samplers.base import NegativeSampler

#: Rejection rounds before the rows still holding true answers are drawn exactly from their complement.
REJECTION_ROUNDS = 3


def sample_from_mask(candidates: Tensor, num_samples: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
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


def draw_non_answers(
    answers: QueryAnswers, num_samples: int, generator: torch.Generator, rounds: int = REJECTION_ROUNDS
) -> tuple[Tensor, Tensor]:
    """``(entities, valid)`` ``(B, num_samples)``: uniform over the entities that are not answers of each query.

    Rejection sampling: draw uniformly, redraw the slots that hit an answer; a typical query has few answers,
    so after ``rounds`` rounds only rows whose answers cover most entities are left, and those rows are drawn
    exactly from their complement (:func:`sample_from_mask`). No ``(B, num_nodes)`` index list is built.
    """
    shape = (answers.num_queries, num_samples)
    entities = torch.randint(answers.num_nodes, shape, generator=generator, device=answers.anchors.device)
    return redraw_rejected(answers, entities, answers.contains(entities), generator, rounds)


def redraw_rejected(
    answers: QueryAnswers,
    entities: Tensor,
    rejected: Tensor,
    generator: torch.Generator,
    rounds: int = REJECTION_ROUNDS,
) -> tuple[Tensor, Tensor]:
    """``(entities, valid)``: the ``rejected`` slots of ``entities`` (``(B, K)``, changed in place) redrawn
    uniformly among the entities that are not answers of their query, as :func:`draw_non_answers` does."""
    shape, device = entities.shape, entities.device
    for _ in range(rounds):
        rows, columns = rejected.nonzero(as_tuple=True)
        if len(rows) == 0:
            return entities, torch.ones(shape, dtype=torch.bool, device=device)
        redrawn = torch.randint(answers.num_nodes, rows.shape, generator=generator, device=device)
        entities[rows, columns] = redrawn
        rejected[rows, columns] = answers.contains_pairs(rows, redrawn)
    valid = torch.ones(shape, dtype=torch.bool, device=device)
    rows = rejected.any(dim=1).nonzero().squeeze(1)
    if len(rows):
        exact, exact_valid = sample_from_mask(~answers.rows_mask(rows), shape[1], generator)
        entities[rows] = torch.where(rejected[rows], exact, entities[rows])
        valid[rows] = ~rejected[rows] | exact_valid
    return entities, valid


class UniformSampler(NegativeSampler):
    """Replace the head or tail by an entity drawn uniformly from all entities (may hit true triples)."""

    def corrupt(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> NegativeBatch:
        graph = self.graphs[graph_id].graph
        entities = torch.randint(
            graph.num_nodes,
            (len(positives), self.num_negatives),
            generator=self.generator,
            device=positives.device,
        )
        return NegativeBatch(entities, head_corrupted, torch.ones_like(entities, dtype=torch.bool))


class StrictUniformSampler(NegativeSampler):
    """Uniform over the entities that do not form a known training triple with the query (ULTRA's default).

    For a tail corruption of ``(h, r, t)`` every ``t'`` with ``(h, r, t')`` in the training graph is
    excluded, the positive included; head corruptions likewise. Filtering is exact (a sorted index and
    rejection sampling, see :func:`draw_non_answers`; no sets).
    """

    def corrupt(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> NegativeBatch:
        queries = self.queries(positives, head_corrupted, graph_id)
        known = self.graphs[graph_id].known.batch(queries.anchors, queries.query_relations, also=queries.answers)
        entities, mask = draw_non_answers(known, self.num_negatives, self.generator)
        return NegativeBatch(entities, head_corrupted, mask)
