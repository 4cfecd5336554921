"""KMAS-style hybrid negatives: hard ones from the backbone's own relation similarities, the rest uniform.

Liu et al. (2026, arXiv 2605.27023) draw hard negatives from entity distributions weighted by the
similarity of relation embeddings produced by the foundation model's relation encoder, mixed with random
negatives at a scheduled ratio. Only the abstract is public; the concrete choices below (similarity,
conditioning, weighting, filtering) are this project's and are all options.

For a query ``(anchor, q, ?)`` over the ``2R`` relations (a head corruption of ``(h, r, t)`` is the query
``(t, r + R, ?)``) the hard distribution is

    ``p(e | q) = Σ_{r'} w_q(r') · 1[e ∈ tails(r')] / |tails(r')|``,   ``w_q = softmax_{top-k}(s(q, r') / τ)``

where ``tails(r')`` are the observed tails of ``r'`` in the training graph (the tails of ``r' + R`` are the
heads of ``r'``), and with ``weighting="incidence"`` the relation weights are multiplied by ``|tails(r')|``
first, i.e. ``p(e | q) ∝ Σ_{r'} w_q(r') E_t[e, r']`` (ULTRA's incidence matrix). Nothing dense over
``relations × entities`` is built: the cache holds a ``(2R, k)`` table of similar relations with cumulative
weights and a CSR list ``relation → tails``; a hard draw picks a relation per slot by inverse CDF, then a
uniform tail of it by its CSR offset.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.data.graph import KGGraph, LinkPredictionSplit
from lit_kgns.data.triple_index import QueryAnswers, TripleIndex
from lit_kgns.samplers.base import NegativeSampler
from lit_kgns.samplers.schedule import HardRatioSchedule
from lit_kgns.samplers.uniform import draw_non_answers

SIMILARITIES = ("cosine", "dot")
REPRESENTATIONS = ("query", "query_diagonal", "mean")
WEIGHTINGS = ("incidence", "relation")


# --------------------------------------------------------------------------- sparse graph structure
@dataclass(eq=False)
class RelationTails:
    """CSR ``relation → distinct tail entities`` over the ``2R`` relations of a graph."""

    offsets: Tensor  # (2R + 1,)
    entities: Tensor  # (P,) tails of relation r at offsets[r]:offsets[r + 1], sorted

    @property
    def counts(self) -> Tensor:
        return self.offsets[1:] - self.offsets[:-1]

    def to(self, device: torch.device) -> RelationTails:
        return RelationTails(self.offsets.to(device), self.entities.to(device))


def relation_tails(graph: KGGraph) -> RelationTails:
    """The distinct ``(relation, tail)`` pairs of ``graph`` (the pattern of ULTRA's ``E_t``, inverse edges
    included, so tails of ``r + R`` are heads of ``r``) as CSR; one 1-D sort of ``relation * N + tail``."""
    keys = torch.unique(graph.edge_type.long() * graph.num_nodes + graph.edge_index[1].long())
    counts = torch.bincount(keys // graph.num_nodes, minlength=graph.num_relations)
    offsets = torch.zeros(graph.num_relations + 1, dtype=torch.long, device=keys.device)
    offsets[1:] = counts.cumsum(0)
    return RelationTails(offsets, keys % graph.num_nodes)


# --------------------------------------------------------------------------- the similarity cache
@dataclass(eq=False)
class SimilarityCache:
    """Per query relation ``q`` (``2R`` rows): ``k`` similar relations and their cumulative weights."""

    neighbours: Tensor  # (2R, k) relation ids, most similar first
    cumulative: Tensor  # (2R, k) cumulative sampling weights, last column 1 (or 0 if the row is empty)
    available: Tensor  # (2R,) bool: the row has at least one relation with tails

    def to(self, device: torch.device) -> SimilarityCache:
        return SimilarityCache(self.neighbours.to(device), self.cumulative.to(device), self.available.to(device))

    def state(self) -> dict[str, Tensor]:
        return {
            "neighbours": self.neighbours.cpu(),
            "cumulative": self.cumulative.cpu(),
            "available": self.available.cpu(),
        }

    def fingerprint(self) -> str:
        """A short hash of the cache (compare caches across ranks or runs)."""
        import hashlib

        digest = hashlib.sha256()
        for tensor in (self.neighbours, self.cumulative, self.available):
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]


def _pairwise(left: Tensor, right: Tensor, similarity: str) -> Tensor:
    """``(..., n, m)`` similarities of ``left (..., n, d)`` and ``right (..., m, d)``."""
    if similarity == "cosine":
        left = torch.nn.functional.normalize(left, dim=-1)
        right = torch.nn.functional.normalize(right, dim=-1)
    return left @ right.transpose(-1, -2)


@torch.no_grad()
def similarity_rows(
    backbone: KGBackbone, graph: KGGraph, representation: str, similarity: str, chunk_size: int
) -> list[tuple[Tensor, Tensor]]:
    """Similarity rows ``s(q, ·)`` over the ``2R`` relations, as ``(query ids (C,), rows (C, 2R))`` chunks.

    Query-free backbones (``relation_representations`` of shape ``(2R, d)``) give
    ``s(q, r') = sim(E_q, E_r')`` whatever ``representation`` says. Query-conditioned ones (ULTRA:
    ``R_c`` ``(2R, d)`` conditioned on the direct relation ``c``; the model answers both ``(·, c, ?)`` and
    ``(·, c + R, ?)`` from ``R_c``):

    * ``query``: ``s(q, r') = sim(R_c[q], R_c[r'])`` with ``c = q mod R``: the relation space the model itself
      uses for query ``q`` (the default; one batched relation-model pass over the ``R`` direct relations).
    * ``query_diagonal``: query-free ``E_q = R_{q mod R}[q]`` (each relation read in its own context), then
      ``sim(E_q, E_r')``.
    * ``mean``: query-free ``E_r' = mean_c R_c[r']`` (context averaged over all direct relations).

    All three cost ``R`` relation-model passes on the ``2R``-node relation graph, in chunks of ``chunk_size``.
    """
    num_direct, device = graph.num_direct_relations, graph.device
    conditions = torch.arange(num_direct, device=device)
    rows: list[tuple[Tensor, Tensor]] = []
    embeddings: Tensor | None = None
    mean_sum: Tensor | None = None
    diagonal: list[Tensor] = []
    for chunk in conditions.split(chunk_size):
        output = backbone.relation_representations(graph, chunk).float()
        if output.dim() == 2:  # query-free: one embedding table, conditioning ignored
            embeddings = output
            break
        if representation == "query":
            local = torch.arange(len(chunk), device=device)
            for query_ids in (chunk, chunk + num_direct):
                queries = output[local, query_ids].unsqueeze(1)  # (C, 1, d)
                rows.append((query_ids, _pairwise(queries, output, similarity).squeeze(1)))
        elif representation == "query_diagonal":
            local = torch.arange(len(chunk), device=device)
            diagonal.append(torch.stack([output[local, chunk], output[local, chunk + num_direct]]))  # (2, C, d)
        else:
            mean_sum = output.sum(0) if mean_sum is None else mean_sum + output.sum(0)
    if embeddings is None and representation == "query_diagonal":
        embeddings = torch.cat(diagonal, dim=1).flatten(0, 1)  # direct relations, then inverses
    elif embeddings is None and representation == "mean":
        assert mean_sum is not None
        embeddings = mean_sum / num_direct
    if embeddings is not None:
        rows = [
            (query_ids, _pairwise(embeddings[query_ids], embeddings, similarity))
            for query_ids in torch.arange(graph.num_relations, device=device).split(chunk_size)
        ]
    return rows


def build_similarity_cache(
    rows: list[tuple[Tensor, Tensor]],
    tail_counts: Tensor,
    temperature: float,
    top_k: int | None,
    include_self: bool,
    weighting: str,
) -> SimilarityCache:
    """Top-k relations per query and ``w_q = softmax(s / τ)`` over them (relations without tails excluded;
    multiplied by the tail counts for ``incidence`` weighting), stored as cumulative weights."""
    num_relations = len(tail_counts)
    k = num_relations if top_k is None else min(top_k, num_relations)
    neighbours = torch.zeros(num_relations, k, dtype=torch.long, device=tail_counts.device)
    weights = torch.zeros(num_relations, k, device=tail_counts.device)
    for query_ids, scores in rows:
        logits = scores / temperature
        logits = logits.masked_fill((tail_counts == 0).unsqueeze(0), float("-inf"))
        if not include_self:
            logits[torch.arange(len(query_ids), device=logits.device), query_ids] = float("-inf")
        top = logits.topk(k, dim=1)
        # A row whose top-k is all -inf has no candidate relation: softmax would give NaN.
        finite = torch.isfinite(top.values)
        chunk_weights = torch.softmax(top.values.masked_fill(~finite.any(1, keepdim=True), 0.0), dim=1)
        chunk_weights = chunk_weights * finite
        if weighting == "incidence":
            chunk_weights = chunk_weights * tail_counts[top.indices].float()
        neighbours[query_ids] = top.indices
        weights[query_ids] = chunk_weights
    total = weights.sum(1, keepdim=True)
    available = total.squeeze(1) > 0
    cumulative = (weights / total.clamp(min=1e-30)).cumsum(1)
    cumulative[:, -1] = available.float()  # exact 1 despite rounding: searchsorted never runs off the end
    return SimilarityCache(neighbours, cumulative, available)


def draw_hard(
    cache: SimilarityCache,
    tails: RelationTails,
    query_relations: Tensor,
    num_samples: int,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor]:
    """``(entities, drawn)`` ``(B, num_samples)``: a similar relation per slot by inverse CDF on the
    cumulative weights of its query row, then a uniform tail of that relation by CSR offset."""
    batch_size, device = len(query_relations), query_relations.device
    cumulative = cache.cumulative[query_relations]  # (B, k)
    u = torch.rand(batch_size, num_samples, generator=generator, device=device)
    column = torch.searchsorted(cumulative, u, right=True).clamp(max=cumulative.shape[1] - 1)
    relations = cache.neighbours[query_relations].gather(1, column)  # (B, n)
    start, count = tails.offsets[relations], tails.counts[relations]
    v = torch.rand(batch_size, num_samples, generator=generator, device=device)
    position = start + (v * count).long().clamp(max=(count - 1).clamp(min=0))
    entities = tails.entities[position.clamp(max=max(len(tails.entities) - 1, 0))]
    drawn = cache.available[query_relations].unsqueeze(1) & (count > 0)
    return entities, drawn


# --------------------------------------------------------------------------- the sampler
class KMASSampler(NegativeSampler):
    """Hybrid negatives: ``round(ρ_t K)`` hard ones from relation-similarity-weighted entity distributions,
    the rest strict uniform (as :class:`~lit_kgns.samplers.StrictUniformSampler`).

    Cache: at every refresh (each epoch start, or every ``refresh_every_n_steps`` optimizer steps) the
    backbone's relation representations are read under ``torch.no_grad()`` in eval mode (training mode is
    restored) and turned into one :class:`SimilarityCache` per training graph (see :func:`similarity_rows`
    for ``representation``). Under DDP the cache is a deterministic function of the parameters, which DDP
    keeps identical, so every rank computes it itself: no communication, identical caches.

    Sampling, per batch (vectorised, no loop over triples): draw the ``K`` strict-uniform negatives first
    (the same draws as the strict uniform sampler from the same generator), then for the first
    ``k_hard`` slots hard candidates; a hard candidate equal to the positive's answer or forming a known
    training triple with the query is redrawn up to ``max_retries`` times, then left to the uniform draw of
    its slot. With ``ρ = 0`` no hard draw happens and the negatives equal the strict uniform sampler's.

    Resume: ``state_dict`` holds the seed, the last refresh step/epoch and (``cache_in_checkpoint``) the
    small ``(2R, k)`` tables, so a resumed run draws exactly the negatives of the uninterrupted one; without
    them the cache is rebuilt from the restored weights at fit start. The ratio follows the restored
    ``trainer.global_step``.

    Args:
        num_negatives, side, seed: see :class:`~lit_kgns.samplers.base.NegativeSampler`.
        schedule: hard ratio over training; ``None`` for :class:`HardRatioSchedule` defaults.
        similarity: ``cosine`` (default) or ``dot`` between relation representations.
        temperature: ``τ`` of the softmax over similarities.
        top_k: keep the ``k`` most similar relations per query (``None``: all ``2R``).
        include_self: whether a relation counts as similar to itself (its own other tails are the most
            type-consistent negatives).
        representation: ``query``, ``query_diagonal`` or ``mean`` for query-conditioned backbones.
        weighting: ``incidence`` (relation weight × its number of tails) or ``relation`` (weight alone).
        refresh_every_n_steps: refresh period in optimizer steps; ``None`` refreshes at every epoch start.
        chunk_size: relations per batched relation-model pass while refreshing.
        max_retries: redraws of filtered-out hard candidates before falling back to uniform ones.
        diagnostics_every_n_steps: log hardness and false-negative diagnostics every n steps (``None``:
            never).
        diagnostics_batch_size: positives scored for the hardness diagnostics (one no-grad forward pass).
        cache_in_checkpoint: save the similarity tables in the checkpoint for an exact resume.
    """

    def __init__(
        self,
        num_negatives: int = 256,
        side: str = "half",
        seed: int | None = None,
        schedule: HardRatioSchedule | None = None,
        similarity: str = "cosine",
        temperature: float = 0.1,
        top_k: int | None = 16,
        include_self: bool = True,
        representation: str = "query",
        weighting: str = "incidence",
        refresh_every_n_steps: int | None = None,
        chunk_size: int = 64,
        max_retries: int = 2,
        diagnostics_every_n_steps: int | None = 50,
        diagnostics_batch_size: int = 8,
        cache_in_checkpoint: bool = True,
    ) -> None:
        super().__init__(num_negatives, side, seed)
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
        if representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        for name, value in (
            ("top_k", top_k),
            ("refresh_every_n_steps", refresh_every_n_steps),
            ("diagnostics_every_n_steps", diagnostics_every_n_steps),
        ):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be a positive integer or null, got {value}")
        if chunk_size < 1 or diagnostics_batch_size < 1 or max_retries < 0:
            raise ValueError("chunk_size and diagnostics_batch_size must be positive, max_retries non-negative")
        self.schedule = schedule if schedule is not None else HardRatioSchedule()
        self.similarity = similarity
        self.temperature = temperature
        self.top_k = top_k
        self.include_self = include_self
        self.representation = representation
        self.weighting = weighting
        self.refresh_every_n_steps = refresh_every_n_steps
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.diagnostics_every_n_steps = diagnostics_every_n_steps
        self.diagnostics_batch_size = diagnostics_batch_size
        self.cache_in_checkpoint = cache_in_checkpoint
        self.hard_ratio = 0.0
        self.caches: list[SimilarityCache] = []
        self.tails: list[RelationTails] = []
        self.last_refresh_step: int | None = None
        self.last_refresh_epoch: int | None = None
        self.last_refresh_seconds: float | None = None
        self.last_hard_mask: Tensor | None = None
        self._last_batch: tuple[Tensor, Any, int] | None = None
        self._evaluation_targets: dict[int, TripleIndex | None] = {}

    # ----------------------------------------------------------------- sampling
    def corrupt(self, positives: Tensor, head_corrupted: Tensor, graph_id: int) -> tuple[Tensor, Tensor]:
        context = self.graphs[graph_id]
        anchors, query_relations, answers = self.query(positives, head_corrupted, context.graph)
        known = context.known.batch(anchors, query_relations, also=answers)
        entities, mask = draw_non_answers(known, self.num_negatives, self.generator)
        num_hard = round(self.hard_ratio * self.num_negatives)
        hard_mask = torch.zeros_like(mask)
        if num_hard > 0 and graph_id < len(self.caches):
            hard, valid = self.draw_filtered(known, graph_id, query_relations, num_hard)
            entities[:, :num_hard] = torch.where(valid, hard, entities[:, :num_hard])
            mask[:, :num_hard] |= valid
            hard_mask[:, :num_hard] = valid
        self.last_hard_mask = hard_mask
        self._last_batch = (positives, (entities, head_corrupted, mask), graph_id)
        return entities, mask

    def draw_filtered(
        self, known: QueryAnswers, graph_id: int, query_relations: Tensor, num_hard: int
    ) -> tuple[Tensor, Tensor]:
        """Hard candidates ``(B, num_hard)`` and whether each is a valid negative (not a known answer)."""
        cache, tails = self.caches[graph_id], self.tails[graph_id]
        entities = valid = None
        for _ in range(self.max_retries + 1):
            drawn, ok = draw_hard(cache, tails, query_relations, num_hard, self.generator)
            ok = ok & ~known.contains(drawn)
            if entities is None or valid is None:
                entities, valid = drawn, ok
            else:
                replace = ~valid & ok
                entities, valid = torch.where(replace, drawn, entities), valid | ok
            if bool(valid.all()):
                break
        assert entities is not None and valid is not None
        return entities, valid

    # ----------------------------------------------------------------- cache
    def attach(self, splits: list[LinkPredictionSplit], device: torch.device | str = "cpu") -> None:
        super().attach(splits, device)
        self.tails = [context.graph.cached("kmas_relation_tails", relation_tails) for context in self.graphs]
        self.caches = []
        self._evaluation_targets = {}

    @torch.no_grad()
    def refresh(self, backbone: KGBackbone) -> float:
        """Rebuild every training graph's similarity cache from ``backbone``; returns the seconds taken."""
        start = time.perf_counter()
        was_training = backbone.training
        backbone.eval()
        try:
            caches = []
            for context, tails in zip(self.graphs, self.tails, strict=True):
                rows = similarity_rows(backbone, context.graph, self.representation, self.similarity, self.chunk_size)
                caches.append(
                    build_similarity_cache(
                        rows, tails.counts, self.temperature, self.top_k, self.include_self, self.weighting
                    )
                )
            self.caches = caches
        finally:
            backbone.train(was_training)
        self.last_refresh_seconds = time.perf_counter() - start
        return self.last_refresh_seconds

    def _refresh_from(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.refresh(_backbone_of(pl_module))
        self.last_refresh_step = trainer.global_step
        self.last_refresh_epoch = trainer.current_epoch

    # ----------------------------------------------------------------- Lightning hooks
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        moved = bool(self.graphs) and self.graphs[0].graph.device != pl_module.device
        super().on_fit_start(trainer, pl_module)
        if moved:
            self.tails = [context.graph.cached("kmas_relation_tails", relation_tails) for context in self.graphs]
        if len(self.caches) == len(self.graphs):  # restored from a checkpoint
            self.caches = [cache.to(pl_module.device) for cache in self.caches]
        elif self.last_refresh_step is None:  # a fresh run
            self._refresh_from(trainer, pl_module)
        else:  # resumed without cached tables: rebuild from the restored weights, keep the refresh times
            self.refresh(_backbone_of(pl_module))

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.refresh_every_n_steps is None and self.last_refresh_epoch != trainer.current_epoch:
            self._refresh_from(trainer, pl_module)

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        super().on_train_batch_start(trainer, pl_module, batch, batch_idx)
        every = self.refresh_every_n_steps
        if every is not None and (
            self.last_refresh_step is None or trainer.global_step - self.last_refresh_step >= every
        ):
            self._refresh_from(trainer, pl_module)
        self.hard_ratio = self.schedule(trainer)
        pl_module.log("train/hard_ratio", self.hard_ratio, batch_size=1)
        if self.last_refresh_seconds is not None:
            pl_module.log("kmas/refresh_seconds", self.last_refresh_seconds, batch_size=1)
            self.last_refresh_seconds = None

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        every = self.diagnostics_every_n_steps
        # global_step was incremented by the optimizer step: the batch just trained is step global_step - 1.
        if every is None or self._last_batch is None or (trainer.global_step - 1) % every:
            return
        for key, value in self.diagnostics(trainer, pl_module).items():
            pl_module.log(key, value, batch_size=1)

    # ----------------------------------------------------------------- diagnostics
    @torch.no_grad()
    def diagnostics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, float]:
        """Mean backbone score of hard and of uniform negatives on the first positives of the last batch
        (one no-grad forward pass), and the share of hard negatives that are validation/test targets of the
        training graph (false negatives; transductive datasets only)."""
        assert self._last_batch is not None and self.last_hard_mask is not None
        positives, (entities, head_corrupted, mask), graph_id = self._last_batch
        hard = self.last_hard_mask
        result: dict[str, float] = {}
        targets = self._targets_of(trainer, graph_id)
        if targets is not None and bool(hard.any()):
            context = self.graphs[graph_id]
            anchors, query_relations, _ = self.query(positives, head_corrupted, context.graph)
            true = targets.contains(anchors.unsqueeze(1), query_relations.unsqueeze(1), entities)
            result["kmas/false_negative_rate"] = float(true[hard].float().mean())
        n = min(self.diagnostics_batch_size, len(positives))
        backbone = _backbone_of(pl_module)
        was_training = backbone.training
        backbone.eval()
        try:
            heads, relations, tails = positives[:n].t()
            anchors = torch.where(head_corrupted[:n], tails, heads)
            scores = backbone(
                self.graphs[graph_id].graph,
                anchors,
                relations,
                head_corrupted[:n],
                entities[:n],
                positives[:n],
            )
        finally:
            backbone.train(was_training)
        hard_slots, random_slots = hard[:n], ~hard[:n] & mask[:n]
        if bool(hard_slots.any()):
            result["kmas/hard_score_mean"] = float(scores[hard_slots].mean())
        if bool(random_slots.any()):
            result["kmas/random_score_mean"] = float(scores[random_slots].mean())
        return result

    def _targets_of(self, trainer: pl.Trainer, graph_id: int) -> TripleIndex | None:
        """Validation and test targets living on training graph ``graph_id`` (built once), else ``None``."""
        if graph_id not in self._evaluation_targets:
            datamodule = getattr(trainer, "datamodule", None)
            train_splits = getattr(datamodule, "train_splits", [])
            index = None
            if graph_id < len(train_splits):
                graph = train_splits[graph_id].graph
                shared = [
                    split.targets
                    for split in [
                        *getattr(datamodule, "valid_splits", []),
                        *getattr(datamodule, "test_splits", []),
                    ]
                    if _same_graph(split.graph, graph)
                ]
                if shared:
                    device = self.graphs[graph_id].graph.device
                    index = TripleIndex(torch.cat(shared), graph.num_nodes, graph.num_direct_relations).to(device)
            self._evaluation_targets[graph_id] = index
        return self._evaluation_targets[graph_id]

    # ----------------------------------------------------------------- checkpoint state
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "seed": self.seed,
            "last_refresh_step": self.last_refresh_step,
            "last_refresh_epoch": self.last_refresh_epoch,
        }
        if self.cache_in_checkpoint and self.caches:
            state["caches"] = [cache.state() for cache in self.caches]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.last_refresh_step = state_dict.get("last_refresh_step")
        self.last_refresh_epoch = state_dict.get("last_refresh_epoch")
        caches = state_dict.get("caches")
        if caches is not None and (not self.graphs or len(caches) == len(self.graphs)):
            self.caches = [SimilarityCache(**cache) for cache in caches]
        else:  # rebuilt from the restored weights at fit start
            self.caches = []


def _backbone_of(pl_module: pl.LightningModule) -> KGBackbone:
    backbone = getattr(pl_module, "backbone", None)
    if not isinstance(backbone, KGBackbone):
        raise RuntimeError("KMASSampler needs a LightningModule with a `backbone` (KGBackbone) attribute")
    return backbone


def _same_graph(left: KGGraph, right: KGGraph) -> bool:
    if left is right:
        return True
    return (
        left.num_nodes == right.num_nodes
        and left.num_relations == right.num_relations
        and left.edge_index.shape == right.edge_index.shape
        and bool(torch.equal(left.edge_index.cpu(), right.edge_index.cpu()))
    )
