"""Filtered link-prediction ranking metrics with exact sums across DDP ranks."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor
from torchmetrics import Metric

from lit_kgns.options import check_choice

TiePolicy = Literal["pessimistic", "realistic", "optimistic"]


def filtered_ranks(
    scores: Tensor, targets: Tensor, known_answers: Tensor, ties: TiePolicy = "pessimistic"
) -> tuple[Tensor, Tensor]:
    """1-based filtered ranks of ``targets`` among all entities.

    Args:
        scores: ``(B, N)`` scores of every entity.
        targets: ``(B,)`` index of the true answer in each row.
        known_answers: ``(B, N)`` True for entities that are true answers (filtered out; the target
            itself is always excluded from the candidates).
        ties: ``pessimistic`` (ULTRA: a tie counts as ranked above the target), ``realistic`` (half of
            the ties) or ``optimistic``.

    Returns:
        ``(ranks, num_negatives)``: float ranks and the number of candidates left after filtering.
    """
    check_choice("ties", ties, TiePolicy)
    rows = torch.arange(len(targets), device=scores.device)
    candidates = ~known_answers
    candidates[rows, targets] = False
    target_scores = scores[rows, targets].unsqueeze(1)
    greater = ((scores > target_scores) & candidates).sum(dim=1)
    equal = ((scores == target_scores) & candidates).sum(dim=1)
    if ties == "pessimistic":
        ranks = 1.0 + greater + equal
    elif ties == "realistic":
        ranks = 1.0 + greater + 0.5 * equal
    else:
        ranks = 1.0 + greater
    return ranks.double(), candidates.sum(dim=1)


def hits_at_k_against_sampled(ranks: Tensor, num_negatives: Tensor, k: int = 10, num_samples: int = 50) -> Tensor:
    """Unbiased per-query estimate of Hits@k against ``num_samples - 1`` random negatives (GraIL protocol).

    With false-positive rate ``p = (rank - 1) / num_negatives``, the chance that fewer than ``k`` of the
    ``num_samples - 1`` drawn negatives outrank the target is ``sum_{i<k} C(n-1, i) p^i (1-p)^(n-1-i)``,
    as in upstream ULTRA's ``hits@10_50``.
    """
    rate = (ranks - 1) / num_negatives.clamp(min=1).double()
    estimate = torch.zeros_like(rate)
    for i in range(k):
        estimate += math.comb(num_samples - 1, i) * rate**i * (1 - rate) ** (num_samples - 1 - i)
    return estimate


class RankingMetrics(Metric):
    """MRR, MR, Hits@k and Hits@10 against 50 sampled negatives, kept as sums (exact under DDP), and the
    number of queries ranked. ``hits@10_50`` is left out when a query had fewer than 49 candidates (graphs of
    under 50 entities, such as Nations)."""

    full_state_update = False
    higher_is_better = True

    def __init__(self, hits_at: tuple[int, ...] = (1, 3, 10), **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.hits_at = tuple(hits_at)
        self.add_state("count", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("reciprocal_rank_sum", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("rank_sum", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("hits", torch.zeros(len(self.hits_at), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("hits_10_50", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        # queries with fewer than 49 candidates, for which "Hits@10 against 50 sampled" has no meaning
        self.add_state("too_few_for_50", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, ranks: Tensor, num_negatives: Tensor) -> None:
        ranks = ranks.double()
        self.count += ranks.numel()
        self.reciprocal_rank_sum += (1.0 / ranks).sum()
        self.rank_sum += ranks.sum()
        self.hits += torch.stack([(ranks <= k).sum().double() for k in self.hits_at])
        self.hits_10_50 += hits_at_k_against_sampled(ranks, num_negatives).sum()
        self.too_few_for_50 += (num_negatives < 49).sum().double()

    def compute(self) -> dict[str, Tensor]:
        count = self.count.clamp(min=1)
        result = {"mrr": self.reciprocal_rank_sum / count, "mr": self.rank_sum / count}
        for k, hits in zip(self.hits_at, self.hits, strict=True):
            result[f"hits@{k}"] = hits / count
        if self.too_few_for_50 == 0:  # not reported on graphs too small to draw 49 negatives
            result["hits@10_50"] = self.hits_10_50 / count
        result["num_queries"] = self.count
        return {key: value.float() for key, value in result.items()}
