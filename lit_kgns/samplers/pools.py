"""Static entity pools in sorted-key (CSR) form, and the base class of every pool-based sampler.

A :class:`SortedPools` stores ``(key, entity)`` pairs sorted by key: the pool of a key is the contiguous
slice found by two binary searches, so a batch of pools is located without Python loops and without a dense
``(num_keys + 1)`` offset array. Keys used here:

* Corrupt: the *query relation* ``q`` (``r`` for a tail corruption: the observed range of ``r``; ``r + R``
  for a head corruption: the observed domain of ``r``), the convention of :class:`~lit_kgns.negatives.Queries`;
* Relational: ``anchor * 2R + q'`` over the graph's edges (direct and inverse), so that all edges of an
  anchor in one direction form one slice and those of relation ``q`` one sub-slice inside it.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.data.graph import KGGraph
from lit_kgns.negatives import NegativeBatch
from lit_kgns.options import check_choice, check_period
from lit_kgns.samplers.base import NegativeSampler
from lit_kgns.samplers.fallback import Fallback, PoolRanges, fallback_slots, fill
from lit_kgns.scoring import diagnostic_scores


@dataclass(eq=False)
class SortedPools:
    """Entity pools keyed by integers: ``entities[keys == k]`` is the pool of ``k`` (keys sorted)."""

    keys: Tensor  # (P,) sorted
    entities: Tensor  # (P,)

    @classmethod
    def from_pairs(cls, keys: Tensor, entities: Tensor, deduplicate: bool = True) -> SortedPools:
        """Sort ``(key, entity)`` pairs by key (then entity); ``deduplicate`` turns multisets into sets."""
        keys, entities = keys.long(), entities.long()
        base = int(entities.max()) + 1 if len(entities) else 1
        combined = keys * base + entities
        combined = torch.unique(combined) if deduplicate else torch.sort(combined).values
        # Entity ids as int32 when they fit: pool draws gather from this table (see ``PoolRanges.gather``).
        entities = combined % base
        return cls(combined // base, entities.int() if base <= 2**31 else entities)

    def bounds(self, low: Tensor, high: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(start, count)`` of the slice of keys in ``[low, high]`` (``high = low`` by default)."""
        high = low if high is None else high
        start = torch.searchsorted(self.keys, low.long().contiguous(), right=False)
        end = torch.searchsorted(self.keys, high.long().contiguous(), right=True)
        return start, end - start

    def ranges(self, keys: Tensor) -> PoolRanges:
        start, count = self.bounds(keys)
        # Negative keys (no pool) give an empty slice.
        return PoolRanges(self.entities, start, torch.where(keys < 0, 0, count))

    def sizes(self, keys: Tensor) -> Tensor:
        return self.ranges(keys).count

    def to(self, device: torch.device | str) -> SortedPools:
        return SortedPools(self.keys.to(device), self.entities.to(device))


def corrupt_pools(graph: KGGraph) -> SortedPools:
    """Observed range (key ``r``) and domain (key ``r + R``) of every relation: the inverse edges of the graph
    make the domain of ``r`` the range of ``r + R``, so one pass over all edges builds both."""
    return SortedPools.from_pairs(graph.edge_type, graph.edge_index[1], deduplicate=True)


def graph_corrupt_pools(graph: KGGraph) -> SortedPools:
    """:func:`corrupt_pools`, built once per graph and device."""
    return graph.cached("samplers/corrupt_pools", corrupt_pools)


