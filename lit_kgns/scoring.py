"""Scoring a backbone on training candidates and on evaluation queries (used by the module and benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.data.evaluation_queries import EvaluationBatch
from lit_kgns.data.graph import KGGraph, LinkPredictionSplit
from lit_kgns.negatives import NegativeBatch


def score_candidates(
    backbone: KGBackbone, graph: KGGraph, positives: Tensor, negatives: NegativeBatch, hide_batch: bool = True
) -> Tensor:
    """``(B, 1 + K)`` scores: column 0 the positive's answer, then its ``K`` negatives.

    A head corruption of ``(h, r, t)`` is the query ``(?, r, t)``. With ``hide_batch`` the positives and
    every corrupted triple are removed from message passing (ULTRA's ``remove_easy_edges``). Training, the
    samplers' hardness and the KMAS diagnostics all score through here, so they hide the same edges.
    """
    queries = negatives.queries(positives, graph.num_direct_relations)
    candidates = torch.cat([queries.answers.unsqueeze(1), negatives.entities], dim=1)
    removed = torch.cat([positives.unsqueeze(1), negatives.triples(positives)], dim=1) if hide_batch else None
    return backbone(graph, queries.anchors, queries.relations, queries.head_queries, candidates, removed)


@torch.no_grad()
def diagnostic_scores(backbone: KGBackbone, graph: KGGraph, positives: Tensor, negatives: NegativeBatch) -> Tensor:
    """:func:`score_candidates` without gradient and in eval mode (the mode is restored): what samplers'
    diagnostics read, on the same hidden edges as training."""
    was_training = backbone.training
    backbone.eval()
    try:
        return score_candidates(backbone, graph, positives, negatives)
    finally:
        backbone.train(was_training)


@dataclass
class AllEntityScores:
    """Scores of every entity, one row per answer of an :class:`~lit_kgns.data.evaluation_queries.EvaluationBatch`."""

    scores: Tensor  # (A, N)
    answers: Tensor  # (A,) the true answer of each row
    known: Tensor  # (A, N) True for known true answers of the row's query (the filter), the answer included
    head_queries: Tensor  # (A,) bool


@torch.no_grad()
def score_answers(backbone: KGBackbone, split: LinkPredictionSplit, batch: EvaluationBatch) -> AllEntityScores:
    """Rank-ready scores of ``batch``'s answers on ``split``'s graph: one forward per query of the batch,
    shared by every answer of the query."""
    scores = backbone.score_all(split.graph, batch.anchors, batch.relations, batch.head_queries)
    known = known_answers(split, batch.anchors, batch.relations, batch.head_queries)
    rows = batch.answer_query
    if len(rows) == len(batch.anchors) and bool((rows == torch.arange(len(rows), device=rows.device)).all()):
        return AllEntityScores(scores, batch.answers, known, batch.head_queries)  # one answer a query
    return AllEntityScores(scores[rows], batch.answers, known[rows], batch.head_queries[rows])


def score_targets(backbone: KGBackbone, split: LinkPredictionSplit, triples: Tensor) -> AllEntityScores:
    """Per-triple evaluation (each target's queries scored for it alone, as upstream does): the tail query
    ``(h, r, ?)`` of each of ``triples``, then its head query unless ``split.tail_only``."""
    return score_answers(backbone, split, EvaluationBatch.of_triples(triples, split.tail_only))


def score_queries(backbone: KGBackbone, split: LinkPredictionSplit, queries: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Scores of every entity, known answers and directions of ``(B, 3)`` query rows (``-1`` at the ``?``)."""
    head_queries = queries[:, 0] < 0
    anchors, relations = torch.where(head_queries, queries[:, 2], queries[:, 0]), queries[:, 1]
    scores = backbone.score_all(split.graph, anchors, relations, head_queries)
    return scores, known_answers(split, anchors, relations, head_queries), head_queries


def known_answers(split: LinkPredictionSplit, anchors: Tensor, relations: Tensor, head_queries: Tensor) -> Tensor:
    """``(B, N)`` the known true answers of each query (the filter); the index holds a head query
    ``(?, r, t)`` under the inverse relation ``r + R``."""
    indexed = relations + head_queries.long() * split.graph.num_direct_relations
    return split.known_answers.answer_mask(anchors, indexed)


def top_answers(scores: Tensor, known: Tensor, k: int) -> torch.return_types.topk:
    """The ``k`` best-scored entities of each row with ``known`` ones left out (they get ``-inf``; with fewer
    candidates than ``k`` they end the list): what ``predict`` and the Python API return."""
    return scores.masked_fill(known, float("-inf")).topk(min(k, scores.shape[1]), dim=1)
