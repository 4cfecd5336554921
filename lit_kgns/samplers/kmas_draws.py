"""A KMAS batch from its hard candidates: filtered against the known answers, retried, mixed with uniform ones.

``k_hard = round(ρ K)`` hard candidates fill the first slots, strict-uniform draws the other ``K - k_hard``; a
hard candidate equal to the positive's answer or forming a known training triple with the query is replaced:
first by one of its row's spare candidates (``k_hard / 8`` more are drawn with the others, and the valid ones
fill the row in draw order, so that the common case of a few invalid slots costs no second draw), then by up
to ``max_retries`` redraws of its own, then its slot is drawn as the uniform ones are (strict uniform: never an
answer). Each replacement is a fresh draw from the same distribution, filtered alike.

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
from lit_kgns.samplers.uniform import redraw_rejected

HardDraw = Callable[[Tensor, int], tuple[Tensor, Tensor | None, Tensor]]

#: Spare hard candidates drawn per row: one for every this many hard slots (none without retries).
SLOTS_PER_SPARE = 8


def candidate_draw(
    table: EntityTable | None,
    cache: SimilarityCache,
    tails: RelationTails,
    generator: torch.Generator,
    with_probabilities: bool = True,
) -> HardDraw:
    """The hard draw of one graph: from its draw table (``q(e)`` beside each draw if ``with_probabilities``),
    else relation first, tail second (no ``q(e)``)."""
    if table is not None:
        return lambda query_relations, n: table.draw(query_relations, n, generator, with_probabilities)

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


def hybrid_draws(
    known: QueryAnswers,
    draw: HardDraw,
    query_relations: Tensor,
    num_hard: int,
    num_negatives: int,
    retries: Retries,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """``(entities, mask, hard, probabilities)``, all ``(B, K)``: valid hard candidates in the first
    ``num_hard`` slots (``hard`` marks them), strict-uniform draws in the others; ``q(e)`` of the hard slots
    where the draw gave it (``None`` otherwise). Hard and uniform candidates are tested against the answers at
    once; a hard slot left without a valid candidate is redrawn with the uniform ones, in the same rejection
    rounds (module docstring)."""
    spares = -(-num_hard // SLOTS_PER_SPARE) if retries.max_retries > 0 else 0
    candidates, probabilities, drawn = draw(query_relations, num_hard + spares)
    shape = (known.num_queries, num_negatives - num_hard)
    uniform = torch.randint(known.num_nodes, shape, generator=generator, device=candidates.device)
    answer = known.contains(torch.cat([candidates, uniform], dim=1))
    hard = HardDraws(candidates, probabilities, drawn & ~answer[:, : num_hard + spares])
    hard = retried(known, draw, query_relations, first_valid(hard, num_hard, retries.unique_hard), retries)
    entities = torch.cat([hard.entities, uniform], dim=1)
    rejected = torch.cat([~hard.valid, answer[:, num_hard + spares :]], dim=1)
    entities, mask = redraw_rejected(known, entities, rejected, generator)
    hard_mask = torch.cat([hard.valid, torch.zeros_like(uniform, dtype=torch.bool)], dim=1)
    probabilities = hard.probabilities
    if probabilities is not None:
        probabilities = torch.cat([probabilities, torch.zeros(shape, device=uniform.device)], dim=1)
    return entities, mask, hard_mask, probabilities


def first_valid(hard: HardDraws, n: int, unique: bool = False) -> HardDraws:
    """The first ``n`` valid candidates of each row (with ``unique``, no copy of an earlier valid one), in
    draw order; a row with fewer keeps invalid slots at its end. A scatter by rank, not a sort."""
    valid = hard.valid & ~earlier_copies(hard.entities, hard.valid) if unique else hard.valid
    if hard.entities.shape[1] == n:
        return HardDraws(hard.entities, hard.probabilities, valid)
    rank = valid.cumsum(1) - 1
    slot = torch.where(valid & (rank < n), rank, n)  # column n collects the rest, then is dropped
    kept = torch.arange(n, device=valid.device) < valid.sum(1, keepdim=True)
    size = (valid.shape[0], n + 1)
    entities = hard.entities.new_zeros(size).scatter_(1, slot, hard.entities)[:, :n]
    probabilities = hard.probabilities
    if probabilities is not None:
        probabilities = probabilities.new_zeros(size).scatter_(1, slot, probabilities)[:, :n]
    return HardDraws(entities, probabilities, kept)


def retried(
    known: QueryAnswers, draw: HardDraw, query_relations: Tensor, hard: HardDraws, retries: Retries
) -> HardDraws:
    """``hard`` with each invalid slot given up to ``max_retries`` more candidates, the first valid one
    winning: drawn at once for all invalid slots (one round), or one a round with ``unique_hard``, where a
    redraw can be a copy again."""
    entities, probabilities, valid = hard.entities, hard.probabilities, hard.valid
    max_retries = retries.max_retries
    rounds, tries = (max_retries, 1) if retries.unique_hard else (min(max_retries, 1), max_retries)
    for _ in range(rounds):
        rows, columns = (~valid).nonzero(as_tuple=True)
        if len(rows) == 0:
            break
        drawn, drawn_q, ok = draw(query_relations[rows], tries)
        ok = ok & ~known.contains_pairs(rows.unsqueeze(1).expand_as(drawn), drawn)
        first = ok.int().argmax(1, keepdim=True)  # the first valid try (any, where none is)
        found = ok.any(1)
        entities[rows, columns] = torch.where(found, drawn.gather(1, first).squeeze(1), entities[rows, columns])
        if probabilities is not None and drawn_q is not None:
            chosen_q = drawn_q.gather(1, first).squeeze(1)
            probabilities[rows, columns] = torch.where(found, chosen_q, probabilities[rows, columns])
        valid[rows, columns] = found
        if retries.unique_hard:
            valid = valid & ~earlier_copies(entities, valid)
    return HardDraws(entities, probabilities, valid)


def log_q_offsets(probabilities: Tensor, hard: Tensor, num_nodes: int, alpha: float) -> Tensor:
    """The log-q correction of the adversarial logits: ``-α log(q(e) N)`` on the hard slots, 0 elsewhere."""
    shift = -alpha * torch.log((probabilities * num_nodes).clamp(min=1e-12))
    return torch.where(hard, shift, 0.0)
