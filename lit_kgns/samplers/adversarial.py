"""Adversarial / near-miss (Kotnis & Nastase, 2017): negatives close to the *predicted* answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lit_kgns.backbones.base import EmbeddingBackbone
from lit_kgns.data.graph import LinkPredictionSplit
from lit_kgns.errors import ConfigError
from lit_kgns.samplers.base import TrainingGraph
from lit_kgns.samplers.fallback import PoolRanges
from lit_kgns.samplers.neighbors import DynamicPoolSampler, compress


@dataclass(eq=False)
class QueryPools:
    """Near-miss pools of a graph's training queries: ``keys`` sorted ``anchor * 2R + q``, ``pools`` the
    ``(Q * k,)`` flat table whose row ``i`` (``k`` slots) holds ``count[i]`` valid entries first."""

    keys: Tensor
    pools: PoolRanges
    width: int

    def ranges(self, keys: Tensor) -> tuple[PoolRanges, Tensor]:
        """Pools of ``keys`` and whether each key is a precomputed query."""
        if len(self.keys) == 0:
            missing = torch.zeros_like(keys, dtype=torch.bool)
            return PoolRanges(self.pools.flat, keys * 0, keys * 0), missing
        position = torch.searchsorted(self.keys, keys).clamp(max=len(self.keys) - 1)
        found = self.keys[position] == keys
        count = torch.where(found, self.pools.count[position], 0)
        return PoolRanges(self.pools.flat, position * self.width, count), found


class AdversarialSampler(DynamicPoolSampler):
    """Near-miss negatives: the ``k`` entities nearest to the source model's predicted target.

    "Nearest" is measured by the source model's own score of every entity for the query ``(h, r, ?)`` /
    ``(?, r, t)``: for translational models with an ``L_p`` score (TransE: ``-||h + r - t||``) this is exactly
    the k-NN of the predicted embedding ``h + r`` (``t - r`` for heads), as in the extension's TransE
    prediction function; for bilinear models (RESCAL, DistMult, ComplEx) it is the maximum-inner-product
    neighbourhood of ``W_r h``. Any :class:`~lit_kgns.backbones.base.KGBackbone` works as source (ULTRA too).
    Known true answers are excluded before the top-k.

    The source is frozen between refreshes, so a query's pool is a function of the query: with
    ``precompute=True`` the pools of every training query ``(anchor, q)`` of the graph are computed at each
    refresh (``Q x k`` entity ids; FB15k-237: 150k queries, about 27 s for a TransE source on 2 CPU cores) and
    a batch only looks them up. With ``precompute=False`` each batch scores its own queries (no table, the
    extension's behaviour).

    Args:
        chunk_size: queries scored at once (bounds the ``(chunk, num_entities)`` score matrix).
        precompute: compute the pools of all training queries at refresh instead of per batch; ``None``
            (default) precomputes for embedding sources (those with ``entity_table()``, the KGE backbones) and
            not for graph models such as ULTRA, whose scoring of every training query is a full evaluation.
        kwargs: the options of :class:`~lit_kgns.samplers.neighbors.DynamicPoolSampler`.
    """

    def __init__(self, chunk_size: int = 256, precompute: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if chunk_size < 1:
            raise ConfigError(f"chunk_size must be positive, got {chunk_size}")
        self.chunk_size = chunk_size
        self.precompute = precompute
        self.query_pools: dict[int, QueryPools] = {}

    def attach(self, splits: list[LinkPredictionSplit], device: torch.device | str = "cpu") -> None:
        super().attach(splits, device)
        self.query_pools = {}

    @property
    def precomputes(self) -> bool:
        if self.precompute is not None:
            return self.precompute
        return isinstance(self.require_source(), EmbeddingBackbone)

    def rebuild(self) -> None:
        self.query_pools = {}
        if self.precomputes:
            for graph_id in range(len(self.graphs)):
                self.query_pools[graph_id] = self.precompute_pools(graph_id)

    @torch.no_grad()
    def near_misses(self, context: TrainingGraph, anchors: Tensor, query_relations: Tensor) -> tuple[Tensor, Tensor]:
        """``(entities, valid)`` ``(B, k)``: the source's top-``k`` non-answers of each query, best first."""
        source = self.require_source()
        graph = context.graph
        num_direct = graph.num_direct_relations
        k = min(self.num_query_results, graph.num_nodes)
        tables, valids = [anchors.new_zeros(0, k)], [anchors.new_zeros(0, k, dtype=torch.bool)]
        for part in torch.arange(len(anchors), device=anchors.device).split(self.chunk_size):
            relations, head_queries = query_relations[part] % num_direct, query_relations[part] >= num_direct
            scores = source(graph, anchors[part], relations, head_queries).float()
            known = context.known.batch(anchors[part], query_relations[part]).mask
            top = scores.masked_fill(known, float("-inf")).topk(k, dim=1)
            tables.append(top.indices)
            valids.append(torch.isfinite(top.values))
        return torch.cat(tables), torch.cat(valids)

    def precompute_pools(self, graph_id: int) -> QueryPools:
        """Pools of every query ``(anchor, q)`` that has an answer in the training graph."""
        context = self.graphs[graph_id]
        graph = context.graph
        keys = torch.unique(graph.edge_index[0] * graph.num_relations + graph.edge_type)
        entities, valid = self.near_misses(context, keys // graph.num_relations, keys % graph.num_relations)
        return QueryPools(keys, compress(entities, valid), entities.shape[1])

    def pool_ranges(self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int) -> PoolRanges:
        context = self.graphs[graph_id]
        if not self.precomputes:
            return compress(*self.near_misses(context, anchors, query_relations))
        if graph_id not in self.query_pools:
            self.query_pools[graph_id] = self.precompute_pools(graph_id)
        pools = self.query_pools[graph_id]
        ranges, found = pools.ranges(anchors * context.graph.num_relations + query_relations)
        missing = (~found).nonzero().squeeze(1)
        if len(missing) == 0:
            return ranges
        # Queries outside the training graph (rare): scored now, appended behind the table.
        extra = compress(*self.near_misses(context, anchors[missing], query_relations[missing]))
        start, count = ranges.start.clone(), ranges.count.clone()
        start[missing] = extra.start + len(ranges.flat)
        count[missing] = extra.count
        return PoolRanges(torch.cat([ranges.flat, extra.flat]), start, count)
