"""KMAS-style hybrid negatives: hard ones from the backbone's own relation similarities, the rest uniform.

Liu et al. (2026, arXiv 2605.27023) draw hard negatives from entity distributions weighted by the similarity
of the relation encoder's embeddings, mixed with random ones at a scheduled ratio. No code was published: the
concrete choices (:mod:`lit_kgns.samplers.kmas_similarity`) are this project's, and all are options.
"""

from __future__ import annotations

import time
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.data.graph import LinkPredictionSplit
from lit_kgns.errors import ConfigError
from lit_kgns.negatives import NegativeBatch
from lit_kgns.options import check_choice, check_period
from lit_kgns.samplers.base import NegativeSampler, backbone_of
from lit_kgns.samplers.kmas_diagnostics import KMASDiagnostics
from lit_kgns.samplers.kmas_draws import Retries, candidate_draw, hybrid_draws, log_q_offsets
from lit_kgns.samplers.kmas_similarity import (
    RelationTails,
    Representation,
    Similarity,
    SimilarityCache,
    SimilaritySource,
    Weighting,
    build_similarity_cache,
    hard_probabilities,
    relation_similarity_rows,
    relation_tails,
)
from lit_kgns.samplers.kmas_tables import DEFAULT_MAX_TABLE_ENTRIES, EntityTable, build_entity_table
from lit_kgns.samplers.refresh import RefreshSchedule
from lit_kgns.samplers.schedule import HardRatioSchedule
from lit_kgns.samplers.uniform import draw_non_answers


