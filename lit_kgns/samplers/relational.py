"""Relational (Kotnis & Nastase, 2017, as in the PyKEEN extension): entities linked to the kept entity by
*another* relation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph
from lit_kgns.samplers.fallback import PoolRanges
from lit_kgns.samplers.pools import PoolSampler, SortedPools


@dataclass(eq=False)
class RelationalPools:
    """The edges of :func:`relational_pools` plus where each ``(anchor, direction)`` block starts."""

    pools: SortedPools
    block_start: Tensor  # (2N + 1,): first position of block ``2 * anchor + direction`` in ``pools``


def relational_pools(graph: KGGraph) -> RelationalPools:
    """Every edge ``anchor --q'--> neighbour`` (direct and inverse) keyed by ``anchor * 2R + q'``, kept as a
    multiset (an entity linked by several relations appears several times, as in the extension)."""
    keys = graph.edge_index[0] * graph.num_relations + graph.edge_type
    pools = SortedPools.from_pairs(keys, graph.edge_index[1], deduplicate=False)
    # Block 2a + d holds the keys [(2a + d) R, (2a + d + 1) R): one table read per query instead of a search.
    blocks = torch.arange(2 * graph.num_nodes + 1, device=keys.device) * graph.num_direct_relations
    return RelationalPools(pools, torch.searchsorted(pools.keys, blocks))


class RelationalSampler(PoolSampler):
    """Tail corruption of ``(h, r, t)``: the multiset ``{t' : (h, r', t') ∈ T, r' ≠ r}``; head corruption:
    ``{h' : (h', r', t) ∈ T, r' ≠ r}``.

    With the query ``(anchor, q)`` (``q = r`` or ``r + R``), the pool is the slice of the anchor's edges in
    the direction of ``q`` (direct types ``[0, R)`` or inverse ``[R, 2R)``) with the sub-slice of type ``q``
    skipped: two binary searches per query, no per-triple loops. Sampling follows the multiset (entities
    linked by more relations are drawn more often); pool statistics report it both as multiset and as set.
    """

    def pool_ranges(
        self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int
    ) -> PoolRanges:
        graph = self.graphs[graph_id].graph
        relational: RelationalPools = graph.cached("samplers/relational_pools", relational_pools)
        block = 2 * anchors + query_relations // graph.num_direct_relations
        start = relational.block_start.index_select(0, block)
        count = relational.block_start.index_select(0, block + 1) - start
        skip_start, skip_count = relational.pools.bounds(anchors * graph.num_relations + query_relations)
        return PoolRanges(relational.pools.entities, start, count, skip_start, skip_count)
