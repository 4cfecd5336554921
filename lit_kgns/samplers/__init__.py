"""Negative samplers: Lightning Callbacks that corrupt positive triples during training."""

from lit_kgns.samplers.adversarial import AdversarialSampler
from lit_kgns.samplers.base import NegativeBatch, NegativeSampler
from lit_kgns.samplers.bernoulli import BernoulliSampler, StrictBernoulliSampler
from lit_kgns.samplers.corrupt import CorruptSampler, PseudoTypedSampler
from lit_kgns.samplers.kmas import KMASSampler
from lit_kgns.samplers.neighbors import DynamicPoolSampler, NearestNeighborSampler
from lit_kgns.samplers.pools import PoolSampler
from lit_kgns.samplers.relational import RelationalSampler
from lit_kgns.samplers.schedule import HardRatioSchedule
from lit_kgns.samplers.typed import TypedSampler
from lit_kgns.samplers.uniform import StrictUniformSampler, UniformSampler

__all__ = [
    "AdversarialSampler",
    "BernoulliSampler",
    "CorruptSampler",
    "DynamicPoolSampler",
    "HardRatioSchedule",
    "KMASSampler",
    "NearestNeighborSampler",
    "NegativeBatch",
    "NegativeSampler",
    "PoolSampler",
    "PseudoTypedSampler",
    "RelationalSampler",
    "StrictBernoulliSampler",
    "StrictUniformSampler",
    "TypedSampler",
    "UniformSampler",
]
