"""Model-driven pools: the base of dynamic samplers, and NearestNeighbor (k-NN of the replaced entity).

A dynamic sampler reads an embedding space from a *source* model:

* a frozen auxiliary backbone given as module (``model``) or loaded from a lit_kgns checkpoint
  (``checkpoint``: a :class:`~lit_kgns.module.KGLinkPrediction` ``.ckpt``; with ``model`` too, only the
  ``backbone.*`` weights are loaded into it), never refreshed, as in the PyKEEN extension;
* otherwise the backbone being trained, re-read every ``refresh_every_n_steps`` training steps or every
  ``refresh_every_n_epochs`` epochs (whichever is set; the steps take precedence).
"""

from __future__ import annotations

import copy
from typing import Any

import pytorch_lightning as pl
import torch
from jsonargparse import ArgumentParser
from torch import Tensor, nn

from lit_kgns.backbones.base import EmbeddingBackbone, KGBackbone
from lit_kgns.data.graph import LinkPredictionSplit
from lit_kgns.data.triple_index import TripleIndex, expand_ranges
from lit_kgns.errors import ConfigError, SetupError
from lit_kgns.samplers.base import backbone_of
from lit_kgns.samplers.fallback import PoolRanges
from lit_kgns.samplers.pools import PoolSampler
from lit_kgns.samplers.refresh import RefreshSchedule


