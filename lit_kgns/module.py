"""The LightningModule: one training step, one loss and filtered ranking evaluation around any backbone."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any

import pytorch_lightning as pl
import torch
from jsonargparse.typing import import_object
from pytorch_lightning.utilities import rank_zero_warn
from torch import Tensor, nn

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.backbones.kge import KGEBackbone
from lit_kgns.data.batches import TrainingBatch
from lit_kgns.data.evaluation_queries import EvaluationBatch
from lit_kgns.data.graph import LinkPredictionSplit
from lit_kgns.data.protocol import split_source
from lit_kgns.errors import CheckpointError, DivergedError, SetupError
from lit_kgns.losses import SelfAdversarialBCE
from lit_kgns.metrics import RankingMetrics, TiePolicy, filtered_ranks
from lit_kgns.options import check_choice
from lit_kgns.scoring import score_answers, score_candidates, score_queries, top_answers

_DIVERGED_ADVICE = (
    "Lower the learning rate (--model.optimizer.init_args.lr) or clip gradients (--trainer.gradient_clip_val 1.0)"
)
OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
SchedulerFactory = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]


def default_optimizer(parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """AdamW with ULTRA's learning rate 5e-4 (weight decay 0.01, torch's default)."""
    return torch.optim.AdamW(parameters, lr=5e-4)


class KGLinkPrediction(pl.LightningModule):
    """Trains and evaluates a :class:`KGBackbone` for link prediction.

    Training: the :class:`~lit_kgns.data.batches.TrainingBatch` holds its positives and the negatives the sampler
    Callback drew for them; the batch's own triples are hidden from message passing
    (``remove_batch_edges``); ``loss`` scores them (BCE with self-adversarial weights by default).
    Evaluation: filtered ranking of every entity for the head and the tail query of each triple, pooled;
    metrics are logged as ``val/mrr``, ``test/hits@10``, ... and, with several graphs, per graph
    (``test/<graph>/mrr``) plus their unweighted mean. Graphs come from the DataModule, already on the device
    (:class:`~lit_kgns.data.protocol.SplitSource`).

    Args:
        backbone: the link predictor.
        optimizer: a callable building the optimizer from the parameters (AdamW, lr 5e-4 by default).
        remove_batch_edges: hide the batch's positive (and other candidate) triples from the graph.
        ties: rank policy for tied scores: ``pessimistic`` (ULTRA), ``realistic`` or ``optimistic``.
        predict_top_k: number of ranked entities ``predict`` returns per query.
        predict_filtered: ``predict`` leaves out the known true answers of each query (the filter of the
            evaluation protocol); ``False``: every entity is ranked, known answers included.
        loss: a module of ``(scores (B, 1 + K), mask (B, K))``: :class:`~lit_kgns.losses.SelfAdversarialBCE`
            (ULTRA's, the default, temperature 1), :class:`~lit_kgns.losses.MarginRanking` or
            :class:`~lit_kgns.losses.NSSA` (PyKEEN's).
        lr_scheduler: a callable building a learning-rate scheduler from the optimizer, stepped every
            optimizer step (``--model.lr_scheduler torch.optim.lr_scheduler.LinearLR``); ``None``: constant.
    """

    def __init__(
        self,
        backbone: KGBackbone,
        optimizer: OptimizerFactory = default_optimizer,
        remove_batch_edges: bool = True,
        ties: TiePolicy = "pessimistic",
        predict_top_k: int = 10,
        loss: nn.Module | None = None,
        lr_scheduler: SchedulerFactory | None = None,
        predict_filtered: bool = True,
    ) -> None:
        super().__init__()
        check_choice("ties", ties, TiePolicy)
        # Under LightningCLI the hyperparameters are the parsed config (class paths and init args), from which
        # ``load_from_checkpoint`` rebuilds the backbone; from plain Python keep modules and callables out.
        self.save_hyperparameters(ignore=None if _built_by_cli() else ["backbone", "optimizer", "loss", "lr_scheduler"])
        _drop_options_the_backbone_ignored(self.hparams)
        self.backbone = backbone
        self.optimizer_factory = optimizer
        self.scheduler_factory = lr_scheduler
        self.remove_batch_edges = remove_batch_edges
        self.ties = ties
        self.predict_top_k = predict_top_k
        self.predict_filtered = predict_filtered
        self.loss = loss if loss is not None else SelfAdversarialBCE()
        self.metrics = nn.ModuleDict()
        self._last_finite_loss: tuple[int, float] | None = None  # (step, loss), for the message of a divergence

    # ----------------------------------------------------------------- checkpoints bound to their data
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        weights = checkpoint["state_dict"].items()
        broken = [name for name, value in weights if value.is_floating_point() and not value.isfinite().all()]
        if broken:  # raised before the file is written: no checkpoint of diverged weights, last or best
            raise DivergedError(
                f"step {self.global_step}: {len(broken)} weight tensors hold NaN or infinite values (first: "
                f"{broken[0]}); no checkpoint written. {_DIVERGED_ADVICE}"
            )
        if self._trainer is not None and self.trainer.datamodule is not None:
            splits = split_source(self.trainer).train_splits
            checkpoint["training_graphs"] = [split.graph.fingerprint() for split in splits]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Resuming ``fit`` on other training graphs than the checkpoint's is refused (evaluating a checkpoint
        on any graph, as zero-shot does, is not a resume and is not checked), and so is ``predict`` with an
        embedding model on another graph than its training graph (its ids would name other entities)."""
        stored = checkpoint.get("training_graphs")
        if stored is None or self._trainer is None:
            return
        if self.trainer.state.fn == "predict" and isinstance(self.backbone, KGEBackbone):
            _check_embedding_graph(stored, split_source(self.trainer).splits("predict"))
        if self.trainer.state.fn != "fit":
            return
        current = [split.graph.fingerprint() for split in split_source(self.trainer).train_splits]
        if [graph["sha256"] for graph in stored] != [graph["sha256"] for graph in current]:
            describe = lambda graphs: ", ".join(  # noqa: E731
                f"{graph['name']} ({graph['entities']} entities, {graph['edges']} edges)" for graph in graphs
            )
            raise CheckpointError(
                f"this checkpoint was trained on {describe(stored)}, not on {describe(current)}: resuming it on "
                "other data would continue another run; to fine-tune from its weights, start a new run with "
                "model.backbone.init_args.checkpoint=<file> (no --ckpt_path)"
            )

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = {"scheduler": self.scheduler_factory(optimizer), "interval": "step"}
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    # ----------------------------------------------------------------- training
    def training_step(self, batch: TrainingBatch, batch_idx: int) -> Tensor:
        positives, negatives = batch.triples, batch.negatives
        graph = split_source(self.trainer).train_splits[batch.graph_index].graph
        if negatives is None:
            raise SetupError(
                "the training batch holds no negatives: training needs a NegativeSampler callback in the Trainer "
                "(CLI: --sampler lit_kgns.samplers.StrictUniformSampler)"
            )
        scores = score_candidates(self.backbone, graph, positives, negatives, self.remove_batch_edges)
        loss = self.loss(scores, negatives.loss_mask(scores), **negatives.loss_options())
        self._check_finite_loss(loss)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(positives))
        return loss

    def _check_finite_loss(self, loss: Tensor) -> None:
        """A NaN or infinite loss ends the run: its gradients would turn every weight NaN, and NaN scores
        compare false, so every answer would then rank first (MRR 1.0)."""
        value = float(loss.detach())
        if math.isfinite(value):
            self._last_finite_loss = (self.global_step, value)
            return
        last = "no finite loss before it"
        if self._last_finite_loss is not None:
            last = f"last finite loss {self._last_finite_loss[1]:.4g} at step {self._last_finite_loss[0]}"
        raise DivergedError(
            f"training diverged at step {self.global_step}: train/loss is {value} ({last}). {_DIVERGED_ADVICE}"
        )

    def on_fit_end(self) -> None:
        if self.trainer.global_step == 0:
            rank_zero_warn(
                "fit ended after 0 optimizer steps (trainer.max_steps, max_epochs, limit_train_batches or "
                "data.batches_per_epoch): the weights are untrained, and a test after it evaluates them as initialized"
            )

    # ----------------------------------------------------------------- evaluation
    def _metric(self, stage: str, index: int) -> RankingMetrics:
        key = f"{stage}_{index}"
        if key not in self.metrics:
            self.metrics[key] = RankingMetrics().to(self.device)
        return self.metrics[key]  # type: ignore[return-value]

    def _evaluation_step(self, stage: str, batch: EvaluationBatch, dataloader_idx: int) -> dict[str, Tensor]:
        """Ranks every answer row of ``batch`` into the stage's metrics; returns the rows (rank, relation,
        direction, anchor) for Callbacks such as :class:`~lit_kgns.breakdowns.MetricBreakdown`."""
        split = split_source(self.trainer).splits(stage)[dataloader_idx]
        queries = score_answers(self.backbone, split, batch)
        check_finite_scores(queries.scores, split.name)
        ranks, num_negatives = filtered_ranks(queries.scores, queries.answers, queries.known, self.ties)
        self._metric(stage, dataloader_idx).update(ranks, num_negatives)
        rows = batch.answer_query
        return {
            "ranks": ranks,
            "relations": batch.relations[rows],
            "head_queries": queries.head_queries,
            "anchors": batch.anchors[rows],
        }

    def _log_evaluation(self, stage: str) -> None:
        splits = split_source(self.trainer).splits(stage)
        per_graph = []
        for index, split in enumerate(splits):
            metric = self._metric(stage, index)
            values = metric.compute()
            metric.reset()
            per_graph.append(values)
            if len(splits) > 1:
                graph = split.name.rsplit("/", 1)[0]
                for key, value in values.items():
                    self.log(f"{stage}/{graph}/{key}", value, sync_dist=False, add_dataloader_idx=False)
        keys = dict.fromkeys(key for values in per_graph for key in values)
        for key in keys:
            # metrics are averaged over the graphs reporting them, unweighted (as published); query counts add up
            values = torch.stack([values[key] for values in per_graph if key in values])
            total = values.sum() if key == "num_queries" else values.mean()
            self.log(f"{stage}/{key}", total, prog_bar=key == "mrr", sync_dist=False, add_dataloader_idx=False)

    def validation_step(self, batch: EvaluationBatch, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Tensor]:
        return self._evaluation_step("val", batch, dataloader_idx)

    def test_step(self, batch: EvaluationBatch, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Tensor]:
        return self._evaluation_step("test", batch, dataloader_idx)

    def on_validation_epoch_end(self) -> None:
        self._log_evaluation("val")

    def on_test_epoch_end(self) -> None:
        self._log_evaluation("test")

    def predict_step(
        self, batch: EvaluationBatch | dict[str, Tensor], batch_idx: int, dataloader_idx: int = 0
    ) -> dict[str, Tensor]:
        """Top-k answers of each query with their scores (known true answers left out if ``predict_filtered``).

        A batch of test queries (:class:`~lit_kgns.data.evaluation_queries.EvaluationBatch`: the tail and,
        unless the split ranks only tails, the head query of each test triple, each distinct query scored
        once) gives one row per triple and direction, with its true answer (listed even when filtered) and its
        rank, rows of one query together; a ``{"queries": (B, 3)}`` batch (``data.predict_queries``) asks its
        rows. ``queries``
        holds every asked row as ``(h, r, t)`` ids with ``-1`` at the ``?`` (:mod:`lit_kgns.data.queries`).
        """
        split = split_source(self.trainer).splits("predict")[dataloader_idx]
        answers = None
        if isinstance(batch, dict):
            queries = batch["queries"]
            scores, known, head_queries = score_queries(self.backbone, split, queries)
        else:
            scored = score_answers(self.backbone, split, batch)
            scores, known, head_queries, answers = scored.scores, scored.known, scored.head_queries, scored.answers
            queries = batch.triples.clone()
            queries[torch.arange(len(queries), device=queries.device), torch.where(head_queries, 0, 2)] = -1
        check_finite_scores(scores, split.name)
        if not self.predict_filtered:
            known = torch.zeros_like(known)
        extra: dict[str, Tensor] = {}
        if answers is not None:
            ranks, _ = filtered_ranks(scores, answers, known, self.ties)  # raw ranks when unfiltered
            known[torch.arange(len(answers), device=answers.device), answers] = False  # the answer may be listed
            extra = {"triples": batch.triples, "answers": answers, "rank": ranks}
        top = top_answers(scores, known, self.predict_top_k)
        return {
            **extra,
            "queries": queries,
            "head_query": head_queries,
            "top_entities": top.indices,
            "top_scores": top.values,
        }


def check_finite_scores(scores: Tensor, split: str) -> None:
    """NaN or infinite scores are an error, never a rank: NaN compares false with everything, so with them
    every true answer would rank first."""
    finite = torch.isfinite(scores)
    if not finite.all():
        raise DivergedError(
            f"{split}: {int((~finite).sum())} of {scores.numel()} scores are NaN or infinite, so no rank is "
            f"meaningful: the weights diverged. {_DIVERGED_ADVICE}"
        )


def _check_embedding_graph(stored: list[dict[str, Any]], splits: list[LinkPredictionSplit]) -> None:
    """An embedding model's ids are its training graph's: predicting on another graph would name the wrong
    entities, so it is refused (KGFMs carry no vocabulary and predict on any graph)."""
    for split in splits:
        current = split.graph.fingerprint()
        if stored and current["sha256"] != stored[0]["sha256"]:
            raise CheckpointError(
                f"this embedding checkpoint was trained on {stored[0]['name']} ({stored[0]['entities']} entities), "
                f"not on {current['name']} ({current['entities']} entities): its entity and relation ids belong "
                "to the graph it was trained on; predict with that dataset (data.dataset)"
            )


def _drop_options_the_backbone_ignored(hparams: Any) -> None:
    """The CLI links ``num_entities`` / ``num_relations`` from the DataModule into every backbone's options; a
    backbone without them (a KGFM) is built without them, and a checkpoint must not keep them either (resuming
    would pass them back)."""
    backbone = hparams.get("backbone")
    init_args = backbone.get("init_args") if hasattr(backbone, "get") else None
    if init_args is None or not backbone.get("class_path"):
        return
    accepted = inspect.signature(import_object(backbone["class_path"])).parameters
    for name in [name for name in ("num_entities", "num_relations") if name in init_args and name not in accepted]:
        del init_args[name]


def _built_by_cli() -> bool:
    from pytorch_lightning.core.mixins.hparams_mixin import _given_hyperparameters

    return _given_hyperparameters.get() is not None
