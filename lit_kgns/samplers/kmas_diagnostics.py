"""What KMAS hard negatives are, logged during training: how hard they are and how many are true facts."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info

from lit_kgns.data.graph import KGGraph
from lit_kgns.data.protocol import split_source
from lit_kgns.data.triple_index import TripleIndex
from lit_kgns.errors import ConfigError
from lit_kgns.negatives import NegativeBatch
from lit_kgns.samplers.base import backbone_of
from lit_kgns.samplers.refresh import RefreshSchedule
from lit_kgns.scoring import diagnostic_scores


class KMASDiagnostics(pl.Callback):
    """Every ``every_n_steps`` training steps, from the batch just trained (its ``negatives`` with their
    ``hard`` slots), logs

    * ``kmas/hard_score_mean`` and ``kmas/random_score_mean``: the backbone's mean score of the hard and of
      the other valid negatives of the first ``batch_size`` positives, scored as training scores them (one
      no-grad forward in eval mode, the batch's edges hidden);
    * ``kmas/hard_above_positive`` and ``kmas/random_above_positive``: the share of those hard and other
      negatives that score above their positive (the ones the self-adversarial loss weighs most);
    * ``kmas/false_negative_rate`` and ``kmas/random_false_negative_rate``: the share of hard and of other
      negatives (whole batch) that are true facts the data root holds about the training graph beyond its
      training triples (:meth:`SplitSource.held_out_facts`: validation and test triples, unused files of the
      dataset's folders, the graph it was cut from); not logged when there are none. The sources are logged
      once per graph and kept in ``sources``.

    :class:`~lit_kgns.samplers.KMASSampler` runs one itself when ``diagnostics_every_n_steps`` is set; added to
    the Trainer's callbacks beside any other sampler, it logs the ``random_*`` figures of its negatives.
    """

    def __init__(self, every_n_steps: int = 50, batch_size: int = 8) -> None:
        super().__init__()
        if every_n_steps < 1 or batch_size < 1:
            raise ConfigError(f"every_n_steps and batch_size must be positive, got {every_n_steps}, {batch_size}")
        self.every_n_steps = every_n_steps
        self.measurements = RefreshSchedule(every_n_steps=every_n_steps, every_n_epochs=None)
        self.batch_size = batch_size
        self._known_facts: dict[int, TripleIndex | None] = {}
        self.sources: dict[int, list[str]] = {}

    def reset(self) -> None:
        """Forget the facts found so far (the training graphs changed)."""
        self._known_facts, self.sources = {}, {}

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        negatives: NegativeBatch | None = batch.negatives
        # global_step was incremented by the optimizer step: the batch just trained is step global_step - 1
        trained = trainer.global_step - 1
        if negatives is None or not self.measurements.due_at_step(trained):
            return
        self.measurements.done(trained, trainer.current_epoch)
        graph_id = batch.graph_index
        graph = split_source(trainer).train_splits[graph_id].graph
        for key, value in self.measure(trainer, pl_module, graph, batch.triples, negatives, graph_id).items():
            pl_module.log(key, value, batch_size=1)

    @torch.no_grad()
    def measure(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        graph: KGGraph,
        positives: torch.Tensor,
        negatives: NegativeBatch,
        graph_id: int,
    ) -> dict[str, float]:
        hard = negatives.hard if negatives.hard is not None else torch.zeros_like(negatives.mask)
        groups = {"": hard, "random_": ~hard & negatives.mask}
        result: dict[str, float] = {}
        targets = self.known_facts(trainer, graph_id, graph.device)
        if targets is not None:
            queries = negatives.queries(positives, graph.num_direct_relations)
            true = targets.contains(
                queries.anchors.unsqueeze(1), queries.query_relations.unsqueeze(1), negatives.entities
            )
            for prefix, slots in groups.items():
                if bool(slots.any()):
                    result[f"kmas/{prefix}false_negative_rate"] = float(true[slots].float().mean())
        n = min(self.batch_size, len(positives))
        scores = diagnostic_scores(backbone_of(pl_module), graph, positives[:n], negatives.rows(n))
        above = scores[:, 1:] > scores[:, :1]
        for prefix, slots in groups.items():
            kind = prefix or "hard_"
            if bool(slots[:n].any()):
                result[f"kmas/{kind}score_mean"] = float(scores[:, 1:][slots[:n]].mean())
                result[f"kmas/{kind}above_positive"] = float(above[slots[:n]].float().mean())
        return result

    def known_facts(self, trainer: pl.Trainer, graph_id: int, device: torch.device) -> TripleIndex | None:
        """Index of the held-out true facts of training graph ``graph_id`` (built once; ``None`` when the
        data has none). Their sources are logged once."""
        if graph_id not in self._known_facts:
            datamodule = split_source(trainer)
            graph = datamodule.train_splits[graph_id].graph
            facts = datamodule.held_out_facts(graph_id)
            self.sources[graph_id] = facts.sources
            described = "; ".join(facts.sources) or "none found"
            rank_zero_info(f"KMAS false-negative rate of {graph.name}: {len(facts.triples)} facts from {described}")
            index = None
            if len(facts.triples):
                index = TripleIndex(facts.triples, graph.num_nodes, graph.num_direct_relations).to(device)
            self._known_facts[graph_id] = index
        return self._known_facts[graph_id]
