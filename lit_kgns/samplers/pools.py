"""Static entity pools in sorted-key (CSR) form, and the base class of every pool-based sampler.

A :class:`SortedPools` stores ``(key, entity)`` pairs sorted by key: the pool of a key is the contiguous
slice found by two binary searches, so a batch of pools is located without Python loops and without a dense
``(num_keys + 1)`` offset array. Keys used here:

* Corrupt: the *query relation* ``q`` (``r`` for a tail corruption: the observed range of ``r``; ``r + R``
  for a head corruption: the observed domain of ``r``), the convention of :meth:`NegativeSampler.query`;
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

from lit_kgns.data.graph import KGGraph
from lit_kgns.data.triple_index import QueryAnswers
from lit_kgns.samplers.base import NegativeSampler
from lit_kgns.samplers.fallback import FALLBACKS, PoolRanges, fill


@dataclass(eq=False)
class LastDraw:
    """What the counters of the last batch are computed from."""

    known: QueryAnswers
    entities: Tensor
    valid: Tensor
    from_fallback: Tensor
    available: Tensor
    true: Tensor | None  # known answers among ``entities``, when filtering computed it


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
        num_negatives, side, seed: see :class:`NegativeSampler`.
        fallback: ``integrate``, ``mask``, ``widen`` or ``repeat`` (see :mod:`lit_kgns.samplers.fallback`).
        filtered: mask negatives that form a known training triple with the query (the positive included),
            as PyKEEN's filterers do: masked slots carry no loss.
        log_every_n_steps: how often (training steps) to log the fallback counters, the false-negative rate
            of the drawn negatives and their hardness; ``0`` disables logging.
    """

    #: True when the pool depends on the replaced entity (NearestNeighbor), not only on the query.
    pool_depends_on_answer = False

    def __init__(
        self,
        num_negatives: int = 256,
        side: str = "half",
        seed: int | None = None,
        fallback: str = "integrate",
        filtered: bool = True,
        log_every_n_steps: int = 50,
    ) -> None:
        super().__init__(num_negatives=num_negatives, side=side, seed=seed)
        if fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {FALLBACKS}, got {fallback!r}")
        self.fallback = fallback
        self.filtered = filtered
        self.log_every_n_steps = log_every_n_steps
        self._last_draw: LastDraw | None = None

    @abstractmethod
    def pool_ranges(
        self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int
    ) -> PoolRanges:
        """The pool of each query ``(anchor, query relation)`` whose true answer is ``answers``."""

    def corrupt(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> tuple[Tensor, Tensor]:
        context = self.graphs[graph_id]
        anchors, query_relations, answers = self.query(positives, head_corrupted, context.graph)
        # True answers of this batch's queries (the positive included), gathered once and only if used.
        known = context.known.batch(anchors, query_relations, also=answers)
        ranges = self.pool_ranges(anchors, query_relations, answers, graph_id)
        widen = graph_corrupt_pools(context.graph).ranges(query_relations) if self.fallback == "widen" else None
        entities, valid, from_fallback = fill(
            ranges, self.num_negatives, self.fallback, context.graph.num_nodes, self.generator, widen
        )
        true = None
        if self.filtered:
            true = known.contains(entities)
            valid = valid & ~true
        self._last_draw = LastDraw(known, entities, valid, from_fallback, ranges.count, true)
        return entities, valid

    @property
    def counters(self) -> dict[str, float]:
        """Fallback use, empty and small pools, false-negative rate and masked slots of the last batch
        (computed when read, e.g. at logging steps, not on every batch)."""
        last = self._last_draw
        if last is None:
            return {}
        true = last.true if last.true is not None else last.known.contains(last.entities)
        return {
            "fallback_fraction": float(last.from_fallback.float().mean()),
            "empty_pool_fraction": float((last.available <= 0).float().mean()),
            "small_pool_fraction": float((last.available < self.num_negatives).float().mean()),
            "false_negative_rate": float(true.float().mean()),
            "masked_fraction": float((~last.valid).float().mean()),
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
        if not self.log_every_n_steps or trainer.global_step % self.log_every_n_steps or not self.counters:
            return
        size = len(batch["triples"]) if isinstance(batch, dict) else None
        for name, value in self.counters.items():
            pl_module.log(f"sampler/{name}", value, batch_size=size)
        if isinstance(batch, dict) and hasattr(pl_module, "backbone"):
            pl_module.log(
                "sampler/hardness",
                self.hardness(pl_module.backbone, batch["triples"], int(batch["graph"])),
                batch_size=size,
            )

    @torch.no_grad()
    def hardness(self, backbone: torch.nn.Module, positives: Tensor, graph_id: int = 0) -> float:
        """Mean ``sigmoid(s_neg - s_pos)`` over valid negatives of a fresh draw: the soft probability that a
        negative outscores its positive (0.5 = as plausible as the positive)."""
        negatives = self.sample(positives, graph_id)
        context = self.graphs[graph_id]
        heads, relations, tails = positives.t()
        anchors = torch.where(negatives.head_corrupted, tails, heads)
        answers = torch.where(negatives.head_corrupted, heads, tails)
        candidates = torch.cat([answers.unsqueeze(1), negatives.entities], dim=1)
        scores = backbone(context.graph, anchors, relations, negatives.head_corrupted, candidates)
        margin = torch.sigmoid(scores[:, 1:] - scores[:, :1])
        mask = negatives.mask.float()
        return float((margin * mask).sum() / mask.sum().clamp(min=1))
