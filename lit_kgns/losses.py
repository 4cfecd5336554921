"""Losses over ``(B, 1 + K)`` scores whose first column is the positive, as functions and as the modules the
LightningModule takes (``model.loss`` in a config)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lit_kgns.errors import ConfigError


def negative_weights(
    negative_scores: Tensor,
    mask: Tensor,
    temperature: float,
    offsets: Tensor | None = None,
    slot_weights: Tensor | None = None,
) -> Tensor:
    """Weights of the ``(B, K)`` negatives, summing to 1 per row over valid slots (before ``slot_weights``).

    Self-adversarial (Sun et al., 2019): ``softmax(score / T + offset)`` computed without gradient; ``T = 0``
    gives uniform weights. ``offsets`` shift the logits (a sampler's ``log q`` correction); ``slot_weights``
    then scale each weight (a sampler's lower weight for some slots).
    """
    if temperature > 0:
        with torch.no_grad():
            logits = negative_scores / temperature
            if offsets is not None:
                logits = logits + offsets
            weights = torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=-1)
            weights = torch.nan_to_num(weights, nan=0.0)  # rows without any valid negative
    else:
        weights = mask.float()
        weights = weights / weights.sum(dim=-1, keepdim=True).clamp(min=1)
    return weights if slot_weights is None else weights * slot_weights


def self_adversarial_bce(
    scores: Tensor,
    mask: Tensor | None = None,
    temperature: float = 1.0,
    offsets: Tensor | None = None,
    slot_weights: Tensor | None = None,
) -> Tensor:
    """ULTRA's loss: BCE with target 1 for column 0, negatives weighted self-adversarially.

    Per row ``(bce(s_0, 1) + sum_k w_k bce(s_k, 0)) / (1 + sum_k w_k)``, then the mean over rows;
    ``w`` from :func:`negative_weights` (``offsets`` and ``slot_weights`` as there).
    """
    if mask is None:
        mask = torch.ones_like(scores[:, 1:], dtype=torch.bool)
    target = torch.zeros_like(scores)
    target[:, 0] = 1
    loss = F.binary_cross_entropy_with_logits(scores, target, reduction="none")
    negatives = negative_weights(scores[:, 1:], mask, temperature, offsets, slot_weights)
    weights = torch.cat([torch.ones_like(scores[:, :1]), negatives], 1)
    return ((loss * weights).sum(dim=-1) / weights.sum(dim=-1)).mean()


def margin_ranking(
    scores: Tensor,
    mask: Tensor | None = None,
    margin: float = 1.0,
    offsets: Tensor | None = None,
    slot_weights: Tensor | None = None,
) -> Tensor:
    """Pairwise hinge (PyKEEN's ``MarginRankingLoss``): mean of ``relu(γ - s_b0 + s_bk)``.

    Taken over the valid ``(b, k)`` pairs; masked negatives contribute nothing; ``slot_weights`` scale each
    pair (``offsets`` have no meaning without adversarial weights and are ignored).
    """
    if mask is None:
        mask = torch.ones_like(scores[:, 1:], dtype=torch.bool)
    hinge = F.relu(margin - scores[:, :1] + scores[:, 1:])
    weights = mask.float() if slot_weights is None else mask * slot_weights
    return (hinge * weights).sum() / mask.sum().clamp(min=1)


def nssa(
    scores: Tensor,
    mask: Tensor | None = None,
    margin: float = 9.0,
    inverse_temperature: float = 1.0,
    offsets: Tensor | None = None,
    slot_weights: Tensor | None = None,
) -> Tensor:
    """Negative sampling self-adversarial loss (Sun et al., 2019; PyKEEN's ``NSSALoss`` semantics).

    ``½ · [ -mean_b log σ(γ + s_b0) + mean_b Σ_k w_bk · (-log σ(-s_bk - γ)) ]`` with detached weights
    ``w_b = softmax(α · s_b,1:)`` over the valid negatives (``α`` multiplies, as in PyKEEN; ``α = 0`` gives
    uniform weights). Scores are plausibilities (e.g. negative distances), so ``γ + s`` is ``γ - d``.
    ``offsets`` shift the weight logits, ``slot_weights`` scale the weights (:func:`negative_weights`).
    """
    if mask is None:
        mask = torch.ones_like(scores[:, 1:], dtype=torch.bool)
    negatives = scores[:, 1:]
    # α multiplies the scores where negative_weights divides them by T: T = 1 / α, and α = 0 is uniform (T = 0)
    temperature = 1.0 / inverse_temperature if inverse_temperature > 0 else 0.0
    weights = negative_weights(negatives, mask, temperature, offsets, slot_weights)
    positive_loss = -F.logsigmoid(margin + scores[:, 0]).mean()
    negative_loss = (weights * -F.logsigmoid(-negatives - margin)).sum(dim=-1).mean()
    return 0.5 * (positive_loss + negative_loss)


class SelfAdversarialBCE(nn.Module):
    """ULTRA's loss as a module (:func:`self_adversarial_bce`).

    Args:
        temperature: ``T`` of the self-adversarial weights ``softmax(s / T)``; 0 for uniform weights.
    """

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__()
        if temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {temperature}")
        self.temperature = temperature

    def forward(
        self,
        scores: Tensor,
        mask: Tensor | None = None,
        offsets: Tensor | None = None,
        slot_weights: Tensor | None = None,
    ) -> Tensor:
        return self_adversarial_bce(scores, mask, self.temperature, offsets, slot_weights)


class MarginRanking(nn.Module):
    """Pairwise hinge, PyKEEN's ``MarginRankingLoss`` (:func:`margin_ranking`).

    Args:
        margin: ``γ``.
    """

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__()
        self.margin = margin

    def forward(
        self,
        scores: Tensor,
        mask: Tensor | None = None,
        offsets: Tensor | None = None,
        slot_weights: Tensor | None = None,
    ) -> Tensor:
        return margin_ranking(scores, mask, self.margin, offsets, slot_weights)


class NSSA(nn.Module):
    """Negative sampling self-adversarial loss, PyKEEN's ``NSSALoss`` (:func:`nssa`).

    Args:
        margin: ``γ``.
        inverse_temperature: ``α`` of the weights ``softmax(α s)`` (PyKEEN's ``adversarial_temperature``,
            which multiplies); 0 for uniform weights.
    """

    def __init__(self, margin: float = 9.0, inverse_temperature: float = 1.0) -> None:
        super().__init__()
        if inverse_temperature < 0:
            raise ConfigError(f"inverse_temperature must be >= 0, got {inverse_temperature}")
        self.margin = margin
        self.inverse_temperature = inverse_temperature

    def forward(
        self,
        scores: Tensor,
        mask: Tensor | None = None,
        offsets: Tensor | None = None,
        slot_weights: Tensor | None = None,
    ) -> Tensor:
        return nssa(scores, mask, self.margin, self.inverse_temperature, offsets, slot_weights)
