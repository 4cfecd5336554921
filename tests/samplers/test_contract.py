"""One contract every negative sampler satisfies; each sampler inherits :class:`SamplerContract`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cache

import pytest
import torch

from lit_kgns.backbones import DistMult, TransE
from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.graph import LinkPredictionSplit
from lit_kgns.samplers import (
    AdversarialSampler,
    BernoulliSampler,
    CorruptSampler,
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
    pairs = torch.cat(
        [torch.stack([entities, entities % 3], 1), torch.stack([entities[::2], torch.full((7,), 3)], 1)]
    )
    sampler.set_types(pairs)
    return sampler


def with_model(
    cls: Callable[..., NegativeSampler], model: Callable[[], torch.nn.Module]
) -> Callable[..., NegativeSampler]:
    def build(**kwargs: object) -> NegativeSampler:
        torch.manual_seed(0)
        return cls(model=model(), num_query_results=8, **kwargs)

    return build


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

    def test_never_positive_when_filtered(self) -> None:
        if not self.filtered:
            pytest.skip("unfiltered sampler")
        sampler = self.make()
        positives = self.positives()
        batch = sampler.sample(positives)
        anchors, relations, answers = sampler.query(positives, batch.head_corrupted, nations().graph)
        known = nations().known_answers.contains(anchors[:, None], relations[:, None], batch.entities)
        assert not (known & batch.mask).any()
        assert not ((batch.entities == answers[:, None]) & batch.mask).any()

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


class TestAdversarialPerBatch(SamplerContract):
    sampler_factory = staticmethod(
        with_model(functools.partial(AdversarialSampler, precompute=False), lambda: DistMult(14, 55, 16))
    )
