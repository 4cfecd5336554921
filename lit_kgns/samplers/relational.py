"""Relational (Kotnis & Nastase, 2017, as in the PyKEEN extension): entities linked to the kept entity by
*another* relation."""

from __future__ import annotations

from torch import Tensor

from lit_kgns.data.graph import KGGraph
from lit_kgns.data.triple_index import QueryAnswers
from lit_kgns.samplers.fallback import PoolRanges
from lit_kgns.samplers.pools import PoolSampler, SortedPools


def relational_pools(graph: KGGraph) -> SortedPools:
    """Every edge ``anchor --q'--> neighbour`` (direct and inverse) keyed by ``anchor * 2R + q'``, kept as a
    multiset (an entity linked by several relations appears several times, as in the extension)."""
    keys = graph.edge_index[0] * graph.num_relations + graph.edge_type
    return SortedPools.from_pairs(keys, graph.edge_index[1], deduplicate=False)


class RelationalSampler(PoolSampler):
    """Tail corruption of ``(h, r, t)``: the multiset ``{t' : (h, r', t') ∈ T, r' ≠ r}``; head corruption:
    ``{h' : (h', r', t) ∈ T, r' ≠ r}``.

    With the query ``(anchor, q)`` (``q = r`` or ``r + R``), the pool is the slice of the anchor's edges in
    the direction of ``q`` (direct types ``[0, R)`` or inverse ``[R, 2R)``) with the sub-slice of type ``q``
    skipped: two binary searches per query, no per-triple loops. Sampling follows the multiset (entities
    linked by more relations are drawn more often); pool statistics report it both as multiset and as set.
    """

    def pool_ranges(
        self,
        anchors: Tensor,
        query_relations: Tensor,
        answers: Tensor,
        graph_id: int,
        known: QueryAnswers | None = None,
    ) -> PoolRanges:
        graph = self.graphs[graph_id].graph
        pools: SortedPools = graph.cached("samplers/relational_pools", relational_pools)
        num_relations, num_direct = graph.num_relations, graph.num_direct_relations
        block = anchors * num_relations + (query_relations // num_direct) * num_direct
        start, count = pools.bounds(block, block + num_direct - 1)
        skip_start, skip_count = pools.bounds(anchors * num_relations + query_relations)
        return PoolRanges(pools.entities, start, count, skip_start, skip_count)
