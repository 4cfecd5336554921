"""KMASSampler: contract, hard negatives from similar relations, schedule wiring, state, resume, DDP."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from toy_graphs import (
    CITIES,
    COUNTRIES,
    NUM_ENTITIES,
    PERSONS,
    typed_dataset,
    typed_split,
    typed_triples,
)

from lit_kgns.backbones import KGBackbone, Ultra
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.graph import KGGraph, LinkPredictionSplit
from lit_kgns.module import KGLinkPrediction
from lit_kgns.samplers import HardRatioSchedule, KMASSampler, StrictUniformSampler


def typed_relation_vectors() -> Tensor:
    """r0 ~ r1, r2 ~ r3, and their inverses likewise, four orthogonal groups (rows: 2R relations)."""
    basis = torch.eye(4)
    vectors = torch.stack([basis[0], basis[0], basis[1], basis[1], basis[2], basis[2], basis[3], basis[3]])
    return vectors + 0.05 * torch.arange(8).unsqueeze(1).float() * torch.tensor([0.0, 0.0, 0.0, 1.0])


class FixedRelations(KGBackbone):
    """DistMult over learnable tables; ``relation_representations`` is the (query-free) relation table."""

    def __init__(self, num_entities: int = NUM_ENTITIES, relations: Tensor | None = None, dim: int = 4) -> None:
        super().__init__()
        relations = typed_relation_vectors() if relations is None else relations
        self.entities = nn.Parameter(torch.randn(num_entities, relations.shape[1]))
        self.relations = nn.Parameter(relations.clone())

    def forward(self, graph, anchors, relations, head_queries, candidates=None, removed_edges=None) -> Tensor:
        query = self.entities[anchors] * self.relations[relations + head_queries.long() * graph.num_direct_relations]
        targets = self.entities if candidates is None else self.entities[candidates]
        if candidates is None:
            return query @ targets.t()
        return (query.unsqueeze(1) * targets).sum(-1)

    def relation_representations(self, graph, query_relations=None) -> Tensor:
        return self.relations


def make_sampler(**kwargs) -> KMASSampler:
    options = {
        "num_negatives": 16,
        "seed": 3,
        "top_k": 2,
        "temperature": 0.1,
        "diagnostics_every_n_steps": None,
    }
    options.update(kwargs)
    sampler = KMASSampler(**options)
    sampler.attach([typed_split()])
    sampler.refresh(FixedRelations())
    return sampler


# ----------------------------------------------------------------------------- unit tests
def test_contract_shapes_range_and_filtering() -> None:
    sampler = make_sampler(side="random")
    sampler.hard_ratio = 1.0
    positives = typed_triples()
    batch = sampler.sample(positives)
    assert batch.entities.shape == batch.mask.shape == (len(positives), 16)
    assert batch.entities.min() >= 0 and batch.entities.max() < NUM_ENTITIES
    queries = batch.queries(positives, sampler.graphs[0].graph.num_direct_relations)
    valid = batch.mask
    assert not (batch.entities == queries.answers.unsqueeze(1))[valid].any()
    known = sampler.graphs[0].known.contains(
        queries.anchors.unsqueeze(1), queries.query_relations.unsqueeze(1), batch.entities
    )
    assert not known[valid].any()


def test_hard_negatives_come_from_similar_relations() -> None:
    sampler = make_sampler(side="half", num_negatives=32)
    sampler.hard_ratio = 1.0
    positives = typed_triples()
    batch = sampler.sample(positives)
    hard = batch.hard
    assert hard.float().mean() > 0.9  # most hard draws survive filtering on this graph
    relation = positives[:, 1]
    for row in range(len(positives)):
        drawn = set(batch.entities[row][hard[row]].tolist())
        if batch.head_corrupted[row]:  # heads of r and its look-alike: the domain
            expected = PERSONS if relation[row] < 2 else CITIES
        else:  # tails of r and its look-alike: the range
            expected = CITIES if relation[row] < 2 else COUNTRIES
        assert drawn <= expected, (row, drawn)


def test_top1_without_self_uses_the_look_alike_relation() -> None:
    sampler = make_sampler(top_k=1, include_self=False)
    neighbours = sampler.caches[0].neighbours.squeeze(1).tolist()
    assert neighbours == [1, 0, 3, 2, 5, 4, 7, 6]
    sampler.hard_ratio = 1.0
    positives = torch.tensor([[0, 0, 8], [1, 0, 9]])  # tail queries of born_in
    sampler.side = "tail"
    batch = sampler.sample(positives)
    lives_in_tails = {t for _, r, t in typed_triples().tolist() if r == 1}
    assert set(batch.entities[batch.hard].tolist()) <= lives_in_tails


def test_hard_slot_count_follows_ratio() -> None:
    sampler = make_sampler(num_negatives=10)
    positives = typed_triples()
    for ratio, expected in [(0.0, 0), (0.3, 3), (1.0, 10)]:
        sampler.hard_ratio = ratio
        hard = sampler.sample(positives).hard
        assert hard[:, expected:].sum() == 0
        assert hard.sum(1).max() <= expected


def test_ratio_zero_equals_strict_uniform() -> None:
    kmas = make_sampler(side="random")
    kmas.hard_ratio = 0.0
    uniform = StrictUniformSampler(num_negatives=16, side="random", seed=3)
    uniform.attach([typed_split()])
    positives = typed_triples()
    for batch_index in range(3):
        kmas.reseed(0, batch_index)
        uniform.reseed(0, batch_index)
        left, right = kmas.sample(positives), uniform.sample(positives)
        assert torch.equal(left.entities, right.entities) and torch.equal(left.mask, right.mask)
        assert not left.hard.any()


@pytest.mark.parametrize("representation", ["query", "query_diagonal", "mean"])
def test_ultra_representations(representation: str) -> None:
    torch.manual_seed(0)
    backbone = Ultra(dim=8, num_relation_layers=2, num_entity_layers=2).train()
    sampler = KMASSampler(num_negatives=8, top_k=3, representation=representation, chunk_size=3, seed=0)
    sampler.attach([typed_split()])
    sampler.refresh(backbone)
    assert backbone.training  # mode restored
    cache = sampler.caches[0]
    assert cache.neighbours.shape == (8, 3) and cache.neighbours.max() < 8
    assert torch.allclose(cache.cumulative[:, -1], torch.ones(8))
    assert (cache.cumulative.diff(dim=1) >= 0).all()
    sampler.hard_ratio = 0.5
    assert sampler.sample(typed_triples()).entities.shape == (32, 8)


def test_query_mode_chunking_is_invariant() -> None:
    torch.manual_seed(0)
    backbone = Ultra(dim=8, num_relation_layers=2, num_entity_layers=2)
    fingerprints = set()
    for chunk_size in (1, 4):
        sampler = KMASSampler(num_negatives=8, top_k=3, chunk_size=chunk_size)
        sampler.attach([typed_split()])
        sampler.refresh(backbone)
        fingerprints.add(tuple(sampler.caches[0].neighbours.flatten().tolist()))
    assert len(fingerprints) == 1


def test_one_cache_per_training_graph() -> None:
    sampler = KMASSampler(num_negatives=8, top_k=2, seed=0)
    other = torch.tensor([[0, 0, 1], [1, 1, 2], [2, 0, 3]])
    small = LinkPredictionSplit("small", KGGraph.from_triples(other, 4, 2), other, other)
    sampler.attach([typed_split(), small])

    class PerGraph(FixedRelations):
        def relation_representations(self, graph, query_relations=None) -> Tensor:
            return self.relations if graph.num_relations == 8 else torch.eye(4)

    sampler.refresh(PerGraph())
    assert [len(cache.neighbours) for cache in sampler.caches] == [8, 4]
    sampler.hard_ratio = 1.0
    batch = sampler.sample(other, graph_id=1)
    assert batch.entities.max() < 4


def test_state_round_trip() -> None:
    sampler = make_sampler()
    sampler.refreshes.done(step=12, epoch=2)
    state = sampler.state_dict()
    restored = KMASSampler(num_negatives=16, top_k=2, seed=99)
    restored.attach([typed_split()])
    restored.load_state_dict(state)
    assert restored.seed == 3 and (restored.refreshes.last_step, restored.refreshes.last_epoch) == (12, 2)
    assert restored.caches[0].fingerprint() == sampler.caches[0].fingerprint()
    lean = make_sampler(cache_in_checkpoint=False).state_dict()
    assert "caches" not in lean and lean["seed"] == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"similarity": "l2"}, "similarity must be one of"),
        ({"representation": "first"}, "representation must be one of"),
        ({"weighting": "counts"}, "weighting must be one of"),
        ({"temperature": 0.0}, "temperature must be positive"),
        ({"top_k": 0}, "top_k must be a positive integer or null"),
        ({"refresh_every_n_steps": 0}, "refresh_every_n_steps must be a positive integer or null"),
        ({"num_negatives": 0}, "num_negatives must be a positive integer"),
    ],
)
def test_bad_options_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KMASSampler(**kwargs)


# ----------------------------------------------------------------------------- Trainer-level tests
class RecordingKMAS(KMASSampler):
    """Keeps every batch of drawn negatives."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.drawn: list[Tensor] = []

    def draw(self, positives: Tensor, head_corrupted: Tensor, graph_id: int):
        drawn = super().draw(positives, head_corrupted, graph_id)
        self.drawn.append(drawn[0].clone())
        return drawn