class KMASSampler(NegativeSampler):
    """Hybrid negatives: ``round(ρ_t K)`` hard ones from relation-similarity-weighted entity distributions,
    the rest strict uniform (as :class:`~lit_kgns.samplers.StrictUniformSampler`).

    Cache: at every refresh (every ``refresh_every_n_steps`` optimizer steps, else every
    ``refresh_every_n_epochs`` epochs; at fit start in any case) the backbone's relation representations are
    read without gradient in eval mode and turned into one :class:`SimilarityCache` and draw table per
    training graph. Under DDP they are a deterministic function of the parameters, which DDP keeps identical,
    so every rank computes them itself: no communication, identical caches.

    Sampling, per batch (vectorised): :mod:`lit_kgns.samplers.kmas_draws` from the per-relation draw tables
    of :mod:`lit_kgns.samplers.kmas_tables` (relation first, tail second for a graph over
    ``max_table_entries``); with ``ρ = 0`` the negatives equal the strict uniform sampler's, draw for draw.

    Resume: ``state_dict`` holds the seed, the last refresh step/epoch and (``cache_in_checkpoint``) the
    ``(2R, k)`` caches (the draw tables follow from them), so a resumed run draws exactly the negatives of
    the uninterrupted one; else they are rebuilt from the restored weights. The ratio follows the step.

    Defaults: the method as published (README, KMAS); no option that undoes the hardness in the loss is on.

    Args:
        schedule: hard ratio over training; ``None`` for :class:`HardRatioSchedule` defaults.
        similarity: ``cosine`` (default) or ``dot`` between relation representations.
        similarity_source: where ``s(q, r')`` comes from: ``backbone`` (its relation representations, the
            method), ``jaccard`` (overlap of the relations' head and tail sets: structure only, no model) or
            ``typed`` (the query relation alone: uniform tails of the query relation, needs ``include_self``).
        temperature: ``τ`` of the softmax over similarities.
        top_k: keep the ``k`` most similar relations per query (``None``: all ``2R``).
        include_self: whether a relation counts as similar to itself.
        representation: ``query``, ``query_diagonal`` or ``mean`` for query-conditioned backbones.
        weighting: ``incidence`` (relation weight × its number of tails) or ``relation`` (weight alone).
        refresh_every_n_steps: refresh every this many optimizer steps (takes precedence; ``None``: never).
        refresh_every_n_epochs: else every this many epochs (``None``: never).
        chunk_size: relations per batched relation-model pass while refreshing.
        max_retries: redraws of a filtered-out hard candidate once its row's spare candidates are used up,
            before its slot is drawn uniformly (``0``: no spares, no redraws).
        diagnostics_every_n_steps: log hardness and false-negative diagnostics every n steps (``None``: never).
        diagnostics_batch_size: positives scored for the hardness diagnostics (one no-grad forward pass).
        cache_in_checkpoint: save the similarity tables in the checkpoint for an exact resume.
        unique_hard: no entity twice among a row's hard slots (a copy is redrawn, then left to uniform).
        hard_weight: ``c`` in ``(0, 1]`` multiplying each hard slot's self-adversarial weight.
        semi_hard_margin: ``δ``: a hard slot whose detached score is at least the positive's minus ``δ``
            leaves the loss (the likeliest false negatives); ``None``: no guard.
        log_q_correction: ``α`` in ``[0, 1]``: a hard slot's adversarial logit is shifted by
            ``-α log(q(e) N)`` (``q(e)``: the probability of drawing ``e``). ``α = 1`` makes the adversarial
            weights an importance-sampling estimate of the *uniform* objective: strict uniform's loss in
            expectation, only its variance differs. ``0`` (default): no correction.
        max_table_entries: largest per-relation draw table (entries before merging) built per graph.
        kwargs: ``num_negatives``, ``side``, ``seed``, ``oracle_filter`` of the base class.
    """

    def __init__(
        self,
        schedule: HardRatioSchedule | None = None,
        similarity: Similarity = "cosine",
        similarity_source: SimilaritySource = "backbone",
        temperature: float = 0.1,
        top_k: int | None = 16,
        include_self: bool = True,
        representation: Representation = "query",
        weighting: Weighting = "incidence",
        refresh_every_n_steps: int | None = None,
        refresh_every_n_epochs: int | None = 1,
        chunk_size: int = 64,
        max_retries: int = 2,
        diagnostics_every_n_steps: int | None = 50,
        diagnostics_batch_size: int = 8,
        cache_in_checkpoint: bool = True,
        unique_hard: bool = False,
        hard_weight: float = 1.0,
        semi_hard_margin: float | None = None,
        log_q_correction: float = 0.0,
        max_table_entries: int = DEFAULT_MAX_TABLE_ENTRIES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_choice("similarity", similarity, Similarity)
        check_choice("similarity_source", similarity_source, SimilaritySource)
        if similarity_source == "typed" and not include_self:
            raise ConfigError("similarity_source 'typed' draws the query relation's own tails: needs include_self")
        check_choice("representation", representation, Representation)
        check_choice("weighting", weighting, Weighting)
        periods = {"top_k": top_k, "diagnostics_every_n_steps": diagnostics_every_n_steps}
        for name, value in periods.items():
            check_period(name, value)
        if chunk_size < 1 or diagnostics_batch_size < 1 or max_retries < 0:
            raise ConfigError("chunk_size and diagnostics_batch_size must be positive, max_retries non-negative")
        ranges = [("temperature", temperature, temperature > 0, "positive")]
        ranges += [("hard_weight", hard_weight, 0 < hard_weight <= 1, "in (0, 1]")]
        ranges += [("log_q_correction", log_q_correction, 0 <= log_q_correction <= 1, "in [0, 1]")]
        for name, value, within, expected in ranges:
            if not within:
                raise ConfigError(f"{name} must be {expected}, got {value}")
        self.schedule = schedule if schedule is not None else HardRatioSchedule()
        self.similarity = similarity
        self.similarity_source = similarity_source
        self.temperature = temperature
        self.top_k = top_k
        self.include_self = include_self
        self.representation = representation
        self.weighting = weighting
        self.refreshes = RefreshSchedule(refresh_every_n_steps, refresh_every_n_epochs)
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.cache_in_checkpoint = cache_in_checkpoint
        self.unique_hard = unique_hard
        self.hard_weight = hard_weight
        self.semi_hard_margin = semi_hard_margin
        self.log_q_correction = log_q_correction
        self.max_table_entries = max_table_entries
        self.hard_ratio = 0.0
        self.caches: list[SimilarityCache] = []
        self.tables: list[EntityTable | None] = []
        self.tails: list[RelationTails] = []
        self.last_refresh_seconds: float | None = None
        every = diagnostics_every_n_steps
        self.diagnostics = None if every is None else KMASDiagnostics(every, diagnostics_batch_size)

    # ----------------------------------------------------------------- sampling
    def corrupt(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> NegativeBatch:
        """As every sampler, plus the ``hard`` slots of the batch and what the loss does with them."""
        entities, mask, hard, probabilities = self.draw(positives, head_corrupted, graph_id)
        negatives = NegativeBatch(entities, head_corrupted, mask, hard, guard_margin=self.semi_hard_margin)
        if self.hard_weight != 1:
            negatives.slot_weights = torch.where(hard, self.hard_weight, 1.0)
        if self.log_q_correction > 0 and bool(hard.any()):
            if probabilities is None:  # drawn relation first, tail second: q(e) by a search over the k relations
                query_relations = self.queries(positives, head_corrupted, graph_id).query_relations
                cache, tails = self.caches[graph_id], self.tails[graph_id]
                probabilities = hard_probabilities(cache, tails, query_relations, entities)
            num_nodes = self.graphs[graph_id].graph.num_nodes
            negatives.weight_offsets = log_q_offsets(probabilities, hard, num_nodes, self.log_q_correction)
        return negatives

    def draw(
        self, positives: Tensor, head_corrupted: Tensor, graph_id: int
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """``(entities, mask, hard, probabilities)`` of :func:`~lit_kgns.samplers.kmas_draws.hybrid_draws`;
        with ``ρ = 0`` (or no cache yet) the strict uniform sampler's draws, from the same generator."""
        queries = self.queries(positives, head_corrupted, graph_id)
        known = self.graphs[graph_id].known.batch(queries.anchors, queries.query_relations, also=queries.answers)
        num_hard = round(self.hard_ratio * self.num_negatives) if graph_id < len(self.caches) else 0
        if num_hard == 0:
            entities, mask = draw_non_answers(known, self.num_negatives, self.generator)
            return entities, mask, torch.zeros_like(mask), None
        retries = Retries(self.max_retries, self.unique_hard)
        table, cache, tails = self.tables[graph_id], self.caches[graph_id], self.tails[graph_id]
        draw = candidate_draw(table, cache, tails, self.generator, with_probabilities=self.log_q_correction > 0)
        return hybrid_draws(known, draw, queries.query_relations, num_hard, self.num_negatives, retries, self.generator)

    # ----------------------------------------------------------------- cache
    def attach(self, splits: list[LinkPredictionSplit], device: torch.device | str = "cpu") -> None:
        super().attach(splits, device)
        self.tails = [context.graph.cached("kmas_relation_tails", relation_tails) for context in self.graphs]
        self.caches, self.tables = [], []
        if self.diagnostics is not None:
            self.diagnostics.reset()

    @torch.no_grad()
    def refresh(self, backbone: KGBackbone) -> float:
        """Rebuild every training graph's similarity cache from ``backbone``; returns the seconds taken."""
        start = time.perf_counter()
        was_training = backbone.training
        backbone.eval()
        try:
            caches = []
            for context, tails in zip(self.graphs, self.tails, strict=True):
                graph, source = context.graph, self.similarity_source
                rows = relation_similarity_rows(
                    source, backbone, graph, tails, self.representation, self.similarity, self.chunk_size
                )
                options = (self.temperature, self.top_k, self.include_self, self.weighting)
                caches.append(build_similarity_cache(rows, tails.counts, *options))
            self.caches = caches
            self.build_tables()
        finally:
            backbone.train(was_training)
        self.last_refresh_seconds = time.perf_counter() - start
        return self.last_refresh_seconds

    def build_tables(self) -> None:
        """The per-relation draw tables of the current caches (``None`` for a graph over the budget)."""
        self.tables = [
            build_entity_table(cache, tails, context.graph.num_nodes, self.max_table_entries)
            for cache, tails, context in zip(self.caches, self.tails, self.graphs, strict=True)
        ]

    def _refresh_from(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.refresh(backbone_of(pl_module))
        self.refreshes.done(trainer.global_step, trainer.current_epoch)

    # ----------------------------------------------------------------- Lightning hooks
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        moved = bool(self.graphs) and self.graphs[0].graph.device != pl_module.device
        super().on_fit_start(trainer, pl_module)
        if moved:
            self.tails = [context.graph.cached("kmas_relation_tails", relation_tails) for context in self.graphs]
        if len(self.caches) == len(self.graphs):  # restored from a checkpoint
            self.caches = [cache.to(pl_module.device) for cache in self.caches]
            self.build_tables()
        elif self.refreshes.last_step is None:  # a fresh run
            self._refresh_from(trainer, pl_module)
        else:  # resumed without cached tables: rebuild from the restored weights, keep the refresh times
            self.refresh(backbone_of(pl_module))

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.refreshes.due_at_epoch(trainer.current_epoch):
            self._refresh_from(trainer, pl_module)

    def before_sampling(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.refreshes.due_at_step(trainer.global_step):
            self._refresh_from(trainer, pl_module)
        self.hard_ratio = self.schedule(trainer)
        pl_module.log("train/hard_ratio", self.hard_ratio, batch_size=1)
        if self.last_refresh_seconds is not None:
            pl_module.log("kmas/refresh_seconds", self.last_refresh_seconds, batch_size=1)
            self.last_refresh_seconds = None

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.diagnostics is not None:
            self.diagnostics.on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    # ----------------------------------------------------------------- checkpoint state
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"seed": self.seed, **self.refreshes.state()}
        if self.cache_in_checkpoint and self.caches:
            state["caches"] = [cache.state() for cache in self.caches]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.refreshes.load(state_dict)
        caches = state_dict.get("caches")
        if caches is not None and (not self.graphs or len(caches) == len(self.graphs)):
            self.caches = [SimilarityCache(**cache) for cache in caches]
            if self.graphs:
                self.build_tables()
        else:  # rebuilt from the restored weights at fit start
            self.caches, self.tables = [], []