def load_backbone(checkpoint: str, model: nn.Module | None = None) -> nn.Module:
    """The backbone of a lit_kgns checkpoint: its ``backbone.*`` weights loaded into ``model``, or into the
    backbone the checkpoint's hyperparameters describe (``class_path`` / ``init_args``, as the CLI saves them)."""
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if model is None:
        config = saved.get("hyper_parameters", {}).get("backbone")
        if not isinstance(config, dict) or "class_path" not in config:
            raise ConfigError(
                f"{checkpoint}: the checkpoint does not describe its backbone (saved outside the CLI); "
                "pass the backbone as `model` and only its weights are read"
            )
        parser = ArgumentParser()
        parser.add_argument("--backbone", type=KGBackbone)
        model = parser.instantiate_classes(parser.parse_object({"backbone": config})).backbone
    state = saved["state_dict"]
    model.load_state_dict({k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")})
    return model


def frozen(model: nn.Module) -> nn.Module:
    model = model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


class DynamicPoolSampler(PoolSampler):
    """Pools computed from a source model's embeddings; subclasses implement :meth:`rebuild` and
    :meth:`pool_ranges`.

    Args:
        model: frozen auxiliary backbone (module), or ``None``.
        checkpoint: lit_kgns checkpoint of the auxiliary backbone, or ``None``.
        num_query_results: pool size ``k`` (neighbours per query).
        refresh_every_n_steps: refresh every this many optimizer steps when the trained model is the source
            (takes precedence; ``None``: never).
        refresh_every_n_epochs: else every this many epochs (``None``: never).
        kwargs: see :class:`PoolSampler` and :class:`~lit_kgns.samplers.base.NegativeSampler`.
    """

    def __init__(
        self,
        model: nn.Module | None = None,
        checkpoint: str | None = None,
        num_query_results: int = 100,
        refresh_every_n_steps: int | None = None,
        refresh_every_n_epochs: int | None = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if num_query_results < 1:
            raise ConfigError(f"num_query_results must be positive, got {num_query_results}")
        self.checkpoint = checkpoint
        self.num_query_results = num_query_results
        self.refreshes = RefreshSchedule(refresh_every_n_steps, refresh_every_n_epochs)
        self.auxiliary = model is not None or checkpoint is not None
        self.source: nn.Module | None = None
        if checkpoint is not None:
            model = load_backbone(checkpoint, model)
        if model is not None:
            self.source = frozen(model)

    def refresh(self, backbone: nn.Module | None = None) -> None:
        """Rebuild the pools from the source: a frozen copy of ``backbone`` (the model being trained; a fixed
        auxiliary model is kept), or the current source when ``backbone`` is ``None``."""
        if backbone is not None and (self.source is None or not self.auxiliary):
            self.source = frozen(copy.deepcopy(backbone))
        if self.graphs:
            self.rebuild()

    def rebuild(self) -> None:
        """Recompute whatever the pools depend on from ``self.source``."""

    def require_source(self) -> nn.Module:
        if self.source is None:
            raise SetupError(f"{type(self).__name__} has no source model: pass model/checkpoint or call refresh")
        return self.source

    # ----------------------------------------------------------------- Lightning hooks
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_fit_start(trainer, pl_module)
        if self.source is not None:
            self.source.to(pl_module.device)
        self._refresh_from(trainer, pl_module)

    def before_sampling(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.auxiliary and self.refreshes.due_at_step(trainer.global_step):
            self._refresh_from(trainer, pl_module)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.auxiliary and self.refreshes.due_at_epoch(trainer.current_epoch):
            self._refresh_from(trainer, pl_module)

    def _refresh_from(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.refresh(backbone_of(pl_module))
        self.refreshes.done(trainer.global_step, trainer.current_epoch)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), **self.refreshes.state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.refreshes.load(state_dict)


def compress(entities: Tensor, valid: Tensor) -> PoolRanges:
    """Per-row pools from a ``(B, k)`` table: valid entries moved first (order kept), ``count`` = valid ones."""
    batch, width = entities.shape
    # Each valid entry goes to its rank among the row's valid entries; invalid ones to a spare last column.
    column = torch.where(valid, valid.cumsum(dim=1) - 1, width)
    # int32 entity ids, as the static pools: draws gather from this table.
    table = entities.new_zeros(batch, width + 1, dtype=torch.int32).scatter_(1, column, entities.int())[:, :width]
    start = torch.arange(batch, device=table.device) * width
    return PoolRanges(table.reshape(-1), start, valid.sum(dim=1))


@torch.no_grad()
def nearest_neighbours(vectors: Tensor, k: int, chunk: int = 2048) -> Tensor:
    """``(N, k)`` Euclidean nearest neighbours of every row of ``vectors`` (itself excluded)."""
    k = min(k, len(vectors) - 1)
    result = []
    for begin in range(0, len(vectors), chunk):
        distances = torch.cdist(vectors[begin : begin + chunk], vectors)
        rows = torch.arange(begin, min(begin + chunk, len(vectors)), device=vectors.device)
        distances[rows - begin, rows] = float("inf")
        result.append(distances.topk(k, dim=1, largest=False).indices)
    return torch.cat(result)


class NearestNeighborSampler(DynamicPoolSampler):
    """Replace ``h`` (or ``t``) by one of its ``k`` nearest entities in the source model's entity space.

    The space is ``model.entity_table()`` (KGE backbones; complex vectors as ``[re, im]``), Euclidean
    distance (the extension's KD-tree). Known true answers of the query are removed from the pool (as the
    extension's ``get_positive_pool``). The neighbour table ``(N, k)`` is recomputed at each refresh.
    """

    pool_depends_on_answer = True

    def attach(self, splits: list[LinkPredictionSplit], device: torch.device | str = "cpu") -> None:
        super().attach(splits, device)
        self.neighbours: Tensor | None = None
        self.excluded: dict[int, tuple[Tensor, Tensor]] = {}

    def rebuild(self) -> None:
        source = self.require_source()
        if not isinstance(source, EmbeddingBackbone):
            raise TypeError(f"{type(source).__name__} has no entity_table(): NearestNeighbor needs a KGE backbone")
        with torch.no_grad():
            vectors = source.entity_table().detach().float()
        self.neighbours = nearest_neighbours(vectors, self.num_query_results)
        self.excluded = {}

    def excluded_slots(self, graph_id: int) -> tuple[Tensor, Tensor]:
        """``(pair_start, slots)``: the :func:`true_neighbour_slots` of each known pair of a graph, in CSR form
        (pair ``p`` drops ``slots[pair_start[p] : pair_start[p + 1]]``), computed once per refresh."""
        if graph_id not in self.excluded:
            known = self.graphs[graph_id].known
            width = self.neighbours.shape[1]
            ids = true_neighbour_slots(known, self.neighbours.to(known.answers.device))
            per_pair = torch.bincount(ids // width, minlength=len(known.combined_keys))
            pair_start = torch.cat([per_pair.new_zeros(1), per_pair.cumsum(0)])
            self.excluded[graph_id] = (pair_start, ids % width)
        return self.excluded[graph_id]

    def pool_ranges(self, anchors: Tensor, query_relations: Tensor, answers: Tensor, graph_id: int) -> PoolRanges:
        if getattr(self, "neighbours", None) is None:
            self.rebuild()
        index = self.graphs[graph_id].known
        neighbours = self.neighbours.to(answers.device).index_select(0, answers)  # (B, k)
        # The slots to drop were found at refresh, per known (query, answer) pair: look the pairs up.
        pair, found = index.locate(anchors, query_relations, answers)
        pair_start, excluded = self.excluded_slots(graph_id)
        low = pair_start.index_select(0, pair)
        count = torch.where(found, pair_start.index_select(0, pair + 1) - low, 0)
        rows, positions = expand_ranges(low, count)
        slots = excluded.index_select(0, positions)
        valid = torch.ones_like(neighbours, dtype=torch.bool)
        valid[rows, slots] = False
        missing = (~found).nonzero().squeeze(1)
        if len(missing):  # a positive that is not a known triple: its query's answers are looked up now
            valid[missing] = ~index.batch(anchors[missing], query_relations[missing]).contains(neighbours[missing])
        return compress(neighbours, valid)


@torch.no_grad()
def true_neighbour_slots(index: TripleIndex, neighbours: Tensor, chunk_size: int = 2048) -> Tensor:
    """Sorted ids ``pair * k + slot``: neighbour ``slot`` of the answer of known pair ``pair`` (numbered as
    ``index.combined_keys``) is itself a true answer of the pair's query, so it leaves that pair's pool.

    Pairs of one query are contiguous in the index, so each chunk of queries builds one answer mask and reads
    the neighbours of all their answers from it; the work is ``O(pairs * k)`` rather than ``O(pairs * N)``.
    """
    width = neighbours.shape[1]
    query_keys, counts = torch.unique_consecutive(index.query_keys, return_counts=True)
    first_pair = counts.cumsum(0) - counts
    found = [index.query_keys.new_zeros(0)]
    for begin in range(0, len(query_keys), chunk_size):
        keys, sizes = query_keys[begin : begin + chunk_size], counts[begin : begin + chunk_size]
        answers = index.batch(keys // index.num_relations, keys % index.num_relations)
        pairs = torch.arange(int(sizes.sum()), device=keys.device) + first_pair[begin]
        rows = torch.repeat_interleave(torch.arange(len(keys), device=keys.device), sizes)
        hit = answers.contains_pairs(rows.unsqueeze(1), neighbours.index_select(0, index.answers[pairs]))
        pair, slot = hit.nonzero(as_tuple=True)
        found.append(pairs[pair] * width + slot)
    return torch.cat(found)
