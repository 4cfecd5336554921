"""KMAS variants against false negatives and over-hardening, each checked on hand-built cases."""

from __future__ import annotations

import pytest
import torch
from test_kmas import make_sampler
from toy_graphs import NUM_ENTITIES, typed_split, typed_triples

from lit_kgns.losses import NSSA, SelfAdversarialBCE, negative_weights, self_adversarial_bce
from lit_kgns.negatives import NegativeBatch
from lit_kgns.samplers.kmas_similarity import (
    SimilarityCache,
    draw_hard,
    earlier_copies,
    hard_probabilities,
    relation_tails,
)


# ----------------------------------------------------------------------------- loss side
def test_offsets_shift_the_adversarial_logits_and_slot_weights_scale_the_weights() -> None:
    scores = torch.tensor([[0.5, 1.0, -1.0, 2.0]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    offsets = torch.tensor([[0.0, 1.0, -2.0]])
    slot = torch.tensor([[1.0, 0.5, 0.25]])
    expected = torch.softmax(scores[:, 1:] / 2.0 + offsets, dim=-1) * slot
    assert torch.allclose(negative_weights(scores[:, 1:], mask, 2.0, offsets, slot), expected)

    bce = torch.nn.functional.binary_cross_entropy_with_logits
    target = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    terms = bce(scores, target, reduction="none")
    weights = torch.cat([torch.ones(1, 1), expected], 1)
    manual = (terms * weights).sum() / weights.sum()
    loss = SelfAdversarialBCE(temperature=2.0)(scores, mask, offsets=offsets, slot_weights=slot)
    assert loss.item() == pytest.approx(manual.item())
    assert self_adversarial_bce(scores, mask, 2.0).item() != pytest.approx(loss.item())


def test_nssa_takes_the_same_offsets_and_slot_weights() -> None:
    scores = torch.tensor([[-1.0, -3.0, -0.5]])
    offsets, slot = torch.tensor([[0.3, -0.3]]), torch.tensor([[0.5, 1.0]])
    weights = torch.softmax(scores[:, 1:] + offsets, dim=-1) * slot
    positive = -torch.nn.functional.logsigmoid(9.0 + scores[:, 0]).mean()
    negative = (weights * -torch.nn.functional.logsigmoid(-scores[:, 1:] - 9.0)).sum()
    loss = NSSA()(scores, None, offsets=offsets, slot_weights=slot)
    assert loss.item() == pytest.approx(0.5 * (positive + negative).item())


def test_semi_hard_guard_removes_only_hard_slots_scoring_near_or_above_the_positive() -> None:
    scores = torch.tensor([[1.0, 1.5, 0.95, 0.5, 1.5], [0.0, -0.2, -0.05, 0.3, 0.0]], requires_grad=True)
    hard = torch.tensor([[True, True, True, False], [True, True, False, False]])
    mask = torch.tensor([[True, True, True, True], [True, True, True, False]])
    negatives = NegativeBatch(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, dtype=torch.bool), mask, hard)
    assert torch.equal(negatives.loss_mask(scores), mask)  # no guard: the valid slots
    negatives.guard_margin = 0.1
    # row 0: hard 1.5 >= 0.9 out, hard 0.95 >= 0.9 out, hard 0.5 stays, random 1.5 stays (not hard)
    # row 1: hard -0.2 < -0.1 stays, hard -0.05 >= -0.1 out, random 0.3 stays, slot 3 invalid
    expected = torch.tensor([[False, False, True, True], [True, False, True, False]])
    assert torch.equal(negatives.loss_mask(scores), expected)
    assert negatives.rows(1).guard_margin == 0.1


def test_loss_options_are_empty_for_plain_negatives() -> None:
    negatives = NegativeBatch(
        torch.zeros(1, 2, dtype=torch.long), torch.zeros(1, dtype=torch.bool), torch.ones(1, 2, dtype=torch.bool)
    )
    assert negatives.loss_options() == {}
    negatives.slot_weights = torch.ones(1, 2)
    assert set(negatives.loss_options()) == {"slot_weights"}


# ----------------------------------------------------------------------------- sampler side
def test_earlier_copies_marks_repeats_of_valid_slots_only() -> None:
    entities = torch.tensor([[3, 5, 3, 3, 7, 5]])
    valid = torch.tensor([[False, True, True, True, True, True]])
    # slot 2 repeats slot 0, which is not valid: it is the first valid 3; slot 3 repeats slot 2
    assert earlier_copies(entities, valid).tolist() == [[False, False, False, True, False, True]]


def test_unique_hard_draws_no_entity_twice_in_a_row() -> None:
    sampler = make_sampler(num_negatives=8, unique_hard=True, max_retries=20)
    sampler.hard_ratio = 1.0
    batch = sampler.sample(typed_triples())
    for row, hard in zip(batch.entities, batch.hard, strict=True):
        assert len(set(row[hard].tolist())) == int(hard.sum())
    repeated = make_sampler(num_negatives=8)
    repeated.hard_ratio = 1.0
    plain = repeated.sample(typed_triples())
    assert any(len(set(r[h].tolist())) < int(h.sum()) for r, h in zip(plain.entities, plain.hard, strict=True))


def test_hard_probabilities_match_the_drawing_frequencies() -> None:
    tails = relation_tails(typed_split().graph)
    # query relation 0 draws relation 0 with weight 0.25 and relation 1 with 0.75
    neighbours = torch.tensor([[0, 1]]).repeat(8, 1)
    cumulative = torch.tensor([[0.25, 1.0]]).repeat(8, 1)
    cache = SimilarityCache(neighbours, cumulative, torch.ones(8, dtype=torch.bool))
    query_relations = torch.zeros(1, dtype=torch.long)
    entities = torch.arange(NUM_ENTITIES).unsqueeze(0)
    q = hard_probabilities(cache, tails, query_relations, entities)[0]
    assert q.sum().item() == pytest.approx(1.0)
    drawn, _ = draw_hard(cache, tails, query_relations, 200_000, torch.Generator().manual_seed(0))
    frequencies = torch.bincount(drawn[0], minlength=NUM_ENTITIES).float() / 200_000
    assert torch.allclose(q, frequencies, atol=0.005)
    counts = tails.counts
    # a city that is a tail of both relations 0 and 1 (born_in, lives_in) gets both shares
    assert q[8].item() == pytest.approx(0.25 / counts[0].item() + 0.75 / counts[1].item())


def test_hard_weight_and_log_q_reach_only_the_hard_slots() -> None:
    sampler = make_sampler(num_negatives=10, hard_weight=0.5, log_q_correction=0.5, semi_hard_margin=0.2)
    sampler.hard_ratio = 0.4
    positives = typed_triples()
    batch = sampler.sample(positives)
    assert batch.guard_margin == 0.2
    assert torch.equal(batch.slot_weights, torch.where(batch.hard, 0.5, 1.0))
    assert torch.all(batch.weight_offsets[~batch.hard] == 0)
    queries = batch.queries(positives, sampler.graphs[0].graph.num_direct_relations)
    q = hard_probabilities(sampler.caches[0], sampler.tails[0], queries.query_relations, batch.entities)
    expected = -0.5 * torch.log(q * NUM_ENTITIES)
    assert torch.allclose(batch.weight_offsets[batch.hard], expected[batch.hard])
    # hard candidates are concentrated (q above uniform): their weight logits go down
    assert bool((batch.weight_offsets[batch.hard] < 0).all())


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [("hard_weight", 0.0, "hard_weight must be in (0, 1]"), ("log_q_correction", 1.5, "log_q_correction")],
)
def test_variant_options_are_checked(option: str, value: float, words: str) -> None:
    from lit_kgns.samplers import KMASSampler

    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace("]", r"\]")):
        KMASSampler(**{option: value})
