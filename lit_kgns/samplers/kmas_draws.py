"""A KMAS batch from its hard candidates: filtered against the known answers, retried, mixed with uniform ones.

``k_hard = round(ρ K)`` hard candidates fill the first slots, strict-uniform draws the other ``K - k_hard``; a
hard candidate equal to the positive's answer or forming a known training triple with the query is redrawn
up to ``max_retries`` times, then its slot takes one uniform draw (left out of the loss if that too is an
answer).

The functions take the hard draw as a callable, ``draw(query_relations, n) -> (entities, q or None, drawn)``
(:func:`candidate_draw`: the draw table, else relation first, tail second),
so that they know nothing of caches or tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from lit_kgns.data.triple_index import QueryAnswers
from lit_kgns.samplers.kmas_similarity import RelationTails, SimilarityCache, draw_hard, earlier_copies
from lit_kgns.samplers.kmas_tables import EntityTable
from lit_kgns.samplers.uniform import draw_non_answers

HardDraw = Callable[[Tensor, int], tuple[Tensor, Tensor | None, Tensor]]


def candidate_draw(
    table: EntityTable | None, cache: SimilarityCache, tails: RelationTails, generator: torch.Generator
) -> HardDraw:
    """The hard draw of one graph: from its draw table, else relation first, tail second (no ``q(e)``)."""
    if table is not None:
        return lambda query_relations, n: table.draw(query_relations, n, generator)

    def relation_first(query_relations: Tensor, n: int) -> tuple[Tensor, Tensor | None, Tensor]:
        entities, drawn = draw_hard(cache, tails, query_relations, n, generator)
        return entities, None, drawn

    return relation_first


@dataclass(frozen=True)
class Retries:
    """Up to ``max_retries`` more candidates for an invalid hard slot; ``unique_hard``: a copy of a slot to
    its left is invalid too."""

    max_retries: int = 2
    unique_hard: bool = False


@dataclass
class HardDraws:
    """``(B, n)`` hard candidates, their ``q(e)`` (``None`` without a draw table) and whether each is valid."""

    entities: Tensor
    probabilities: Tensor | None
    valid: Tensor


def filtered_hard_draws(
    known: QueryAnswers, draw: HardDraw, query_relations: Tensor, num_hard: int, retries: Retries
) -> HardDraws:
    """Hard candidates that are valid negatives: not a known answer of their query (with ``unique_hard`` not
    a copy of a slot to their left). An invalid slot gets up to ``max_retries`` more candidates, the first
    valid one wins: drawn at once for all invalid slots (one round), or one a round with ``unique_hard``,
    where a redraw can be a copy again."""
    entities, probabilities, valid = draw(query_relations, num_hard)
    valid = valid & ~known.contains(entities)
    max_retries = retries.max_retries
    rounds, tries = (max_retries, 1) if retries.unique_hard else (min(max_retries, 1), max_retries)
    for _ in range(rounds + 1):
        if retries.unique_hard:
            valid = valid & ~earlier_copies(entities, valid)
        rows, columns = (~valid).nonzero(as_tuple=True)
        if rounds == 0 or len(rows) == 0:
            break
        rounds -= 1
        drawn, drawn_q, ok = draw(query_relations[rows], tries)
        ok = ok & ~known.contains_pairs(rows.unsqueeze(1).expand_as(drawn), drawn)
        first = ok.int().argmax(1, keepdim=True)  # the first valid try (any, where none is)
        found = ok.any(1)
        entities[rows, columns] = torch.where(found, drawn.gather(1, first).squeeze(1), entities[rows, columns])
        if probabilities is not None and drawn_q is not None:
            chosen_q = drawn_q.gather(1, first).squeeze(1)
            probabilities[rows, columns] = torch.where(found, chosen_q, probabilities[rows, columns])
        valid[rows, columns] = found
    return HardDraws(entities, probabilities, valid)


def hybrid_draws(
    known: QueryAnswers, hard: HardDraws, num_negatives: int, generator: torch.Generator
) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """``(entities, mask, hard, probabilities)``, all ``(B, K)``: the hard candidates in the first slots
    (``hard`` marks the valid ones), strict-uniform draws in the other ``K - n``; ``q(e)`` of the hard slots
    where the draw gave it (``None`` otherwise). A hard slot left without a valid candidate takes one uniform
    draw, valid unless it is an answer too."""
    uniform, uniform_valid = draw_non_answers(known, num_negatives - hard.entities.shape[1], generator)
    rows, columns = (~hard.valid).nonzero(as_tuple=True)
    fallback = torch.randint(known.num_nodes, rows.shape, generator=generator, device=rows.device)
    hard_slots = hard.entities.clone()
    hard_slots[rows, columns] = fallback
    usable = hard.valid.clone()
    usable[rows, columns] = ~known.contains_pairs(rows, fallback)
    entities = torch.cat([hard_slots, uniform], dim=1)
    mask = torch.cat([usable, uniform_valid], dim=1)
    hard_mask = torch.cat([hard.valid, torch.zeros_like(uniform_valid)], dim=1)
    probabilities = hard.probabilities
    if probabilities is not None:
        probabilities = torch.cat([probabilities, torch.zeros(uniform.shape, device=uniform.device)], dim=1)
    return entities, mask, hard_mask, probabilities


def log_q_offsets(probabilities: Tensor, hard: Tensor, num_nodes: int, alpha: float) -> Tensor:
    """The log-q correction of the adversarial logits: ``-α log(q(e) N)`` on the hard slots, 0 elsewhere."""
    shift = -alpha * torch.log((probabilities * num_nodes).clamp(min=1e-12))
    return torch.where(hard, shift, 0.0)
