import pytest
import torch
from torch.nn import functional as F

from lit_kgns.losses import self_adversarial_bce


def test_self_adversarial_bce_matches_upstream_formula():
    scores = torch.tensor([[2.0, 1.0, -1.0, 0.5], [0.0, 3.0, 3.0, -2.0]])
    weights = torch.softmax(scores[:, 1:], dim=1)
    positive = F.softplus(-scores[:, 0])
    negative = (weights * F.softplus(scores[:, 1:])).sum(1)
    expected = ((positive + negative) / 2).mean()
    assert self_adversarial_bce(scores, adversarial_temperature=1.0).item() == pytest.approx(
        expected.item(), rel=1e-6
    )


def test_zero_temperature_weighs_negatives_uniformly_and_mask_drops_slots():
    scores = torch.tensor([[1.0, 0.0, 2.0, 4.0]])
    mask = torch.tensor([[True, True, False]])
    expected = (F.softplus(-scores[0, 0]) + (F.softplus(scores[0, 1]) + F.softplus(scores[0, 2])) / 2) / 2
    assert self_adversarial_bce(scores, mask, 0.0).item() == pytest.approx(expected.item(), rel=1e-6)


def test_gradient_does_not_flow_through_adversarial_weights():
    scores = torch.tensor([[0.5, 1.0, -1.0]], requires_grad=True)
    self_adversarial_bce(scores).backward()
    weights = torch.softmax(scores.detach()[:, 1:], dim=1)
    expected = weights * torch.sigmoid(scores.detach()[:, 1:]) / 2
    assert torch.allclose(scores.grad[:, 1:], expected)
