"""KMAS draw tables and the similarity sources of the ablations: exact distributions, hand-computed overlaps,
the oracle filter and the defaults that make KMAS the published method."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from test_kmas import FixedRelations, make_sampler, sgd
from torch import Tensor
from toy_graphs import CITIES, NUM_ENTITIES, typed_split, typed_triples

from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.graph import KGDataset, KGGraph, LinkPredictionSplit
from lit_kgns.errors import ConfigError
from lit_kgns.module import KGLinkPrediction
from lit_kgns.samplers import KMASSampler, StrictUniformSampler
from lit_kgns.samplers.kmas_similarity import (
    RelationTails,
    SimilarityCache,
    build_similarity_cache,
    draw_hard,
    hard_probabilities,
    relation_tails,
    structural_rows,
)
from lit_kgns.samplers.kmas_tables import EntityTable, build_entity_table, table_entries


def random_cache(num_relations: int, k: int, seed: int) -> SimilarityCache:
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(num_relations, num_relations, generator=generator)
    counts = torch.ones(num_relations, dtype=torch.long)
    rows = [(torch.arange(num_relations), scores)]
    return build_similarity_cache(rows, counts, temperature=0.5, top_k=k, include_self=True, weighting="relation")


def random_graph_tails(seed: int = 0) -> tuple[RelationTails, int]:
    generator = torch.Generator().manual_seed(seed)
    num_nodes, num_relations, num_triples = 60, 5, 300
    triples = torch.stack(
        [
            torch.randint(num_nodes, (num_triples,), generator=generator),
            torch.randint(num_relations, (num_triples,), generator=generator),
            torch.randint(num_nodes, (num_triples,), generator=generator),
        ],
        dim=1,
    )
    graph = KGGraph.from_triples(triples, num_nodes, num_relations, "random")
    return relation_tails(graph), num_nodes


# ----------------------------------------------------------------------------- the table
def test_table_probabilities_equal_the_mixture_over_similar_relations() -> None:
    tails, num_nodes = random_graph_tails()
    cache = random_cache(len(tails.counts), k=3, seed=1)
    table = build_entity_table(cache, tails, num_nodes)
    assert table is not None
    rows = torch.arange(len(tails.counts))
    entities = torch.arange(num_nodes).repeat(len(rows), 1)
    expected = hard_probabilities(cache, tails, rows, entities)
    assert torch.allclose(table.probability(rows, entities), expected, atol=1e-6)
    assert torch.allclose(table.probability(rows, entities).sum(1), torch.ones(len(rows)), atol=1e-5)
    assert len(table.keys) <= table_entries(cache, tails)  # an entity reached by two relations is merged


def bucket_probabilities(table: EntityTable) -> Tensor:
    """``p(e | q)`` of every table entry as its row's alias buckets give it."""
    rows = torch.repeat_interleave(torch.arange(len(table.available)), table.start.diff())
    sizes = table.start.diff()[rows].double()
    mass = torch.stack([table.threshold, 1 - table.threshold], dim=1) / sizes.unsqueeze(1)
    owners = torch.searchsorted(table.keys, rows.unsqueeze(1) * table.num_nodes + table.outcomes)
    return torch.zeros(len(table.keys), dtype=torch.float64).index_add_(0, owners.view(-1), mass.view(-1))


