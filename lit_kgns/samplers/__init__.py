"""Negative samplers: Lightning Callbacks that corrupt positive triples during training."""

from lit_kgns.samplers.base import NegativeBatch, NegativeSampler
from lit_kgns.samplers.uniform import StrictUniformSampler, UniformSampler

__all__ = ["NegativeBatch", "NegativeSampler", "StrictUniformSampler", "UniformSampler"]
