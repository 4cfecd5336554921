"""Evaluation scores each distinct query once: the same ranks, to the last digit, as scoring every target triple
for itself, and one forward row per distinct query."""

from __future__ import annotations

from collections import Counter

import pytest
import pytorch_lightning as pl
import torch

from lit_kgns.backbones import DistMult, Ultra
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.evaluation_queries import EvaluationQueries
from lit_kgns.metrics import RankingMetrics, filtered_ranks
from lit_kgns.module import KGLinkPrediction
from lit_kgns.scoring import score_targets


def backbones() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {
        "ultra": Ultra(dim=8, num_relation_layers=2, num_entity_layers=2),
        "distmult": DistMult(num_entities=14, num_relations=55, embedding_dim=8),
    }


def test_queries_group_every_target_once_with_its_own_answer() -> None:
    triples = torch.tensor([(0, 0, 1), (0, 0, 2), (3, 0, 1), (0, 1, 1)])
    dataset = EvaluationQueries(triples)
    # tail queries (0, 0, ?) twice, (3, 0, ?), (0, 1, ?); head queries (?, 0, 1) twice, (?, 0, 2), (?, 1, 1)
    assert len(dataset) == 6
    batch = dataset.collate(list(range(len(dataset))))
    assert len(batch) == 8
    asked = Counter(
        (bool(batch.head_queries[q]), int(batch.relations[q]), int(batch.anchors[q]), int(answer))
        for q, answer in zip(batch.answer_query.tolist(), batch.answers.tolist(), strict=True)
    )
    expected = Counter(
        [(False, r, h, t) for h, r, t in triples.tolist()] + [(True, r, t, h) for h, r, t in triples.tolist()]
    )
    assert asked == expected
    assert len(EvaluationQueries(triples, tail_only=True)) == 3


def ranks_of_test(module: KGLinkPrediction, datamodule: KGDataModule, monkeypatch) -> tuple[torch.Tensor, int]:
    """The ranks ``trainer.test`` computes (sorted) and the rows the backbone scored."""
    ranks, scored_rows = [], [0]
    update = RankingMetrics.update
    monkeypatch.setattr(RankingMetrics, "update", lambda self, r, n: (ranks.append(r.clone()), update(self, r, n)))
    score_all = module.backbone.score_all

    def counted(graph, anchors, *args, **kwargs):
        scored_rows[0] += len(anchors)
        return score_all(graph, anchors, *args, **kwargs)

    monkeypatch.setattr(module.backbone, "score_all", counted)
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.test(module, datamodule=datamodule, verbose=False)
    monkeypatch.setattr(module.backbone, "score_all", score_all)
    return torch.cat(ranks).sort().values, scored_rows[0]


@pytest.mark.parametrize("name", ["ultra", "distmult"])
@pytest.mark.parametrize("eval_batch_size", [3, 64])
def test_grouped_ranks_equal_per_triple_ranks_and_each_query_is_scored_once(name, eval_batch_size, monkeypatch):
    module = KGLinkPrediction(backbones()[name])
    datamodule = KGDataModule(test_datasets=["nations"], eval_batch_size=eval_batch_size)
    grouped, scored_rows = ranks_of_test(module, datamodule, monkeypatch)
    split = datamodule.test_splits[0]
    module.eval()
    per_triple = score_targets(module.backbone, split, split.targets)  # every triple's queries for itself
    expected, _ = filtered_ranks(per_triple.scores, per_triple.answers, per_triple.known)
    assert torch.equal(grouped, expected.sort().values)  # every rank, to the last digit
    distinct = EvaluationQueries(split.targets)
    assert scored_rows == len(distinct) < 2 * len(split.targets)  # nations repeats queries: fewer forwards


@pytest.mark.parametrize("name", ["ultra", "motif", "semma"])
def test_queries_sharing_a_relation_share_one_relation_pass_with_the_same_scores(name) -> None:
    from lit_kgns.backbones import Motif, Semma

    torch.manual_seed(0)
    backbone = {
        "ultra": lambda: Ultra(dim=8, num_relation_layers=2, num_entity_layers=2),
        "motif": lambda: Motif(dim=8, num_relation_layers=2, num_entity_layers=2),
        "semma": lambda: Semma(dim=8, num_relation_layers=2, num_semantic_layers=2, num_entity_layers=2),
    }[name]().eval()
    split = KGDataModule(test_datasets=["nations"]).dataset("nations").test
    anchors = torch.tensor([0, 1, 2, 0, 3, 4])
    relations = torch.tensor([5, 5, 5, 7, 7, 5])
    head_queries = torch.tensor([False, False, True, False, True, False])
    passes = []
    original = backbone.query_representations
    backbone.query_representations = lambda graph, r, q: (passes.append(len(r)), original(graph, r, q))[1]
    together = backbone.score_all(split.graph, anchors, relations, head_queries)
    assert passes == [4]  # (5, tail), (5, head), (7, tail), (7, head): once each
    for row in range(len(anchors)):
        alone = backbone.score_all(
            split.graph, anchors[row : row + 1], relations[row : row + 1], head_queries[row : row + 1]
        )
        assert torch.allclose(together[row], alone[0], rtol=0, atol=1e-6)
