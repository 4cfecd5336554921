"""Corrupt (Socher et al., 2013; PyKEEN's PseudoTyped): negatives from the observed domain / range
of ``r``."""

from __future__ import annotations

from torch import Tensor

from lit_kgns.samplers.fallback import PoolRanges
from lit_kgns.samplers.pools import PoolSampler, graph_corrupt_pools


class CorruptSampler(PoolSampler):
    """Head corruption of ``(h, r, t)`` draws from ``{h' : (h', r, ·) ∈ T}``, tail corruption from
    ``{t' : (·, r, t') ∈ T}`` (``T`` = the training graph), uniformly with replacement.

    The pool is the deduplicated set of entities seen with ``r`` on that side; it can contain the positive
    and other true answers, which ``filtered=True`` masks. Unlike PyKEEN's ``PseudoTypedNegativeSampler``
    (which draws from ``heads(r) ‖ tails(r)``), the side is chosen first (``side``), then the pool of
    that side.
    """

    def pool_ranges(self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int) -> PoolRanges:
        return graph_corrupt_pools(self.graphs[graph_id].graph).ranges(query_relations)


class PseudoTypedSampler(CorruptSampler):
    """PyKEEN's name for :class:`CorruptSampler` (same pools, side chosen by ``side``)."""
