"""Pool samplers on hand-built graphs, fallback modes, pool statistics and false-negative rates."""

from __future__ import annotations

from functools import cache

import pytest
import torch

from lit_kgns.commands.pool_statistics import pool_statistics
from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.graph import KGDataset, KGGraph, LinkPredictionSplit
from lit_kgns.data.triple_index import TripleIndex
from lit_kgns.samplers import CorruptSampler, RelationalSampler, TypedSampler, UniformSampler
from lit_kgns.samplers.fallback import PoolRanges, fallback_slots, fill

# 0 -r0-> 1, 2 -r0-> 3, 0 -r1-> 4, 5 -r1-> 1, 0 -r2-> 1 ; entity 6 isolated (7 entities, 3 relations)
TOY = torch.tensor([[0, 0, 1], [2, 0, 3], [0, 1, 4], [5, 1, 1], [0, 2, 1]])


def toy_split() -> LinkPredictionSplit:
    graph = KGGraph.from_triples(TOY, 7, 3, name="toy")
    return LinkPredictionSplit("toy/train", graph, TOY, TOY)


def drawn_sets(sampler, positives: torch.Tensor, head: bool) -> list[set[int]]:
    sampler.side = "head" if head else "tail"
    batch = sampler.sample(positives)
    return [set(row[mask].tolist()) for row, mask in zip(batch.entities, batch.mask, strict=True)]


def test_corrupt_pools_on_toy_graph() -> None:
    sampler = CorruptSampler(num_negatives=64, filtered=False, fallback="repeat", seed=0)
    sampler.attach([toy_split()])
    positives = TOY[:1]  # (0, r0, 1)
    assert drawn_sets(sampler, positives, head=False) == [{1, 3}]  # observed range of r0
    assert drawn_sets(sampler, positives, head=True) == [{0, 2}]  # observed domain of r0


def test_relational_pools_on_toy_graph() -> None:
    sampler = RelationalSampler(num_negatives=64, filtered=False, fallback="repeat", seed=0)
    sampler.attach([toy_split()])
    # tail of (0, r0, 1): neighbours of 0 via r1, r2 -> {4, 1}
    # head of (0, r0, 1): heads of 1 via r1, r2 -> {5, 0}
    assert drawn_sets(sampler, TOY[:1], head=False) == [{4, 1}]
    assert drawn_sets(sampler, TOY[:1], head=True) == [{5, 0}]
    # (2, r0, 3): 2 has no other relation, 3 neither: empty pools -> masked
    assert drawn_sets(sampler, TOY[1:2], head=False) == [set()]


def test_relational_multiset_frequencies() -> None:
    # 0 -r0-> 1 and 0 -r1-> 2, 0 -r2-> 2: for a tail corruption of (0, r3, 3), 2 appears twice in the pool.
    triples = torch.tensor([[0, 0, 1], [0, 1, 2], [0, 2, 2], [0, 3, 3]])
    graph = KGGraph.from_triples(triples, 4, 4)
    sampler = RelationalSampler(num_negatives=30000, filtered=False, fallback="repeat", side="tail", seed=0)
    sampler.attach([LinkPredictionSplit("m", graph, triples, triples)])
    entities = sampler.sample(triples[3:]).entities
    assert abs(float((entities == 2).float().mean()) - 2 / 3) < 0.02


@pytest.mark.parametrize("dense_keys", [True, False])
def test_relational_pools_equal_brute_force_multisets(dense_keys: bool, monkeypatch) -> None:
    import lit_kgns.samplers.relational as relational

    # Dense table of key positions, or binary search per query: the same pools.
    monkeypatch.setattr(relational, "DENSE_KEY_LIMIT", 1 << 24 if dense_keys else 0)
    generator = torch.Generator().manual_seed(0)
    num_nodes, num_relations = 12, 4
    triples = torch.stack(
        [
            torch.randint(num_nodes, (60,), generator=generator),
            torch.randint(num_relations, (60,), generator=generator),
            torch.randint(num_nodes, (60,), generator=generator),
        ],
        dim=1,
    )
    graph = KGGraph.from_triples(triples, num_nodes, num_relations)
    sampler = RelationalSampler(num_negatives=8, filtered=False, seed=0)
    sampler.attach([LinkPredictionSplit("random", graph, triples, triples)])
    heads, relations, tails = triples.t()
    for head_side in (False, True):
        anchors, answers = (tails, heads) if head_side else (heads, tails)
        query_relations = relations + head_side * num_relations
        counts = sampler.pool_counts(anchors, query_relations, answers, 0)
        for row, (anchor, relation) in enumerate(zip(anchors.tolist(), relations.tolist(), strict=True)):
            expected = torch.zeros(num_nodes, dtype=torch.long)
            for h, r, t in triples.tolist():
                kept, other = (t, h) if head_side else (h, t)
                if kept == anchor and r != relation:
                    expected[other] += 1
            assert counts[row].tolist() == expected.tolist()