def test_table_draws_follow_the_alias_buckets_of_their_uniform_numbers() -> None:
    tails, num_nodes = random_graph_tails(2)
    table = build_entity_table(random_cache(len(tails.counts), k=4, seed=3), tails, num_nodes)
    assert table is not None
    query_relations = torch.arange(len(tails.counts)).repeat_interleave(40)
    entities, probabilities, drawn = table.draw(query_relations, 50, torch.Generator().manual_seed(7))
    u = torch.rand(len(query_relations), 50, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    for row, q in enumerate(query_relations.tolist()):
        start, size = int(table.start[q]), int(table.start[q + 1] - table.start[q])
        bucket = (u[row] * size).long()
        alias = (u[row] * size - bucket >= table.threshold[start + bucket]).long()
        assert torch.equal(entities[row], table.outcomes[start + bucket, alias])
    assert bool(drawn.all())
    assert torch.equal(probabilities, table.probability(query_relations, entities))
    assert table.draw(query_relations, 50, torch.Generator(), with_probabilities=False)[1] is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alias_buckets_give_every_entity_its_probability(seed: int) -> None:
    tails, num_nodes = random_graph_tails(seed)
    table = build_entity_table(random_cache(len(tails.counts), k=3, seed=seed + 10), tails, num_nodes)
    assert table is not None
    assert bool(((table.threshold >= 0) & (table.threshold <= 1)).all())
    assert torch.allclose(bucket_probabilities(table), table.probabilities.double(), rtol=1e-6, atol=1e-9)


def test_a_row_of_many_tiny_probabilities_and_a_row_of_equal_ones_are_drawn_exactly() -> None:
    # row 0: relation 0 with 99 tails at weight 0.0099 (1e-4 each), relation 1 with one tail at 0.9901: one
    # heavy entry lends to 99 light buckets; row 1: relation 1 alone, one entity: nothing to lend
    offsets = torch.tensor([0, 99, 100])
    tails = RelationTails(offsets, torch.arange(100))
    cache = SimilarityCache(
        torch.tensor([[0, 1], [1, 0]]), torch.tensor([[0.0099, 1.0], [1.0, 1.0]]), torch.ones(2, dtype=torch.bool)
    )
    table = build_entity_table(cache, tails, num_nodes=100)
    assert table is not None
    assert torch.allclose(bucket_probabilities(table), table.probabilities.double(), rtol=1e-6, atol=1e-12)
    assert table.threshold[100].item() == 1.0  # row 1: a single certain entity
    entities, probabilities, _ = table.draw(torch.zeros(4000, dtype=torch.long), 100, torch.Generator().manual_seed(0))
    small = entities < 99
    assert torch.allclose(probabilities[small], torch.full_like(probabilities[small], 1e-4))
    assert small.float().mean().item() == pytest.approx(0.0099, abs=0.001)


def test_relation_then_tail_and_the_table_draw_the_same_distribution() -> None:
    tails, num_nodes = random_graph_tails(4)
    cache = random_cache(len(tails.counts), k=3, seed=5)
    table = build_entity_table(cache, tails, num_nodes)
    assert table is not None
    query_relations = torch.tensor([2])
    two_level, _ = draw_hard(cache, tails, query_relations, 200_000, torch.Generator().manual_seed(0))
    tabled, _, _ = table.draw(query_relations, 200_000, torch.Generator().manual_seed(1))
    for drawn in (two_level, tabled):
        frequencies = torch.bincount(drawn[0], minlength=num_nodes).float() / 200_000
        expected = table.probability(query_relations, torch.arange(num_nodes).unsqueeze(0))[0]
        assert torch.allclose(frequencies, expected, atol=0.005)


def test_a_graph_over_the_table_budget_draws_relation_first_with_the_same_log_q() -> None:
    budgeted = make_sampler(num_negatives=10, log_q_correction=1.0, max_table_entries=5)
    budgeted.hard_ratio = 0.5
    assert budgeted.tables == [None]
    positives = typed_triples()
    batch = budgeted.sample(positives)
    assert bool(batch.hard.any())
    queries = batch.queries(positives, budgeted.graphs[0].graph.num_direct_relations)
    q = hard_probabilities(budgeted.caches[0], budgeted.tails[0], queries.query_relations, batch.entities)
    assert torch.allclose(batch.weight_offsets[batch.hard], -torch.log(q * NUM_ENTITIES)[batch.hard])
    tabled = make_sampler(num_negatives=10, log_q_correction=1.0)
    assert isinstance(tabled.tables[0], EntityTable)


def test_valid_spares_fill_the_hard_slots_in_draw_order() -> None:
    from lit_kgns.samplers.kmas_draws import HardDraws, first_valid

    entities = torch.tensor([[10, 11, 12, 13, 14, 15], [20, 21, 22, 23, 24, 25], [30, 30, 31, 30, 32, 33]])
    valid = torch.tensor([[1, 0, 1, 1, 0, 1], [0, 0, 0, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    hard = first_valid(HardDraws(entities, entities.float() / 100, valid), n=4, unique=True)
    assert hard.entities[0].tolist() == [10, 12, 13, 15]
    assert hard.entities[1, :1].tolist() == [23] and hard.valid[1].tolist() == [True, False, False, False]
    assert hard.entities[2].tolist() == [30, 31, 32, 33]  # the copies of 30 are skipped
    assert torch.equal(hard.probabilities[hard.valid], hard.entities[hard.valid].float() / 100)


def test_hard_draws_only_retry_their_invalid_slots_and_stay_filtered() -> None:
    sampler = make_sampler(num_negatives=16)
    sampler.hard_ratio = 1.0
    positives = typed_triples()
    batch = sampler.sample(positives)
    known = sampler.graphs[0].known
    queries = batch.queries(positives, sampler.graphs[0].graph.num_direct_relations)
    true = known.contains(queries.anchors.unsqueeze(1), queries.query_relations.unsqueeze(1), batch.entities)
    assert not bool((true & batch.mask).any())


# ----------------------------------------------------------------------------- similarity sources
def test_jaccard_similarity_averages_the_overlap_of_tails_and_of_heads() -> None:
    # r0: heads {0, 1}, tails {2, 3}; r1: heads {0, 4}, tails {3, 5}
    triples = torch.tensor([(0, 0, 2), (1, 0, 3), (0, 1, 3), (4, 1, 5)])
    tails = relation_tails(KGGraph.from_triples(triples, 6, 2, "two"))
    ((ids, rows),) = structural_rows(tails, "jaccard", chunk_size=8)
    assert ids.tolist() == [0, 1, 2, 3]
    assert rows[0, 1].item() == pytest.approx(1 / 3)  # tails 1/3 and heads 1/3
    assert rows[0, 0].item() == pytest.approx(1.0)
    assert rows[0, 3].item() == pytest.approx(0.0)  # r1's inverse: tails {0, 4} and heads {3, 5}
    assert rows[2, 3].item() == pytest.approx(1 / 3)  # the inverses overlap as the relations do
    assert torch.allclose(rows, rows.t())


def test_typed_source_draws_the_query_relations_own_tails() -> None:
    sampler = make_sampler(num_negatives=8, similarity_source="typed")
    sampler.hard_ratio = 1.0
    lives_in = torch.tensor([(p, 1, 8 + (p + 3) % 8) for p in range(8)])
    batch = sampler.sample(lives_in)
    tail_rows = ~batch.head_corrupted
    assert set(batch.entities[tail_rows][batch.hard[tail_rows]].tolist()) <= CITIES
    assert sampler.caches[0].neighbours[:, 0].tolist() == list(range(8))  # each relation is its own neighbour
    with pytest.raises(ConfigError, match="include_self"):
        KMASSampler(similarity_source="typed", include_self=False)


def test_structural_sources_ignore_the_backbone() -> None:
    sampler = make_sampler(similarity_source="jaccard")
    before = sampler.caches[0].fingerprint()
    sampler.refresh(FixedRelations(relations=torch.randn(8, 4)))
    assert sampler.caches[0].fingerprint() == before


# ----------------------------------------------------------------------------- oracle filter, diagnostics
def second_homes_datamodule() -> KGDataModule:
    train = typed_split("typed")
    second_homes = torch.tensor([(p, 1, 8 + (p + 1) % 8) for p in range(8)])  # held out, never trained on
    valid = LinkPredictionSplit("typed/valid", train.graph, second_homes, second_homes)
    datamodule = KGDataModule.from_datasets([KGDataset("typed", "transductive", train, valid, valid)], test_datasets=[])
    datamodule.setup("fit")
    return datamodule


@pytest.mark.parametrize("oracle_filter", [False, True])
def test_oracle_filter_removes_held_out_facts_from_the_candidates(oracle_filter: bool) -> None:
    datamodule = second_homes_datamodule()
    sampler = StrictUniformSampler(num_negatives=64, side="tail", seed=0, oracle_filter=oracle_filter)
    trainer = SimpleNamespace(datamodule=datamodule, callbacks=[sampler], global_rank=0)
    sampler.setup(trainer, KGLinkPrediction(FixedRelations(), optimizer=sgd), "fit")
    lives_in = torch.tensor([(p, 1, 8 + (p + 3) % 8) for p in range(8)])
    batch = sampler.sample(lives_in)
    second_home = torch.tensor([8 + (p + 1) % 8 for p in range(8)]).unsqueeze(1)
    assert bool((batch.entities == second_home).any()) != oracle_filter


def test_diagnostics_log_the_share_above_the_positive_and_the_false_negatives_of_both_kinds() -> None:
    from lit_kgns.negatives import NegativeBatch
    from lit_kgns.samplers.kmas_diagnostics import KMASDiagnostics

    datamodule = second_homes_datamodule()
    module = KGLinkPrediction(FixedRelations(), optimizer=sgd)
    positives = torch.tensor([(p, 1, 8 + (p + 3) % 8) for p in range(4)])
    cities = torch.arange(8, 16).repeat(4, 1)
    hard = torch.zeros(4, 8, dtype=torch.bool)
    hard[:, :4] = True
    negatives = NegativeBatch(cities, torch.zeros(4, dtype=torch.bool), torch.ones(4, 8, dtype=torch.bool), hard)
    trainer = SimpleNamespace(datamodule=datamodule)
    graph = datamodule.train_splits[0].graph
    measured = KMASDiagnostics(batch_size=4).measure(trainer, module, graph, positives, negatives, 0)
    # second homes 9-12 of persons 0-3: three among the hard cities 8-11, one (12) among the others
    assert measured["kmas/false_negative_rate"] == pytest.approx(3 / 16)
    assert measured["kmas/random_false_negative_rate"] == pytest.approx(1 / 16)
    scores = module.backbone(graph, positives[:, 0], positives[:, 1], torch.zeros(4, dtype=torch.bool))
    positive = scores.gather(1, positives[:, 2:]).detach()
    above = scores[:, 8:16].detach() > positive
    assert measured["kmas/hard_above_positive"] == pytest.approx(above[:, :4].float().mean().item())
    assert measured["kmas/random_above_positive"] == pytest.approx(above[:, 4:].float().mean().item())
    plain = NegativeBatch(cities, torch.zeros(4, dtype=torch.bool), torch.ones(4, 8, dtype=torch.bool))
    uniform_only = KMASDiagnostics(batch_size=4).measure(trainer, module, graph, positives, plain, 0)
    assert "kmas/hard_above_positive" not in uniform_only
    assert uniform_only["kmas/random_false_negative_rate"] == pytest.approx(4 / 32)


# ----------------------------------------------------------------------------- the default is the method
def test_the_default_sampler_is_the_method_as_published() -> None:
    sampler = KMASSampler()
    assert sampler.similarity_source == "backbone" and sampler.similarity == "cosine"
    assert (sampler.temperature, sampler.top_k, sampler.include_self) == (0.1, 16, True)
    # nothing in the loss undoes the hardness
    assert (sampler.log_q_correction, sampler.hard_weight, sampler.semi_hard_margin) == (0.0, 1.0, None)
    assert not sampler.oracle_filter and not sampler.unique_hard
    schedule = sampler.schedule
    assert (schedule.shape, schedule.warmup_end, schedule.peak_at) == ("linear", 0.1, 0.5)
    assert (schedule.peak_ratio, schedule.end_ratio) == (0.5, 0.1)
