"""Bernoulli corruption (Wang et al., 2014): uniform negatives, head side with probability
``tph / (tph + hpt)``."""

from __future__ import annotations

from typing import Any

from lit_kgns.samplers.base import Side
from lit_kgns.samplers.uniform import StrictUniformSampler, UniformSampler


class BernoulliSampler(UniformSampler):
    """:class:`UniformSampler` with ``side="bernoulli"`` by default (PyKEEN's ``BernoulliNegativeSampler``).

    The per-relation head probability is computed by the base class from the training triples
    (:func:`lit_kgns.samplers.base.bernoulli_head_probability`); any sampler accepts ``side="bernoulli"``,
    this class only gives PyKEEN users the familiar name and default.
    """

    def __init__(self, side: Side = "bernoulli", **kwargs: Any) -> None:
        super().__init__(side=side, **kwargs)


class StrictBernoulliSampler(StrictUniformSampler):
    """:class:`StrictUniformSampler` (no known true answers) with Bernoulli side choice by default."""

    def __init__(self, side: Side = "bernoulli", **kwargs: Any) -> None:
        super().__init__(side=side, **kwargs)
