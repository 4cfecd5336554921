"""The negative-sampler contract: a Lightning Callback that corrupts a batch of positive triples.

A sampler lives in the training process, reads the training graphs from the DataModule at ``setup``,
refreshes whatever cache it keeps at step or epoch boundaries, and at the start of every training batch
puts its negatives into the batch (``TrainingBatch.negatives``, a :class:`~lit_kgns.negatives.NegativeBatch`),
which ``training_step`` reads. Its random numbers come from a generator reseeded for every batch from
``(seed, global rank, epoch, batch index)``: ranks draw different negatives, and a run resumed from a
checkpoint draws exactly the negatives of the uninterrupted run.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal, final

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_warn
from torch import Tensor

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.data.batches import TrainingBatch
from lit_kgns.data.graph import KGGraph, LinkPredictionSplit
from lit_kgns.data.protocol import split_source
from lit_kgns.data.triple_index import TripleIndex
from lit_kgns.errors import ConfigError, SetupError
from lit_kgns.negatives import NegativeBatch, Queries
from lit_kgns.options import check_choice

Side = Literal["half", "bernoulli", "tail", "head", "random"]


@dataclass(eq=False)
class TrainingGraph:
    """What a sampler knows of one training graph, on the training device."""

    graph: KGGraph
    triples: Tensor  # (T, 3) training triples
    known: TripleIndex  # true answers of (anchor, relation) queries on the training graph
    head_probability: Tensor  # (R,) Bernoulli probability of corrupting the head, per relation


def bernoulli_head_probability(triples: Tensor, num_direct_relations: int) -> Tensor:
    """``tph / (tph + hpt)`` per relation (Wang et al., 2014): corrupt the head of one-to-many relations
    more often, so fewer false negatives are drawn."""
    heads, relations, tails = triples.t()
    base = int(triples[:, [0, 2]].max()) + 1
    keys_hr = torch.unique(relations * base + heads)
    keys_rt = torch.unique(relations * base + tails)
    count = torch.bincount(relations, minlength=num_direct_relations).double()
    distinct_heads = torch.bincount(keys_hr // base, minlength=num_direct_relations).double()
    distinct_tails = torch.bincount(keys_rt // base, minlength=num_direct_relations).double()
    tails_per_head = count / distinct_heads.clamp(min=1)
    heads_per_tail = count / distinct_tails.clamp(min=1)
    probability = tails_per_head / (tails_per_head + heads_per_tail).clamp(min=1e-12)
    return torch.where(count > 0, probability, torch.full_like(probability, 0.5)).float()


def backbone_of(pl_module: pl.LightningModule) -> KGBackbone:
    """The backbone a model-driven sampler reads (the module's ``backbone`` attribute)."""
    backbone = getattr(pl_module, "backbone", None)
    if not isinstance(backbone, KGBackbone):
        raise SetupError(f"{type(pl_module).__name__} has no `backbone` (a KGBackbone) for the sampler to read")
    return backbone


class NegativeSampler(pl.Callback, ABC):
    """Base class: subclasses implement :meth:`corrupt` and may refresh caches in Lightning hooks.

    Args:
        num_negatives: negatives per positive (``K``).
        side: which side to corrupt per positive: ``half`` (first half of the batch tails, second half
            heads, as upstream ULTRA), ``bernoulli`` (per-relation probability), ``tail``, ``head`` or
            ``random`` (a fair coin per positive).
        seed: base seed of the per-batch generators; ``None`` takes Lightning's global seed (or 0).
        oracle_filter: an analysis switch, never for a result to report: also exclude from the candidates
            every true fact the data root holds about the training graph beyond its training triples
            (:meth:`~lit_kgns.data.protocol.SplitSource.held_out_facts`: validation and test triples, sibling
            graphs), i.e. the false negatives a sampler could draw. Set in two arms it shows what a
            sampler would gain without its false negatives.
    """

    def __init__(
        self, num_negatives: int = 256, side: Side = "half", seed: int | None = None, oracle_filter: bool = False
    ) -> None:
        super().__init__()
        if num_negatives < 1:
            raise ConfigError(f"num_negatives must be a positive integer, got {num_negatives}")
        check_choice("side", side, Side)
        self.num_negatives = num_negatives
        self.side = side
        self.seed = seed
        self.oracle_filter = oracle_filter
        self.graphs: list[TrainingGraph] = []
        self._generator: torch.Generator | None = None
        self.rank = 0

    # ----------------------------------------------------------------- public contract
    @final
    def sample(self, positives: Tensor, graph_id: int = 0) -> NegativeBatch:
        """Corrupt ``positives`` ``(B, 3)`` of training graph ``graph_id``; ``(B, K)`` negatives. The side of
        each corruption is chosen here (``side``), the negatives by :meth:`corrupt`."""
        head_corrupted = self.choose_sides(positives, self.graphs[graph_id])
        return self.corrupt(positives, head_corrupted, graph_id)

    @abstractmethod
    def corrupt(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> NegativeBatch:
        """The ``(B, K)`` negatives of ``positives``, replacing the head where ``head_corrupted``, else the
        tail: entities, which slots are valid, and whatever the sampler asks of the loss."""

    # ----------------------------------------------------------------- helpers for subclasses
    @property
    def generator(self) -> torch.Generator:
        if self._generator is None:
            self.reseed(epoch=0, batch_index=0)
        assert self._generator is not None
        return self._generator

    def reseed(self, epoch: int, batch_index: int, device: torch.device | None = None) -> None:
        """Seed the generator from ``(seed, rank, epoch, batch)``: independent of what came before."""
        device = device or (self.graphs[0].graph.device if self.graphs else torch.device("cpu"))
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device)
        base = self.seed if self.seed is not None else int(os.environ.get("PL_GLOBAL_SEED", 0))
        # Python hashes tuples of ints identically in every process (no hash randomisation for ints).
        self._generator.manual_seed(hash((base, self.rank, epoch, batch_index)) & 0x7FFF_FFFF_FFFF_FFFF)

    def queries(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> Queries:
        """The queries of the corruptions: a head corruption is the query ``(t, r + R, ?)``."""
        return Queries.of(positives, head_corrupted, self.graphs[graph_id].graph.num_direct_relations)

    def choose_sides(self, positives: Tensor, context: TrainingGraph) -> Tensor:
        batch_size = len(positives)
        device = positives.device
        if self.side == "half":
            return torch.arange(batch_size, device=device) >= batch_size // 2
        if self.side == "tail":
            return torch.zeros(batch_size, dtype=torch.bool, device=device)
        if self.side == "head":
            return torch.ones(batch_size, dtype=torch.bool, device=device)
        probability = (
            context.head_probability[positives[:, 1]]
            if self.side == "bernoulli"
            else torch.full((batch_size,), 0.5, device=device)
        )
        return torch.rand(batch_size, generator=self.generator, device=device) < probability

    # ----------------------------------------------------------------- Lightning hooks
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        samplers = [callback for callback in trainer.callbacks if isinstance(callback, NegativeSampler)]
        if len(samplers) > 1:
            names = ", ".join(type(sampler).__name__ for sampler in samplers)
            raise SetupError(f"the Trainer has {len(samplers)} negative samplers ({names}): keep exactly one")
        self.rank = trainer.global_rank
        # the DataModule's splits are on the training device already: the sampler shares their graphs
        source = split_source(trainer)
        splits = source.train_splits
        self.attach(splits, splits[0].graph.device if splits else pl_module.device)
        if self.oracle_filter:
            for graph_id, (context, split) in enumerate(zip(self.graphs, splits, strict=True)):
                facts = source.held_out_facts(graph_id).triples.to(split.filter_triples.device)
                known = TripleIndex(
                    torch.cat([split.filter_triples, facts]), split.graph.num_nodes, split.graph.num_direct_relations
                )
                context.known = known.to(context.graph.device)

    def attach(self, splits: list[LinkPredictionSplit], device: torch.device | str = "cpu") -> None:
        """Index the training graphs (also usable outside a Trainer, e.g. in notebooks and tests)."""
        self.graphs = [self.index_graph(split, torch.device(device)) for split in splits]
        self._generator = None
        for context in self.graphs:
            if self.num_negatives >= context.graph.num_nodes - 1:
                rank_zero_warn(
                    f"num_negatives={self.num_negatives} is not below the {context.graph.num_nodes} entities of "
                    f"{context.graph.name}: every row repeats negatives (fewer would do as well)"
                )

    def index_graph(self, split: LinkPredictionSplit, device: torch.device) -> TrainingGraph:
        graph = split.graph.to(device)
        triples = split.targets.to(device)
        return TrainingGraph(
            graph=graph,
            triples=triples,
            known=TripleIndex(split.filter_triples, graph.num_nodes, graph.num_direct_relations).to(device),
            head_probability=bernoulli_head_probability(split.filter_triples, graph.num_direct_relations).to(device),
        )

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # The module may have moved to its device after ``setup``: follow it.
        if self.graphs and self.graphs[0].graph.device != pl_module.device:
            self.graphs = [self.move(context, pl_module.device) for context in self.graphs]
            self._generator = None

    def move(self, context: TrainingGraph, device: torch.device) -> TrainingGraph:
        return TrainingGraph(
            context.graph.to(device),
            context.triples.to(device),
            context.known.to(device),
            context.head_probability.to(device),
        )

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: TrainingBatch, batch_idx: int
    ) -> None:
        """Reseed, let the sampler refresh what it keeps, then put the batch's negatives into it."""
        self.reseed(trainer.current_epoch, batch_idx, pl_module.device)
        self.before_sampling(trainer, pl_module)
        batch.negatives = self.sample(batch.triples, batch.graph_index)

    def before_sampling(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Called before each training batch is drawn: refresh caches, update a scheduled ratio."""

    def state_dict(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.seed = state_dict.get("seed", self.seed)
