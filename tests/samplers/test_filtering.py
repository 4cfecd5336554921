"""Exact filtering of a batch's true answers, uniform draws outside them, and the random-bit helpers."""

from __future__ import annotations

import pytest
import torch

from lit_kgns.data.triple_index import QueryAnswers, TripleIndex
from lit_kgns.samplers import AdversarialSampler
from lit_kgns.samplers.fallback import PoolRanges, draw, uniform_entities
from lit_kgns.samplers.neighbors import compress
from lit_kgns.samplers.uniform import draw_non_answers
from tests.samplers.test_contract import nations

NUM_NODES, NUM_RELATIONS = 12, 2
# Query (0, r0) has every entity but 11 as answer; (1, r0) has answers {2, 3}; (4, r1) none.
DENSE = [[0, 0, t] for t in range(11)] + [[1, 0, 2], [1, 0, 3], [5, 1, 6]]


def toy_index() -> TripleIndex:
    return TripleIndex(torch.tensor(DENSE), NUM_NODES, NUM_RELATIONS)


def queries() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([0, 1, 4]), torch.tensor([0, 0, 1])


@pytest.fixture(params=["dense mask", "sorted keys"])
def layout(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "sorted keys":
        monkeypatch.setattr("lit_kgns.data.triple_index.DENSE_MASK_LIMIT", 0)
    return request.param


def test_batch_answers_agree_with_the_whole_index(layout: str) -> None:
    index = toy_index()
    anchors, relations = queries()
    answers = index.batch(anchors, relations, also=torch.tensor([11, 0, 7]))
    assert answers.dense == (layout == "dense mask")
    candidates = torch.arange(NUM_NODES).expand(3, -1)
    expected = index.contains(anchors[:, None], relations[:, None], candidates)
    expected[torch.arange(3), torch.tensor([11, 0, 7])] = True  # ``also`` counts as an answer
    assert torch.equal(answers.contains(candidates), expected)
    assert torch.equal(answers.rows_mask(torch.tensor([2, 0])), expected[[2, 0]])
    rows, picks = torch.tensor([0, 1, 1, 2]), torch.tensor([11, 3, 4, 7])
    assert answers.contains_pairs(rows, picks).tolist() == [True, True, False, True]


def test_draws_outside_the_answers_are_exact_and_uniform(layout: str) -> None:
    index = toy_index()
    anchors, relations = queries()
    generator = torch.Generator().manual_seed(0)
    entities, valid = draw_non_answers(index.batch(anchors, relations), 3000, generator)
    assert valid.all()
    # Row 0 has one non-answer (reached by the exact fallback), row 1 ten, row 2 all twelve.
    assert set(entities[0].tolist()) == {11}
    counts = torch.bincount(entities[1], minlength=NUM_NODES)
    assert counts[[2, 3]].sum() == 0
    allowed = counts[[e for e in range(NUM_NODES) if e not in (2, 3)]].float()
    assert (allowed - 300).abs().max() < 4 * 300**0.5  # about 300 each, within 4 standard deviations
    assert torch.bincount(entities[2], minlength=NUM_NODES).min() > 150


def test_a_query_answered_by_every_entity_gets_no_valid_negative() -> None:
    index = TripleIndex(torch.tensor([[0, 0, t] for t in range(4)]), 4, 1)
    answers = QueryAnswers(index, torch.tensor([0, 1]), torch.tensor([0, 0]))
    _, valid = draw_non_answers(answers, 5, torch.Generator().manual_seed(0))
    assert not valid[0].any() and valid[1].all()


def test_pool_draws_stay_inside_each_pool_and_cover_it() -> None:
    flat = torch.arange(100, 1100, dtype=torch.int32)
    # Row 0: a pool of 3; row 1: a pool of 990 starting at 10.
    ranges = PoolRanges(flat, torch.tensor([0, 10]), torch.tensor([3, 990]))
    entities, valid, uniform = draw(ranges, 5000, torch.Generator().manual_seed(0), exhaust_small=False)
    assert entities.dtype == torch.int32 and valid.all() and float(uniform.min()) >= 0 and float(uniform.max()) < 1
    assert set(entities[0].tolist()) == {100, 101, 102}
    row = entities[1]
    assert int(row.min()) >= 110 and int(row.max()) <= 1099
    assert len(set(row.tolist())) > 950  # 5,000 draws from 990 entries cover nearly all of them
    assert int(uniform_entities(torch.tensor([0.0, 0.5, 1.0 - 2**-24]), 7).max()) == 6


def test_compress_moves_valid_entries_first_in_order() -> None:
    entities = torch.tensor([[5, 6, 7, 8], [1, 2, 3, 4]])
    valid = torch.tensor([[False, True, False, True], [True, True, True, True]])
    pools = compress(entities, valid)
    assert pools.count.tolist() == [2, 4]
    table = pools.flat.view(2, 4)
    assert table[0, :2].tolist() == [6, 8] and table[1].tolist() == [1, 2, 3, 4]


def test_precomputed_near_miss_pools_equal_per_batch_ones() -> None:
    from lit_kgns.backbones import TransE

    split = nations()
    torch.manual_seed(0)
    model = TransE(split.graph.num_nodes, split.graph.num_direct_relations, 16)
    precomputed = AdversarialSampler(model=model, num_query_results=6, num_negatives=8, seed=0)
    per_batch = AdversarialSampler(model=model, num_query_results=6, num_negatives=8, seed=0, precompute=False)
    for sampler in (precomputed, per_batch):
        sampler.attach([split])
        sampler.refresh()
    # The last query has no training answer, so no precomputed pool: it is scored on the fly.
    index = precomputed.graphs[0].known
    start, end = index.answer_ranges(torch.arange(14), torch.zeros(14, dtype=torch.long))
    unseen = int((end == start).nonzero()[0])
    anchors = torch.cat([split.targets[:20, 0], torch.tensor([unseen])])
    query_relations = torch.cat([split.targets[:20, 1], torch.tensor([0])])
    answers = torch.zeros_like(anchors)
    left = precomputed.pool_ranges(anchors, query_relations, answers, 0)
    right = per_batch.pool_ranges(anchors, query_relations, answers, 0)
    assert torch.equal(left.count, right.count)
    for row in range(len(anchors)):
        count = int(left.count[row])
        assert torch.equal(
            left.flat[left.start[row] : left.start[row] + count],
            right.flat[right.start[row] : right.start[row] + count],
        )


def test_nearest_neighbour_pools_drop_exactly_the_true_answers() -> None:
    from lit_kgns.backbones import TransE
    from lit_kgns.samplers import NearestNeighborSampler

    split = nations()
    torch.manual_seed(0)
    model = TransE(split.graph.num_nodes, split.graph.num_direct_relations, 16)
    sampler = NearestNeighborSampler(model=model, num_query_results=8, num_negatives=8, seed=0)
    sampler.attach([split])
    sampler.refresh()
    index = sampler.graphs[0].known
    heads, relations, tails = split.targets[:40].t()
    # Tail queries of training triples, head queries of the same, and one (query, answer) pair that is no triple.
    anchors = torch.cat([heads, tails, torch.tensor([0])])
    query_relations = torch.cat([relations, relations + split.graph.num_direct_relations, torch.tensor([0])])
    answers = torch.cat([tails, heads, torch.tensor([0])])
    assert not index.contains(anchors[-1:], query_relations[-1:], answers[-1:]).any()
    pools = sampler.pool_ranges(anchors, query_relations, answers, 0)
    neighbours = sampler.neighbours[answers]
    keep = ~index.contains(anchors[:, None], query_relations[:, None], neighbours)
    assert int(keep.sum()) < keep.numel()  # some neighbours are true answers and must leave the pools
    assert pools.count.tolist() == keep.sum(dim=1).tolist()
    for row in range(len(anchors)):
        pool = pools.flat[pools.start[row] : pools.start[row] + pools.count[row]]
        assert pool.tolist() == neighbours[row][keep[row]].tolist()


def test_near_miss_pools_are_precomputed_for_embedding_sources_only() -> None:
    from lit_kgns.backbones import TransE, Ultra

    assert AdversarialSampler(model=TransE(14, 55, 8)).precomputes
    assert not AdversarialSampler(model=Ultra(dim=8, num_relation_layers=1, num_entity_layers=1)).precomputes
    assert not AdversarialSampler(model=TransE(14, 55, 8), precompute=False).precomputes