class PoolSampler(NegativeSampler):
    """Draw negatives uniformly (with replacement) from a per-query pool, with an explicit fallback.

    Subclasses implement :meth:`pool_ranges`. For a positive ``(h, r, t)`` whose head is corrupted the
    query is ``(t, r + R, ?)`` with answer ``h`` (tail corruptions: ``(h, r, ?)``, answer ``t``).

    Args:
        fallback: ``integrate``, ``mask``, ``widen`` or ``repeat`` (see :mod:`lit_kgns.samplers.fallback`).
        filtered: mask negatives that form a known training triple with the query (the positive included),
            as PyKEEN's filterers do: masked slots carry no loss.
        log_every_n_steps: how often (training steps) to log the fallback counters, the false-negative rate
            of the drawn negatives and their hardness; ``None`` never.
        kwargs: ``num_negatives``, ``side``, ``seed`` of :class:`NegativeSampler`.
    """

    #: True when the pool depends on the replaced entity (NearestNeighbor), not only on the query.
    pool_depends_on_answer = False

    def __init__(
        self, fallback: Fallback = "integrate", filtered: bool = True, log_every_n_steps: int | None = 50, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        check_choice("fallback", fallback, Fallback)
        check_period("log_every_n_steps", log_every_n_steps)
        self.fallback = fallback
        self.filtered = filtered
        self.log_every_n_steps = log_every_n_steps

    @abstractmethod
    def pool_ranges(self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int) -> PoolRanges:
        """The pool of each query ``(anchor, query relation)`` whose true answer is ``answers``."""

    def corrupt(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> NegativeBatch:
        context = self.graphs[graph_id]
        queries = self.queries(positives, head_corrupted, graph_id)
        ranges = self.pool_ranges(queries.anchors, queries.query_relations, queries.answers, graph_id)
        widen = graph_corrupt_pools(context.graph).ranges(queries.query_relations) if self.fallback == "widen" else None
        entities, valid, _ = fill(
            ranges, self.num_negatives, self.fallback, context.graph.num_nodes, self.generator, widen
        )
        if self.filtered:
            # True answers of this batch's queries (the positive included), gathered once.
            known = context.known.batch(queries.anchors, queries.query_relations, also=queries.answers)
            valid = valid & ~known.contains(entities)
        return NegativeBatch(entities, head_corrupted, valid)

    def counters(self, positives: Tensor, negatives: NegativeBatch, graph_id: int = 0) -> dict[str, float]:
        """Fallback use, empty and small pools, false-negative rate and masked slots of a drawn batch
        (recomputed from the batch's pools when asked, e.g. at logging steps, not on every batch)."""
        context = self.graphs[graph_id]
        queries = negatives.queries(positives, context.graph.num_direct_relations)
        available = self.pool_ranges(queries.anchors, queries.query_relations, queries.answers, graph_id).count
        known = context.known.batch(queries.anchors, queries.query_relations, also=queries.answers)
        from_fallback = fallback_slots(available, self.num_negatives, self.fallback)
        return {
            "fallback_fraction": float(from_fallback.float().mean()),
            "empty_pool_fraction": float((available <= 0).float().mean()),
            "small_pool_fraction": float((available < self.num_negatives).float().mean()),
            "false_negative_rate": float(known.contains(negatives.entities).float().mean()),
            "masked_fraction": float((~negatives.mask).float().mean()),
        }

    def pool_counts(self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int) -> Tensor:
        """``(B, num_nodes)`` multiplicity of each entity in each query's pool: a dense view for inspecting
        small graphs (pool statistics count from :meth:`pool_ranges` without it)."""
        ranges = self.pool_ranges(anchors, query_relations, answers, graph_id)
        rows, entities = ranges.members()
        counts = torch.zeros(
            len(anchors), self.graphs[graph_id].graph.num_nodes, dtype=torch.long, device=anchors.device
        )
        counts.index_put_((rows, entities), torch.ones_like(rows), accumulate=True)
        return counts

    # ----------------------------------------------------------------- logging
    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        # global_step was incremented by the optimizer step: the batch just trained is step global_step - 1
        if self.log_every_n_steps is None or (trainer.global_step - 1) % self.log_every_n_steps:
            return
        positives, negatives, graph_id = batch.triples, batch.negatives, batch.graph_index
        size = len(positives)
        for name, value in self.counters(positives, negatives, graph_id).items():
            pl_module.log(f"sampler/{name}", value, batch_size=size)
        backbone = getattr(pl_module, "backbone", None)
        if isinstance(backbone, KGBackbone):
            pl_module.log("sampler/hardness", self.hardness(backbone, positives, negatives, graph_id), batch_size=size)

    def hardness(self, backbone: KGBackbone, positives: Tensor, negatives: NegativeBatch, graph_id: int = 0) -> float:
        """Mean ``sigmoid(s_neg - s_pos)`` over the valid negatives of a batch, scored as training scores them:
        the soft probability that a negative outscores its positive (0.5 = as plausible as the positive)."""
        scores = diagnostic_scores(backbone, self.graphs[graph_id].graph, positives, negatives)
        margin = torch.sigmoid(scores[:, 1:] - scores[:, :1])
        mask = negatives.mask.float()
        return float((margin * mask).sum() / mask.sum().clamp(min=1))
