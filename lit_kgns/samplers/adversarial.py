"""Adversarial / near-miss (Kotnis & Nastase, 2017): negatives close to the *predicted* answer."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_kgns.samplers.fallback import PoolRanges
from lit_kgns.samplers.neighbors import DynamicPoolSampler, compress


class AdversarialSampler(DynamicPoolSampler):
    """Near-miss negatives: the ``k`` entities nearest to the source model's predicted target.

    "Nearest" is measured by the source model's own score of every entity for the query ``(h, r, ?)`` /
    ``(?, r, t)``: for translational models with an ``L_p`` score (TransE: ``-||h + r - t||``) this is exactly
    the k-NN of the predicted embedding ``h + r`` (``t - r`` for heads), as in the extension's TransE
    prediction function; for bilinear models (RESCAL, DistMult, ComplEx) it is the maximum-inner-product
    neighbourhood of ``W_r h``. Any :class:`~lit_kgns.backbones.base.KGBackbone` works as source (ULTRA too).
    Known true answers are excluded before the top-k. Pools are recomputed per batch from the source,
    which is frozen between refreshes.

    Args:
        chunk_size: queries scored at once (bounds the ``(chunk, num_entities)`` score matrix).
        others: see :class:`~lit_kgns.samplers.neighbors.DynamicPoolSampler`.
    """

    def __init__(
        self,
        model: nn.Module | None = None,
        checkpoint: str | None = None,
        num_query_results: int = 100,
        refresh_every_n_steps: int = 0,
        refresh_every_n_epochs: int = 1,
        num_negatives: int = 256,
        side: str = "half",
        seed: int | None = None,
        fallback: str = "integrate",
        filtered: bool = True,
        log_every_n_steps: int = 50,
        chunk_size: int = 256,
    ) -> None:
        super().__init__(
            model,
            checkpoint,
            num_query_results,
            refresh_every_n_steps,
            refresh_every_n_epochs,
            num_negatives,
            side,
            seed,
            fallback,
            filtered,
            log_every_n_steps,
        )
        self.chunk_size = chunk_size

    @torch.no_grad()
    def pool_ranges(
        self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int
    ) -> PoolRanges:
        source = self.require_source()
        context = self.graphs[graph_id]
        graph = context.graph
        num_direct = graph.num_direct_relations
        relations, head_queries = query_relations % num_direct, query_relations >= num_direct
        k = min(self.num_query_results, graph.num_nodes)
        tables, valids = [], []
        for begin in range(0, len(anchors), self.chunk_size):
            part = slice(begin, begin + self.chunk_size)
            scores = source(graph, anchors[part], relations[part], head_queries[part]).float()
            known = context.known.answer_mask(anchors[part], query_relations[part])
            top = scores.masked_fill(known, float("-inf")).topk(k, dim=1)
            tables.append(top.indices)
            valids.append(torch.isfinite(top.values))
        if not tables:
            empty = anchors.new_zeros(0, k)
            return compress(empty, empty.bool())
        return compress(torch.cat(tables), torch.cat(valids))
