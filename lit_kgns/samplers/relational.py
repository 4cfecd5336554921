"""Relational (Kotnis & Nastase, 2017, as in the PyKEEN extension): entities linked to the kept entity by
*another* relation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph
from lit_kgns.data.triple_index import expand_ranges
from lit_kgns.samplers.fallback import PoolRanges
from lit_kgns.samplers.pools import PoolSampler, SortedPools

#: Largest ``2 * num_nodes * num_relations`` for which the first position of every ``(anchor, query
#: relation)`` key is kept in a dense int32 table (64 MiB) instead of being found by binary search per query.
DENSE_KEY_LIMIT = 1 << 24


@dataclass(eq=False)
class RelationalPools:
    """The edges of every ``(anchor, direction)`` *block*, each stored twice in a row (``doubled``), so that
    "the block without the sub-slice of relation ``q``" is one contiguous slice: it starts right after that
    sub-slice and wraps around into the copy."""

    pools: SortedPools  # edges keyed by ``anchor * 2R + q'``, sorted
    block_start: Tensor  # (2N + 1,) first position of block ``2 * anchor + direction`` in ``pools``
    doubled: Tensor  # (2P,) entities: block ``b`` at ``[2 * block_start[b], 2 * block_start[b + 1])``, twice
    key_start: Tensor | None  # (2NR + 1,) int32 first position of each key, or None above DENSE_KEY_LIMIT

    def key_bounds(self, keys: Tensor) -> tuple[Tensor, Tensor]:
        """``(start, end)`` of each key's slice in ``pools``: two table reads, or two binary searches."""
        if self.key_start is None:
            start, count = self.pools.bounds(keys)
            return start, start + count
        return self.key_start.index_select(0, keys).long(), self.key_start.index_select(0, keys + 1).long()


def relational_pools(graph: KGGraph) -> RelationalPools:
    """Every edge ``anchor --q'--> neighbour`` (direct and inverse) keyed by ``anchor * 2R + q'``, kept as a
    multiset (an entity linked by several relations appears several times, as in the extension)."""
    keys = graph.edge_index[0] * graph.num_relations + graph.edge_type
    pools = SortedPools.from_pairs(keys, graph.edge_index[1], deduplicate=False)
    # Block 2a + d holds the keys [(2a + d) R, (2a + d + 1) R).
    blocks = torch.arange(2 * graph.num_nodes + 1, device=keys.device) * graph.num_direct_relations
    block_start = torch.searchsorted(pools.keys, blocks)
    lengths = block_start.diff()
    block, position = expand_ranges(2 * block_start[:-1], 2 * lengths)
    first = block_start[:-1][block]
    source = first + (position - 2 * first) % lengths[block]
    num_keys = graph.num_nodes * graph.num_relations
    key_start = None
    if num_keys < DENSE_KEY_LIMIT:
        counts = torch.bincount(pools.keys, minlength=num_keys)
        key_start = torch.cat([counts.new_zeros(1), counts.cumsum(0)]).int()
    return RelationalPools(pools, block_start, pools.entities[source], key_start)


class RelationalSampler(PoolSampler):
    """Tail corruption of ``(h, r, t)``: the multiset ``{t' : (h, r', t') ∈ T, r' ≠ r}``; head corruption:
    ``{h' : (h', r', t) ∈ T, r' ≠ r}``.

    With the query ``(anchor, q)`` (``q = r`` or ``r + R``), the pool is the anchor's edges in the direction
    of ``q`` (direct types ``[0, R)`` or inverse ``[R, 2R)``) without those of type ``q``: a contiguous slice
    of the doubled block table, found with a few table reads per query and no per-triple loops. Sampling
    follows the multiset (entities linked by more relations are drawn more often); pool statistics report
    it both as multiset and as set.
    """

    def pool_ranges(self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int) -> PoolRanges:
        graph = self.graphs[graph_id].graph
        relational: RelationalPools = graph.cached("samplers/relational_pools", relational_pools)
        block = 2 * anchors + query_relations // graph.num_direct_relations
        block_start = relational.block_start.index_select(0, block)
        block_length = relational.block_start.index_select(0, block + 1) - block_start
        skip_start, skip_end = relational.key_bounds(anchors * graph.num_relations + query_relations)
        # In the doubled block, the entries after the skipped sub-slice and, wrapping, those before it.
        start = block_start + skip_end
        return PoolRanges(relational.doubled, start, block_length - (skip_end - skip_start))
