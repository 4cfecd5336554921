import math

import pytest
import torch

from lit_kgns.metrics import RankingMetrics, filtered_ranks, hits_at_k_against_sampled


def test_ranks_by_hand_with_filtering_and_ties():
    scores = torch.tensor([[0.9, 0.5, 0.7, 0.5, 0.1], [0.2, 0.3, 0.3, 0.3, 0.0]])
    targets = torch.tensor([1, 2])
    known = torch.zeros(2, 5, dtype=torch.bool)
    known[0, 0] = True  # 0.9 is another true answer of row 0: filtered out
    # Row 0: candidates 2 (0.7 > 0.5) and 3 (tie), 4 below -> pessimistic 3, realistic 2.5, optimistic 2.
    # Row 1: candidates 1 and 3 tie with the target -> pessimistic 3, realistic 2, optimistic 1.
    for ties, expected in (("pessimistic", [3, 3]), ("realistic", [2.5, 2]), ("optimistic", [2, 1])):
        ranks, negatives = filtered_ranks(scores, targets, known.clone(), ties)
        assert ranks.tolist() == expected
        assert negatives.tolist() == [3, 4]


def test_unknown_tie_policy_is_rejected():
    with pytest.raises(ValueError, match="ties must be one of"):
        filtered_ranks(torch.zeros(1, 2), torch.tensor([0]), torch.zeros(1, 2, dtype=torch.bool), "random")


def test_metric_values_and_sum_states():
    metric = RankingMetrics()
    metric.update(torch.tensor([1.0, 2.0]), torch.tensor([10, 10]))
    metric.update(torch.tensor([20.0]), torch.tensor([10]))
    values = metric.compute()
    assert values["mrr"].item() == pytest.approx((1 + 0.5 + 0.05) / 3)
    assert values["mr"].item() == pytest.approx(23 / 3)
    assert values["hits@1"].item() == pytest.approx(1 / 3)
    assert values["hits@10"].item() == pytest.approx(2 / 3)
    assert metric.count.item() == 3  # plain sums: exact when reduced across ranks


def test_hits_against_50_sampled_negatives_is_exact_binomial():
    # rank 1 always wins; rank - 1 == num_negatives always loses (every sampled negative outranks it).
    ranks = torch.tensor([1.0, 11.0, 21.0])
    negatives = torch.tensor([10, 10, 40])
    estimate = hits_at_k_against_sampled(ranks, negatives)
    assert estimate[0].item() == pytest.approx(1.0)
    assert estimate[1].item() == pytest.approx(0.0)
    p = 0.5
    expected = sum(math.comb(49, i) * p**i * (1 - p) ** (49 - i) for i in range(10))
    assert estimate[2].item() == pytest.approx(expected)


@pytest.mark.parametrize("ties", ["pessimistic", "realistic", "optimistic"])
def test_agrees_with_pykeen_rank_based_evaluator(ties):
    from pykeen.evaluation import RankBasedEvaluator

    generator = torch.Generator().manual_seed(0)
    batch, num_entities = 64, 30
    # Coarse scores produce many ties; filter a few true answers per row.
    scores = torch.randint(0, 8, (batch, num_entities), generator=generator).float()
    targets = torch.randint(num_entities, (batch,), generator=generator)
    known = torch.rand(batch, num_entities, generator=generator) < 0.1
    known[torch.arange(batch), targets] = True

    ranks, negatives = filtered_ranks(scores, targets, known.clone(), ties)
    ours = RankingMetrics()
    ours.update(ranks, negatives)
    values = ours.compute()

    evaluator = RankBasedEvaluator(filtered=True)
    hrt = torch.stack([torch.zeros_like(targets), torch.zeros_like(targets), targets], dim=1)
    true_scores = scores[torch.arange(batch), targets].unsqueeze(1)
    dense_positive_mask = known.clone()
    dense_positive_mask[torch.arange(batch), targets] = False
    filtered_scores = scores.masked_fill(dense_positive_mask, float("nan"))
    evaluator.process_scores_(
        hrt_batch=hrt,
        target="tail",
        scores=filtered_scores,
        true_scores=true_scores,
        dense_positive_mask=dense_positive_mask,
    )
    result = evaluator.finalize()
    assert values["mrr"].item() == pytest.approx(result.get_metric(f"tail.{ties}.inverse_harmonic_mean_rank"), rel=1e-6)
    assert values["mr"].item() == pytest.approx(result.get_metric(f"tail.{ties}.arithmetic_mean_rank"), rel=1e-6)
    for k in (1, 3, 10):
        assert values[f"hits@{k}"].item() == pytest.approx(result.get_metric(f"tail.{ties}.hits_at_{k}"), rel=1e-6)


def test_hits_at_10_against_50_is_left_out_where_49_negatives_cannot_be_drawn() -> None:
    from lit_kgns.metrics import RankingMetrics

    metric = RankingMetrics()
    metric.update(torch.tensor([1.0, 3.0]), torch.tensor([100, 100]))
    assert "hits@10_50" in metric.compute()
    metric.update(torch.tensor([2.0]), torch.tensor([13]))  # a query of a 14-entity graph
    assert "hits@10_50" not in metric.compute()


@pytest.mark.parametrize(
    ("flagged", "directions", "tails_only"),
    [(True, "dataset", True), (False, "dataset", False), (True, "both", False), (False, "tail", True)],
)
def test_evaluation_ranks_the_queries_the_split_asks(flagged, directions, tails_only):
    """A split flagged tail-only (the DacKGR graphs) is ranked on its tail queries unless
    ``data.eval_directions`` says otherwise; the metrics equal ranks computed by hand from ``score_all``."""
    import pytorch_lightning as pl
    from toy_graphs import NUM_ENTITIES, NUM_RELATIONS, typed_dataset

    from lit_kgns.backbones.kge import DistMult
    from lit_kgns.data import KGDataModule
    from lit_kgns.module import KGLinkPrediction

    dataset = typed_dataset()
    dataset.test.tail_only = flagged
    torch.manual_seed(0)
    backbone = DistMult(NUM_ENTITIES, NUM_RELATIONS, embedding_dim=4)
    datamodule = KGDataModule.from_datasets(
        [dataset], eval_batch_size=5, eval_directions=directions, on_data_issue="ignore"
    )
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    (logged,) = trainer.test(KGLinkPrediction(backbone), datamodule=datamodule, verbose=False)

    heads, relations, tails = dataset.test.targets.t()
    known = dataset.test.known_answers
    graph, tail_side = dataset.test.graph, torch.zeros_like(heads, dtype=torch.bool)
    with torch.no_grad():
        tail_scores = backbone.score_all(graph, heads, relations, tail_side)
        head_scores = backbone.score_all(graph, tails, relations, ~tail_side)
    ranks, _ = filtered_ranks(tail_scores, tails, known.answer_mask(heads, relations))
    if not tails_only:
        head_ranks, _ = filtered_ranks(head_scores, heads, known.answer_mask(tails, relations + NUM_RELATIONS))
        ranks = torch.cat([ranks, head_ranks])
    assert logged["test/num_queries"] == len(ranks) == len(tails) * (1 if tails_only else 2)
    assert logged["test/mrr"] == pytest.approx((1 / ranks).mean().item(), rel=1e-6)


def test_an_unknown_eval_direction_is_refused():
    from lit_kgns.data import KGDataModule
    from lit_kgns.errors import ConfigError

    expected = r"data\.eval_directions must be one of 'dataset', 'both', 'tail', got 'head'"
    with pytest.raises(ConfigError, match=expected):
        KGDataModule(eval_directions="head")
