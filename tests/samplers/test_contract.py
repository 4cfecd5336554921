"""One contract every negative sampler satisfies; each sampler inherits :class:`SamplerContract`."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from functools import cache

import pytest
import pytorch_lightning as pl
import torch

from lit_kgns.backbones import DistMult, TransE, Ultra
from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.graph import LinkPredictionSplit
from lit_kgns.negatives import NegativeBatch
from lit_kgns.samplers import (
    AdversarialSampler,
    BernoulliSampler,
    CorruptSampler,
    KMASSampler,
    NearestNeighborSampler,
    NegativeSampler,
    RelationalSampler,
    StrictUniformSampler,
    TypedSampler,
    UniformSampler,
)

K = 32


@cache
def nations() -> LinkPredictionSplit:
    return load_dataset("nations").train


def typed_sampler(**kwargs: object) -> TypedSampler:
    sampler = TypedSampler(**kwargs)
    # Synthetic schema: entity e has type e % 3 (plus type 3 for even entities); domain/range observed.
    entities = torch.arange(14)
    pairs = torch.cat([torch.stack([entities, entities % 3], 1), torch.stack([entities[::2], torch.full((7,), 3)], 1)])
    sampler.set_types(pairs)
    return sampler


def with_model(
    cls: Callable[..., NegativeSampler], model: Callable[[], torch.nn.Module]
) -> Callable[..., NegativeSampler]:
    def build(**kwargs: object) -> NegativeSampler:
        torch.manual_seed(0)
        return cls(model=model(), num_query_results=8, **kwargs)

    return build


def fingerprint(value: object, path: str = "sampler", seen: set[int] | None = None) -> dict[str, str]:
    """Digest of every tensor a sampler holds, by attribute path; generators and modules excluded."""

    seen = set() if seen is None else seen
    if id(value) in seen or isinstance(value, torch.Generator | pl.Trainer | torch.nn.Module):
        return {}
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        dense = value.detach().cpu()
        dense = dense.to_dense() if dense.layout != torch.strided else dense
        return {path: hashlib.sha1(dense.contiguous().numpy().tobytes()).hexdigest()[:12]}
    items: dict = {}
    if isinstance(value, dict):
        items = {f"{path}[{key}]": item for key, item in value.items()}
    elif isinstance(value, list | tuple):
        items = {f"{path}[{index}]": item for index, item in enumerate(value)}
    elif hasattr(value, "__dict__"):
        items = {f"{path}.{key}": item for key, item in vars(value).items()}
    return {key: digest for name, item in items.items() for key, digest in fingerprint(item, name, seen).items()}


class SamplerContract:
    """Shapes, id ranges, filtering, mask semantics and determinism under a seed."""

    sampler_factory: Callable[..., NegativeSampler]
    filtered = True  # whether valid negatives are guaranteed not to be known true answers

    def make(self, seed: int = 0, **kwargs: object) -> NegativeSampler:
        sampler = type(self).sampler_factory(num_negatives=K, seed=seed, **kwargs)
        sampler.attach([nations()])
        return sampler

    def positives(self) -> torch.Tensor:
        return nations().targets[:64]

    def test_shapes_and_ids(self) -> None:
        batch = self.make().sample(self.positives())
        assert batch.entities.shape == (64, K) and batch.mask.shape == (64, K)
        assert batch.entities.dtype == torch.long and batch.mask.dtype == torch.bool
        assert batch.head_corrupted.shape == (64,)
        assert int(batch.entities.min()) >= 0 and int(batch.entities.max()) < nations().graph.num_nodes
        assert batch.triples(self.positives()).shape == (64, K, 3)

    def test_one_contract_sample_chooses_sides_and_corrupt_draws_on_them(self) -> None:
        """Every sampler, KMAS included, implements ``corrupt`` and keeps the base ``sample``: the sides come
        from ``side`` and each sampler only draws for the sides it is given."""
        sampler = self.make()
        assert type(sampler).sample is NegativeSampler.sample
        sides = torch.arange(64) % 3 == 0
        batch = sampler.corrupt(self.positives(), sides, 0)
        assert isinstance(batch, NegativeBatch) and torch.equal(batch.head_corrupted, sides)
        assert batch.entities.shape == batch.mask.shape == (64, K)

    def test_never_positive_when_filtered(self) -> None:
        if not self.filtered:
            pytest.skip("unfiltered sampler")
        sampler = self.make()
        positives = self.positives()
        batch = sampler.sample(positives)
        queries = batch.queries(positives, nations().graph.num_direct_relations)
        known = nations().known_answers.contains(
            queries.anchors[:, None], queries.query_relations[:, None], batch.entities
        )
        assert not (known & batch.mask).any()
        assert not ((batch.entities == queries.answers[:, None]) & batch.mask).any()

    def test_mask_semantics(self) -> None:
        batch = self.make().sample(self.positives())
        # Sides follow the base's ``half`` rule; valid slots exist for most positives of Nations.
        assert batch.head_corrupted[32:].all() and not batch.head_corrupted[:32].any()
        assert batch.mask.any(dim=1).float().mean() > 0.5

    def test_deterministic_under_seed(self) -> None:
        first = self.make(seed=3).sample(self.positives())
        second = self.make(seed=3).sample(self.positives())
        other = self.make(seed=4).sample(self.positives())
        assert torch.equal(first.entities, second.entities) and torch.equal(first.mask, second.mask)
        assert not torch.equal(first.entities, other.entities)

    def test_reseed_reproduces(self) -> None:
        sampler = self.make(seed=1)
        sampler.reseed(epoch=2, batch_index=5)
        first = sampler.sample(self.positives())
        sampler.sample(self.positives())
        sampler.reseed(epoch=2, batch_index=5)
        assert torch.equal(first.entities, sampler.sample(self.positives()).entities)

    def test_state_dict_round_trip_draws_the_same_negatives(self) -> None:
        sampler = self.make(seed=7)
        restored = self.make(seed=0)
        restored.load_state_dict(sampler.state_dict())
        for each in (sampler, restored):
            each.reseed(epoch=1, batch_index=3)
        assert torch.equal(sampler.sample(self.positives()).entities, restored.sample(self.positives()).entities)

    def test_one_positive_batch(self) -> None:
        batch = self.make().sample(self.positives()[:1])
        assert batch.entities.shape == (1, K) and batch.mask.shape == (1, K)

    def test_caches_depend_only_on_the_graph_and_the_model(self) -> None:
        """What each DDP rank computes for itself: two samplers built apart, on other ranks, hold the same tables."""
        first, second = self.make(seed=2), self.make(seed=2)
        second.rank = 1
        assert fingerprint(first) == fingerprint(second)

    def test_another_rank_draws_other_negatives(self) -> None:
        first, second = self.make(seed=2), self.make(seed=2)
        second.rank = 1
        for sampler in (first, second):
            sampler.reseed(epoch=0, batch_index=0)
        assert not torch.equal(first.sample(self.positives()).entities, second.sample(self.positives()).entities)


class TestUniform(SamplerContract):
    sampler_factory = UniformSampler
    filtered = False


class TestStrictUniform(SamplerContract):
    sampler_factory = StrictUniformSampler


class TestBernoulli(SamplerContract):
    sampler_factory = BernoulliSampler
    filtered = False

    def make(self, seed: int = 0, **kwargs: object) -> NegativeSampler:
        return super().make(seed, side="half", **kwargs)


class TestCorrupt(SamplerContract):
    sampler_factory = CorruptSampler


class TestCorruptWiden(SamplerContract):
    sampler_factory = staticmethod(lambda **kw: CorruptSampler(fallback="widen", **kw))


class TestRelational(SamplerContract):
    sampler_factory = RelationalSampler


class TestRelationalMask(SamplerContract):
    sampler_factory = staticmethod(lambda **kw: RelationalSampler(fallback="mask", **kw))


class TestTyped(SamplerContract):
    sampler_factory = staticmethod(typed_sampler)


class TestNearestNeighbor(SamplerContract):
    sampler_factory = staticmethod(with_model(NearestNeighborSampler, lambda: TransE(14, 55, 16)))


class TestAdversarial(SamplerContract):
    sampler_factory = staticmethod(with_model(AdversarialSampler, lambda: DistMult(14, 55, 16)))


class TestKMAS(SamplerContract):
    """KMAS with a refreshed cache and half of the slots hard."""

    sampler_factory = KMASSampler

    def make(self, seed: int = 0, **kwargs: object) -> NegativeSampler:
        sampler = super().make(seed, top_k=4, diagnostics_every_n_steps=None, **kwargs)
        torch.manual_seed(0)
        sampler.refresh(Ultra(dim=8, num_relation_layers=2, num_entity_layers=2))
        sampler.hard_ratio = 0.5
        return sampler

    def test_half_of_the_slots_are_hard(self) -> None:
        batch = self.make().sample(self.positives())
        assert batch.hard is not None and batch.hard[:, K // 2 :].sum() == 0 and batch.hard.any()


class TestAdversarialPerBatch(SamplerContract):
    sampler_factory = staticmethod(
        with_model(functools.partial(AdversarialSampler, precompute=False), lambda: DistMult(14, 55, 16))
    )