def sgd(parameters) -> torch.optim.Optimizer:
    return torch.optim.SGD(parameters, lr=0.5)


def fit(tmp_path: Path, sampler: KMASSampler, ckpt_path: str | None = None, **trainer_kwargs) -> pl.Trainer:
    pl.seed_everything(0, workers=True)
    module = KGLinkPrediction(FixedRelations(), optimizer=sgd, remove_batch_edges=False)
    options = {
        "max_epochs": 2,
        "limit_val_batches": 0,
        "logger": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "default_root_dir": str(tmp_path),
        "accelerator": "cpu",
        "devices": 1,
    }
    options.update(trainer_kwargs)
    trainer = pl.Trainer(callbacks=[sampler, *options.pop("callbacks", [])], **options)
    datamodule = KGDataModule.from_datasets([typed_dataset()], test_datasets=[], batch_size=8, batches_per_epoch=4)
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    return trainer


def sampler_options(**kwargs) -> dict:
    options = {
        "num_negatives": 8,
        "seed": 5,
        "top_k": 3,
        "temperature": 0.5,
        "diagnostics_every_n_steps": 2,
        "schedule": HardRatioSchedule("linear", peak_ratio=0.75, warmup_end=0.0, peak_at=0.25, end_ratio=0.25),
    }
    options.update(kwargs)
    return options


