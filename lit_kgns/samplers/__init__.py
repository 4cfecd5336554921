"""Negative samplers: Lightning Callbacks that corrupt positive triples during training."""

from lit_kgns.samplers.base import NegativeBatch, NegativeSampler
from lit_kgns.samplers.kmas import KMASSampler
from lit_kgns.samplers.schedule import HardRatioSchedule
from lit_kgns.samplers.uniform import StrictUniformSampler, UniformSampler

__all__ = [
    "HardRatioSchedule",
    "KMASSampler",
    "NegativeBatch",
    "NegativeSampler",
    "StrictUniformSampler",
    "UniformSampler",
]