def typed_on_toy_graph(types_file, domain_range_file) -> TypedSampler:
    """An unfiltered Typed sampler (mask fallback) on the toy graph, from metadata files."""
    sampler = TypedSampler(
        str(types_file), str(domain_range_file), num_negatives=64, filtered=False, fallback="mask", seed=0
    )
    sampler.attach([toy_split()])
    return sampler


def test_typed_from_metadata_files(tmp_path) -> None:
    (tmp_path / "types.tsv").write_text("0\tA\n2\tA\n6\tA\n1\tB\n3\tB\n4\tC\n# comment\n")
    (tmp_path / "dr.tsv").write_text("0\tA\tB\n1\tNone\tC\n2\tA\tA\n")
    sampler = typed_on_toy_graph(tmp_path / "types.tsv", tmp_path / "dr.tsv")
    assert drawn_sets(sampler, TOY[:1], head=True) == [{0, 2, 6}]  # domain A
    assert drawn_sets(sampler, TOY[:1], head=False) == [{1, 3}]  # range B
    assert drawn_sets(sampler, TOY[2:3], head=True) == [set()]  # domain None: no pool, masked


def test_typed_reads_the_extension_json_metadata(tmp_path) -> None:
    import json

    classes = {"0": ["A"], "2": ["A"], "6": ["A"], "1": ["B"], "3": ["B", "A"], "4": ["C"], "9": ["A"]}
    domain_range = {"0": {"domain": "A", "range": "B"}, "1": {"domain": "None", "range": "C"}}
    (tmp_path / "entities_classes.json").write_text(json.dumps(classes))
    (tmp_path / "relation_domain_range.json").write_text(json.dumps(domain_range))
    sampler = typed_on_toy_graph(tmp_path / "entities_classes.json", tmp_path / "relation_domain_range.json")
    # Domain A: entity 3 has two classes; entity 9 is not in the graph.
    assert drawn_sets(sampler, TOY[:1], head=True) == [{0, 2, 3, 6}]
    assert drawn_sets(sampler, TOY[:1], head=False) == [{1, 3}]  # range B
    assert drawn_sets(sampler, TOY[2:3], head=True) == [set()]  # domain None: no pool, masked


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("types.json", '{"0": ["A"],\n "1": }', r"types.json, line 2: invalid JSON"),
        ("types.json", '{"0": "A"}', r"types.json: entry '0' should map to lists of classes"),
        ("types.tsv", "0\tA\n1 B\n", r"types.tsv, line 2: expected 2 tab-separated fields"),
        ("types.tsv", "zero\tA\n", r"types.tsv: 'zero' is not an integer id"),
    ],
)
def test_typed_metadata_errors_name_the_file(tmp_path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    sampler = TypedSampler(str(tmp_path / name), num_negatives=4, seed=0)
    with pytest.raises(ValueError, match=message):
        sampler.attach([toy_split()])


def test_typed_observed_domain_range() -> None:
    sampler = TypedSampler(num_negatives=64, filtered=False, fallback="mask", seed=0)
    sampler.set_types(torch.tensor([[0, 0], [2, 0], [6, 0], [1, 1], [3, 1], [4, 2], [5, 2]]))
    sampler.attach([toy_split()])
    assert drawn_sets(sampler, TOY[:1], head=True) == [{0, 2, 6}]  # heads of r0 are type 0
    assert drawn_sets(sampler, TOY[2:3], head=False) == [{1, 3}]  # tails of r1: 4 (type 2), 1 (type 1): tie -> 1


def test_empty_pools_never_crash() -> None:
    for fallback in ("integrate", "mask", "widen", "repeat"):
        sampler = RelationalSampler(num_negatives=8, fallback=fallback, seed=0)
        sampler.attach([toy_split()])
        batch = sampler.sample(TOY)
        assert batch.entities.shape == (5, 8)
        assert sampler.counters(TOY, batch)["empty_pool_fraction"] > 0


def ranges(pools: list[list[int]]) -> PoolRanges:
    flat = torch.tensor([e for pool in pools for e in pool], dtype=torch.long)
    count = torch.tensor([len(pool) for pool in pools])
    return PoolRanges(flat, count.cumsum(0) - count, count)


def test_fallback_integrate_uses_whole_pool_then_uniform() -> None:
    generator = torch.Generator().manual_seed(0)
    entities, valid, from_fallback = fill(ranges([[5, 6], [], [1, 2, 3, 4, 7, 8]]), 4, "integrate", 100, generator)
    assert valid.all()
    assert entities[0, :2].tolist() == [5, 6] and from_fallback[0].tolist() == [False, False, True, True]
    assert from_fallback[1].all() and not from_fallback[2].any()
    assert set(entities[2].tolist()) <= {1, 2, 3, 4, 7, 8}


def test_fallback_mask_drops_missing_slots() -> None:
    generator = torch.Generator().manual_seed(0)
    entities, valid, _ = fill(ranges([[5, 6], []]), 4, "mask", 100, generator)
    assert valid.tolist() == [[True, True, False, False], [False] * 4]
    assert entities[0, :2].tolist() == [5, 6]


def test_fallback_repeat_samples_with_replacement() -> None:
    generator = torch.Generator().manual_seed(0)
    entities, valid, _ = fill(ranges([[5, 6], []]), 6, "repeat", 100, generator)
    assert valid[0].all() and not valid[1].any() and set(entities[0].tolist()) <= {5, 6}


def test_fallback_widen_takes_corrupt_pool_first() -> None:
    generator = torch.Generator().manual_seed(0)
    widen = ranges([[40, 41], [50, 51, 52, 53, 54, 55, 56]])
    entities, valid, from_fallback = fill(ranges([[5], []]), 4, "widen", 100, generator, widen)
    assert valid.all()
    assert entities[0, :3].tolist() == [5, 40, 41] and from_fallback[0].tolist() == [False, True, True, True]
    assert set(entities[1].tolist()) <= set(range(50, 57))


def test_fallback_counters_are_read_from_the_batch() -> None:
    sampler = CorruptSampler(num_negatives=8, fallback="integrate", seed=0)
    sampler.attach([toy_split()])
    counters = sampler.counters(TOY, sampler.sample(TOY))
    assert set(counters) >= {"fallback_fraction", "empty_pool_fraction", "false_negative_rate"}
    # Corrupt pools: the entities seen in that position with the relation, 2 for r0 and r1, 1 for r2 (heads
    # and tails alike); the other slots of each 8 are fallbacks: (6 + 6 + 6 + 6 + 7) / 40, whatever the sides
    assert counters["fallback_fraction"] == pytest.approx(31 / 40)
    assert counters["empty_pool_fraction"] == 0 and counters["small_pool_fraction"] == 1


@pytest.mark.parametrize("mode", ["integrate", "mask", "widen", "repeat"])
def test_fallback_slots_are_the_slots_fill_does_not_take_from_the_pool(mode) -> None:
    generator = torch.Generator().manual_seed(0)
    pools = ranges([[5, 6], [], [1, 2, 3, 4, 7, 8], [9]])
    widen = ranges([[40, 41], [50], [60], [70, 71, 72]])
    _, _, from_fallback = fill(pools, 4, mode, 100, generator, widen)
    assert torch.equal(fallback_slots(pools.count, 4, mode), from_fallback)


# ----------------------------------------------------------------- reference values (samplers notes §1.5)
REFERENCE = {
    # dataset, sampler: (avg pool, % no pool, % no pool original, % pool < 10, unique avg, unique % < 10)
    ("nations", "random"): (10.5, 0.0, 0.0, 30.7, 10.5, 30.7),
    ("nations", "corrupt"): (6.1, 1.32, 0.88, 82.2, 6.1, 82.2),
    ("nations", "relational"): (78.7, 0.22, 0.0, 0.4, 9.5, 38.9),
    ("umls", "corrupt"): (16.6, 13.21, 8.21, 53.5, 16.6, 53.5),
    ("umls", "relational"): (46.8, 1.60, 0.26, 14.6, 30.1, 16.2),
}
SAMPLERS = {"random": UniformSampler, "corrupt": CorruptSampler, "relational": RelationalSampler}


@cache
def dataset(name: str) -> KGDataset:
    return load_dataset(name)


@pytest.mark.parametrize(("name", "sampler"), list(REFERENCE))
def test_pool_statistics_match_reference(name: str, sampler: str) -> None:
    split = dataset(name).train
    statistics = pool_statistics(SAMPLERS[sampler](), split)
    avg, no_pool, original, below_10, unique_avg, unique_below_10 = REFERENCE[(name, sampler)]
    assert statistics["both/combos"] == {"nations": 909, "umls": 1560}[name]
    assert statistics["both/avg_pool"] == pytest.approx(avg, abs=0.05)
    assert statistics["both/no_pool"] == pytest.approx(no_pool, abs=0.005)
    assert statistics["both/no_pool_original"] == pytest.approx(original, abs=0.005)
    assert statistics["both/pool_lt_10"] == pytest.approx(below_10, abs=0.05)
    assert statistics["unique/both/avg_pool"] == pytest.approx(unique_avg, abs=0.05)
    assert statistics["unique/both/pool_lt_10"] == pytest.approx(unique_below_10, abs=0.05)


def test_pool_sizes_equal_the_dense_count_for_answer_dependent_pools() -> None:
    from lit_kgns.backbones import TransE
    from lit_kgns.commands.pool_statistics import pool_sizes, query_combos
    from lit_kgns.samplers import NearestNeighborSampler

    split = dataset("nations").train
    torch.manual_seed(0)
    model = TransE(split.graph.num_nodes, split.graph.num_direct_relations, 8)
    sampler = NearestNeighborSampler(model=model, num_query_results=5, num_negatives=8, seed=0)
    sampler.attach([split])
    sizes = pool_sizes(sampler, split, chunk=100)
    anchors, relations, answers, _ = query_combos(sampler, split)
    counts = sampler.pool_counts(anchors, relations, answers, 0)
    counts = counts.masked_fill(split.known_answers.answer_mask(anchors, relations), 0)
    assert sizes["multiset"].tolist() == counts.sum(1).tolist()
    assert sizes["unique"].tolist() == (counts > 0).sum(1).tolist()
    assert 0 < float(sizes["multiset"].float().mean()) < 5  # true answers did leave some pools


# ----------------------------------------------------------------- false-negative rates (notes §2)
def false_negative_rate(name: str, sampler, exclude_positive: bool) -> float:
    data = dataset(name)
    split = data.train
    check = TripleIndex(
        torch.cat([data.train.targets, data.valid.targets]),
        split.graph.num_nodes,
        split.graph.num_direct_relations,
    )
    sampler.attach([split])
    positives = split.targets
    batch = sampler.sample(positives)
    queries = batch.queries(positives, split.graph.num_direct_relations)
    false = check.contains(queries.anchors[:, None], queries.query_relations[:, None], batch.entities).float()
    counted = torch.ones_like(false)
    if exclude_positive:
        counted = (batch.entities != queries.answers[:, None]).float()
    return float(((false * counted).sum(1) / counted.sum(1)).mean())


@pytest.mark.parametrize(("name", "expected"), [("nations", 0.393), ("umls", 0.129)])
def test_uniform_false_negative_rate(name: str, expected: float) -> None:
    # PyKEEN's basic sampler never redraws the replaced entity; ours may, so those draws are not counted.
    rate = false_negative_rate(name, UniformSampler(num_negatives=1024, seed=0), exclude_positive=True)
    assert rate == pytest.approx(expected, abs=0.03)


@pytest.mark.parametrize(("name", "expected"), [("nations", 0.548), ("umls", 0.592)])
def test_corrupt_false_negative_rate(name: str, expected: float) -> None:
    # Unfiltered, with replacement from the pool like PyKEEN's PseudoTyped (which keeps the gold entity).
    sampler = CorruptSampler(num_negatives=1024, seed=0, filtered=False, fallback="repeat", side="random")
    assert false_negative_rate(name, sampler, exclude_positive=False) == pytest.approx(expected, abs=0.03)
