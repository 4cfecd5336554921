"""Losses over ``(B, 1 + K)`` scores whose first column is the positive."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


def negative_weights(negative_scores: Tensor, mask: Tensor, adversarial_temperature: float) -> Tensor:
    """Weights of the ``(B, K)`` negatives, summing to 1 per row over valid slots.

    Self-adversarial (Sun et al., 2019): ``softmax(score / T)`` computed without gradient; ``T = 0`` gives
    uniform weights.
    """
    if adversarial_temperature > 0:
        with torch.no_grad():
            logits = (negative_scores / adversarial_temperature).masked_fill(~mask, float("-inf"))
            weights = torch.softmax(logits, dim=-1)
            return torch.nan_to_num(weights, nan=0.0)  # rows without any valid negative
    weights = mask.float()
    return weights / weights.sum(dim=-1, keepdim=True).clamp(min=1)


def self_adversarial_bce(scores: Tensor, mask: Tensor | None = None, adversarial_temperature: float = 1.0) -> Tensor:
    """ULTRA's loss: BCE with target 1 for column 0, negatives weighted self-adversarially.

    Per row ``(bce(s_0, 1) + sum_k w_k bce(s_k, 0)) / (1 + sum_k w_k)``, then the mean over rows.
    """
    if mask is None:
        mask = torch.ones_like(scores[:, 1:], dtype=torch.bool)
    target = torch.zeros_like(scores)
    target[:, 0] = 1
    loss = F.binary_cross_entropy_with_logits(scores, target, reduction="none")
    weights = torch.cat([torch.ones_like(scores[:, :1]), negative_weights(scores[:, 1:], mask, adversarial_temperature)], 1)
    return ((loss * weights).sum(dim=-1) / weights.sum(dim=-1)).mean()
