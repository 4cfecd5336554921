"""KGE backbones: shapes, agreement with PyKEEN's interactions, and learning on Nations."""

from __future__ import annotations

import pytest
import torch

from lit_kgns.backbones.kge import KGE_MODELS, KGEBackbone
from lit_kgns.data.catalog import load_dataset
from lit_kgns.losses import margin_ranking, nssa, self_adversarial_bce
from lit_kgns.samplers import UniformSampler
from lit_kgns.scoring import score_candidates

N, R = 14, 5


def build(name: str, dim: int = 8) -> KGEBackbone:
    torch.manual_seed(0)
    return KGE_MODELS[name](N, R, dim)


@pytest.mark.parametrize("name", sorted(KGE_MODELS))
def test_shapes(name: str) -> None:
    model = build(name)
    anchors, relations = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 2, 4])
    heads = torch.tensor([False, True, False, True])
    assert model(None, anchors, relations, heads).shape == (4, N)
    assert model(None, anchors, relations, heads, torch.randint(N, (4, 6))).shape == (4, 6)
    assert model.relation_representations().shape[0] == 2 * R
    assert model.entity_table().shape[0] == N


@pytest.mark.parametrize("name", sorted(KGE_MODELS))
def test_head_and_tail_queries_match_pykeen_interaction(name: str) -> None:
    model = build(name)
    h, r, t = torch.tensor([0, 3, 7]), torch.tensor([1, 4, 0]), torch.tensor([5, 2, 9])
    # PyKEEN's interaction on the same embeddings; tail queries hold t among the candidates, head queries h.
    expected = model.interaction(model.entity(h), model.relation(r), model.entity(t))
    tail = model(None, h, r, torch.zeros(3, dtype=torch.bool), t.unsqueeze(1)).squeeze(1)
    head = model(None, t, r, torch.ones(3, dtype=torch.bool), h.unsqueeze(1)).squeeze(1)
    torch.testing.assert_close(tail, expected)
    torch.testing.assert_close(head, expected)
    full = model(None, h, r, torch.zeros(3, dtype=torch.bool))
    torch.testing.assert_close(full[torch.arange(3), t], expected)
    full_head = model(None, t, r, torch.ones(3, dtype=torch.bool))
    torch.testing.assert_close(full_head[torch.arange(3), h], expected)


@pytest.mark.parametrize("name", ["transe", "distmult", "complex", "rotate", "rescal"])
def test_inverse_relation_scores_reversed_triple(name: str) -> None:
    model = build(name)
    h, r, t = torch.tensor([0, 3]), torch.tensor([1, 4]), torch.tensor([5, 2])
    direct = model.interaction(model.entity(h), model.relation(r), model.entity(t))
    inverse = model.relation_representations()[R + r]
    if model.complex_entities:
        inverse = torch.view_as_complex(inverse.view(2, -1, 2))
    if name == "rescal":
        inverse = inverse.view(2, 8, 8)
    torch.testing.assert_close(model.interaction(model.entity(t), inverse, model.entity(h)), direct)


LOSSES = {
    "margin": lambda s, m: margin_ranking(s, m, 1.0),
    "bce": lambda s, m: self_adversarial_bce(s, m, 0.0),
    "nssa": lambda s, m: nssa(s, m, 3.0, 1.0),
}


@pytest.mark.parametrize(
    ("name", "loss"),
    [
        ("transe", "margin"),
        ("transh", "margin"),
        ("transr", "margin"),
        ("distmult", "nssa"),
        ("complex", "bce"),
        ("rescal", "bce"),
        ("rotate", "nssa"),
    ],
)
def test_training_reduces_loss_on_nations(name: str, loss: str) -> None:
    split = load_dataset("nations").train
    torch.manual_seed(0)
    model = KGE_MODELS[name](split.graph.num_nodes, split.graph.num_direct_relations, 16)
    sampler = UniformSampler(num_negatives=16, seed=0)
    sampler.attach([split])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    history = []
    for step in range(30):
        sampler.reseed(0, step)
        order = torch.randperm(len(split.targets), generator=torch.Generator().manual_seed(step))
        positives = split.targets[order[:256]]
        negatives = sampler.sample(positives)
        scores = score_candidates(model, split.graph, positives, negatives, hide_batch=False)
        value = LOSSES[loss](scores, negatives.mask)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        history.append(float(value))
    assert sum(history[-5:]) / 5 < 0.9 * sum(history[:5]) / 5


@pytest.mark.parametrize("name", ["transh", "complex"])
def test_scores_of_all_entities_in_chunks(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = build(name)
    anchors, relations = torch.arange(7), torch.tensor([0, 1, 2, 3, 4, 0, 1])
    heads = torch.arange(7) % 2 == 0
    whole = model(None, anchors, relations, heads)
    # One query per chunk: the chunked path must give the same scores.
    monkeypatch.setattr("lit_kgns.backbones.kge.SCORE_ALL_ELEMENTS", 1)
    torch.testing.assert_close(model(None, anchors, relations, heads), whole)
    explicit = model(None, anchors, relations, heads, torch.arange(N).expand(7, -1))
    torch.testing.assert_close(whole, explicit)