@pytest.mark.parametrize(
    ("refresh_every_n_steps", "cache_in_checkpoint"),
    [(3, True), (None, False)],
    ids=["steps+cache", "epochs"],
)
def test_resume_draws_the_same_negatives(
    tmp_path: Path, refresh_every_n_steps: int | None, cache_in_checkpoint: bool
) -> None:
    options = sampler_options(refresh_every_n_steps=refresh_every_n_steps, cache_in_checkpoint=cache_in_checkpoint)
    checkpoints = pl.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_top_k=-1, every_n_epochs=1)
    full = RecordingKMAS(**options)
    trainer = fit(tmp_path / "full", full, callbacks=[checkpoints], logger=pl.loggers.CSVLogger(tmp_path))
    assert len(full.drawn) == 8
    logged = set(trainer.logged_metrics)
    assert {"train/hard_ratio", "kmas/hard_score_mean", "kmas/random_score_mean"} <= logged
    assert "kmas/refresh_seconds" in logged
    assert "kmas/false_negative_rate" not in logged  # the toy's evaluation triples are training triples
    # the relation table was trained, so the cache does change between refreshes
    assert not torch.allclose(trainer.lightning_module.backbone.relations, typed_relation_vectors())

    resumed = RecordingKMAS(**options)
    fit(tmp_path / "resumed", resumed, ckpt_path=str(tmp_path / "ckpt" / "epoch=0-step=4.ckpt"))
    assert len(resumed.drawn) == 4
    for expected, actual in zip(full.drawn[4:], resumed.drawn, strict=True):
        assert torch.equal(expected, actual)
    assert resumed.caches[0].fingerprint() == full.caches[0].fingerprint()


def test_false_negative_rate_is_the_share_of_hard_slots_that_are_held_out_facts() -> None:
    from types import SimpleNamespace

    from lit_kgns.data.graph import KGDataset
    from lit_kgns.negatives import NegativeBatch
    from lit_kgns.samplers.kmas_diagnostics import KMASDiagnostics

    train = typed_split("typed")
    # held out: every person also lives in the city after their birth city (not a training triple)
    second_homes = torch.tensor([(p, 1, 8 + (p + 1) % 8) for p in range(8)])
    valid = LinkPredictionSplit("typed/valid", train.graph, second_homes, second_homes)
    dataset = KGDataset("typed", "transductive", train, valid, valid)
    datamodule = KGDataModule.from_datasets([dataset], test_datasets=[])
    datamodule.setup("fit")
    trainer = SimpleNamespace(datamodule=datamodule)
    module = KGLinkPrediction(FixedRelations(), optimizer=sgd)

    positives = torch.tensor([(p, 1, 8 + (p + 3) % 8) for p in range(4)])  # lives_in tail queries
    cities = torch.arange(8, 16).repeat(4, 1)
    hard = torch.zeros(4, 8, dtype=torch.bool)
    hard[:, :4] = True  # cities 8-11 are the hard slots of every row
    negatives = NegativeBatch(cities, torch.zeros(4, dtype=torch.bool), torch.ones(4, 8, dtype=torch.bool), hard)
    diagnostics = KMASDiagnostics(batch_size=4)
    measured = diagnostics.measure(trainer, module, datamodule.train_splits[0].graph, positives, negatives, 0)
    # persons 0-3 have second homes 9, 10, 11, 12: three of the four fall among the hard cities 8-11
    assert measured["kmas/false_negative_rate"] == pytest.approx(3 / 16)
    assert [source.split(" ")[0] for source in diagnostics.sources[0]] == ["typed/valid"]
