import pytest
import torch
from torch.nn import functional as F

from lit_kgns.losses import NSSA, MarginRanking, SelfAdversarialBCE, self_adversarial_bce


def test_self_adversarial_bce_matches_upstream_formula():
    scores = torch.tensor([[2.0, 1.0, -1.0, 0.5], [0.0, 3.0, 3.0, -2.0]])
    weights = torch.softmax(scores[:, 1:], dim=1)
    positive = F.softplus(-scores[:, 0])
    negative = (weights * F.softplus(scores[:, 1:])).sum(1)
    expected = ((positive + negative) / 2).mean()
    assert self_adversarial_bce(scores, temperature=1.0).item() == pytest.approx(expected.item(), rel=1e-6)


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


def random_scores(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(6, 1, generator=generator), torch.randn(6, 5, generator=generator)


@pytest.mark.parametrize(("margin", "alpha"), [(9.0, 1.0), (6.0, 0.5), (3.0, 0.0)])
def test_nssa_equals_pykeen(margin, alpha):
    from pykeen.losses import NSSALoss

    positive, negative = random_scores()
    reference = NSSALoss(margin=margin, adversarial_temperature=alpha).process_slcwa_scores(positive, negative)
    ours = NSSA(margin, alpha)(torch.cat([positive, negative], dim=1))
    assert ours.item() == pytest.approx(reference.item(), rel=1e-5)


@pytest.mark.parametrize("margin", [1.0, 0.5])
def test_margin_ranking_equals_pykeen(margin):
    from pykeen.losses import MarginRankingLoss

    positive, negative = random_scores(1)
    reference = MarginRankingLoss(margin=margin).process_slcwa_scores(positive, negative)
    ours = MarginRanking(margin)(torch.cat([positive, negative], dim=1))
    assert ours.item() == pytest.approx(reference.item(), rel=1e-5)


def test_loss_modules_reject_negative_temperatures_and_wrap_the_functions():
    scores = torch.tensor([[1.0, 0.5, -0.5]])
    assert SelfAdversarialBCE(0.5)(scores).item() == pytest.approx(self_adversarial_bce(scores, None, 0.5).item())
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        SelfAdversarialBCE(-1.0)
    with pytest.raises(ValueError, match="inverse_temperature must be >= 0"):
        NSSA(inverse_temperature=-1.0)
