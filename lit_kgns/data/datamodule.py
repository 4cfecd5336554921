"""The LightningDataModule: positive triples of one or several graphs, for every split kind."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_warn
from torch.utils.data import DataLoader

from lit_kgns.data.batches import (
    ResumableLoader,
    TrainingBatchPlan,
    TrainingTriples,
    UnpaddedDistributedSampler,
)
from lit_kgns.data.catalog import dataset_folder, load_dataset
from lit_kgns.data.checks import DataIssuePolicy, dataset_findings
from lit_kgns.data.evaluation_queries import NO_QUERY, EvaluationQueries
from lit_kgns.data.folders import RelationPosition, is_folder_dataset, load_folder
from lit_kgns.data.graph import KGDataset, KGGraph, LinkPredictionSplit
from lit_kgns.data.groups import expand_groups
from lit_kgns.data.held_out import HeldOutFacts, held_out_facts
from lit_kgns.data.queries import Labels, QueryRows, prediction_labels, read_queries
from lit_kgns.errors import ConfigError, DataError
from lit_kgns.options import check_choice, check_positive

EvalDirections = Literal["dataset", "both", "tail"]


def _as_list(names: str | list[str] | None) -> list[str]:
    if names is None:
        return []
    return [names] if isinstance(names, str) else list(names)


class KGDataModule(pl.LightningDataModule):
    """Serves transductive, inductive(e) and inductive(e,r) benchmarks by catalog name.

    Batches hold positive triples only (:class:`~lit_kgns.data.batches.TrainingBatch`); the sampler Callback adds
    the negatives on the training device. Several training datasets form a pretraining mixture; several
    validation / test datasets are evaluated one after the other (one dataloader each) and reported per
    graph and on average.

    It is the one owner of the splits on the training device: ``setup`` moves each graph there once (a
    transductive dataset's stages keep sharing one graph, so its derived structures are built once) and
    ``train_splits`` / :meth:`splits` serve them to the module and the samplers
    (:class:`~lit_kgns.data.protocol.SplitSource`). The dataloaders read the triples from the CPU copies.

    Args:
        dataset: dataset name(s) for every stage (e.g. ``umls``, ``grail_fb237_v1``, a group:
            ``transductive``, ``inductive_e``, ``inductive_er``, ``all``, ``offline``, or the path of a folder
            of your own triple files: :mod:`lit_kgns.data.folders`); with no name at all, the embedded
            default ``umls`` (bundled with PyKEEN, no download).
        train_datasets: training datasets overriding ``dataset`` (e.g. pretrain on
            ``[fb15k-237, wn18rr, codex-m]``).
        valid_datasets: validation datasets overriding ``dataset``; else the training ones.
        test_datasets: test datasets overriding ``dataset`` (e.g. ``[grail_fb237_v1, ...]``); else the
            validation ones.
        root: data root holding the dataset folders; default ``$LIT_KGNS_DATA``, else the user cache.
        batch_size: positive triples per training batch.
        eval_batch_size: triples' worth of queries per evaluation batch: ``2 ×`` this many distinct queries
            (``1 ×`` where only tails are ranked), each scored once for every target triple asking it.
        eval_directions: the queries evaluation ranks for each target ``(h, r, t)``: ``both`` the tail query
            ``(h, r, ?)`` and the head query ``(?, r, t)``, pooled; ``tail`` the tail query only; ``dataset``
            (default) what each dataset's published numbers use: tail only for WD-singer, NELL23k and
            FB15k-237-10/20/50 (upstream's ``mrr-tail``), both for every other graph.
        batches_per_epoch: cap on training batches per epoch (the epoch length of a mixture).
        seed: seed of the training batch plan; ``None`` (the default) follows the global seed
            (``seed_everything``, ``PL_GLOBAL_SEED``), so runs with different seeds see positives in different
            orders.
        num_workers: DataLoader workers (batches are index look-ups: 0 is usually fastest).
        on_data_issue: what to do when a dataset has duplicated training triples, evaluation triples that are
            training triples, or evaluation entities / relations without edges
            (:func:`~lit_kgns.data.checks.dataset_findings`): ``warn`` once (default), ``error``, ``ignore``.
        relation_position: where the relation is in the lines of your own triple folders (``middle``:
            ``head relation tail``; ``last``: ``head tail relation``); catalog datasets know their own.
        val_subset: validate on this many validation triples per graph, drawn once from the data seed
            (upstream's ``fast_test``; ``None``: all of them).
        predict_queries: a file of questions by label, ``head<TAB>relation<TAB>?`` or ``?<TAB>relation<TAB>tail``
            per line (:func:`~lit_kgns.data.queries.read_queries`), that ``predict`` answers on the graph the
            (single) test dataset queries; ``None``: ``predict`` answers the test split's evaluation queries.
    """

    def __init__(
        self,
        dataset: str | list[str] | None = None,
        train_datasets: list[str] | None = None,
        valid_datasets: list[str] | None = None,
        test_datasets: list[str] | None = None,
        root: str | None = None,
        batch_size: int = 16,
        eval_batch_size: int = 16,
        batches_per_epoch: int | None = None,
        seed: int | None = None,
        num_workers: int = 0,
        on_data_issue: DataIssuePolicy = "warn",
        val_subset: int | None = None,
        relation_position: RelationPosition = "middle",
        predict_queries: str | None = None,
        eval_directions: EvalDirections = "dataset",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.root = Path(root) if root is not None else None
        # group names (transductive, inductive_e, inductive_er, all, offline) stand for their datasets
        expand = lambda names: expand_groups(_as_list(names), self.root)  # noqa: E731
        default = expand(dataset)
        if not (default or train_datasets or valid_datasets or test_datasets):
            default = ["umls"]
        self.train_names = expand(train_datasets) or default
        self.valid_names = expand(valid_datasets) or default or self.train_names
        self.test_names = expand(test_datasets) or default or self.valid_names
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.batches_per_epoch = batches_per_epoch
        self.seed = seed
        self.num_workers = num_workers
        check_choice("on_data_issue", on_data_issue, DataIssuePolicy)
        check_positive("data.batch_size", batch_size)
        check_positive("data.eval_batch_size", eval_batch_size)
        self.on_data_issue = on_data_issue
        if val_subset is not None:
            check_positive("data.val_subset", val_subset)
        self.val_subset = val_subset
        check_choice("relation_position", relation_position, RelationPosition)
        self.relation_position = relation_position
        if predict_queries is not None and len(self.test_names) != 1:
            raise ConfigError(
                f"data.predict_queries asks one graph, but {len(self.test_names)} test datasets are set "
                f"({', '.join(self.test_names)}): name one with data.test_datasets"
            )
        self.predict_queries = predict_queries
        check_choice("data.eval_directions", eval_directions, EvalDirections)
        self.eval_directions = eval_directions
        self._datasets: dict[str, KGDataset] = {}
        self._device_graphs: dict[tuple[int, str], KGGraph] = {}
        self._held_out: dict[str, HeldOutFacts] = {}
        self.train_splits: list[LinkPredictionSplit] = []
        self.valid_splits: list[LinkPredictionSplit] = []
        self.test_splits: list[LinkPredictionSplit] = []

    @classmethod
    def from_datasets(cls, datasets: Sequence[KGDataset], **options: Any) -> KGDataModule:
        """A DataModule over datasets already in memory (tests, notebooks, data built in Python); the
        per-stage options (``train_datasets``, ...) name them by ``KGDataset.name``."""
        names = [dataset.name for dataset in datasets]
        if len(set(names)) != len(names):
            raise ConfigError(f"dataset names must be unique, got {names}")
        datamodule = cls(dataset=options.pop("dataset", names), **options)
        for dataset in datasets:
            datamodule._datasets[dataset.name] = dataset
            datamodule._report(dataset)
        return datamodule

    @property
    def plan_seed(self) -> int:
        """The batch plan's seed: ``seed`` if given, else the global seed Lightning recorded, else 0."""
        if self.seed is not None:
            return self.seed
        return int(os.environ.get("PL_GLOBAL_SEED", 0))

    @property
    def num_entities(self) -> int | None:
        """Entities of the single training graph (what an embedding model's table needs); ``None`` for a
        mixture of several training graphs, which embedding models cannot train on."""
        return self.dataset(self.train_names[0]).train.graph.num_nodes if len(self.train_names) == 1 else None

    @property
    def num_relations(self) -> int | None:
        """Direct relations of the single training graph; ``None`` for a mixture."""
        names = self.train_names
        return self.dataset(names[0]).train.graph.num_direct_relations if len(names) == 1 else None

    def dataset(self, name: str) -> KGDataset:
        if name not in self._datasets:
            if is_folder_dataset(name):
                self._datasets[name] = load_folder(name, self.relation_position)
            else:
                self._datasets[name] = load_dataset(name, self.root)
            self._report(self._datasets[name])
        return self._datasets[name]

    def _report(self, dataset: KGDataset) -> None:
        findings = dataset_findings(dataset) if self.on_data_issue != "ignore" else []
        if not findings:
            return
        message = f"dataset {dataset.name!r}: {'; '.join(findings)}"
        if self.on_data_issue == "error":
            raise DataError(f"{message} (data.on_data_issue=warn to train anyway)")
        rank_zero_warn(f"{message} (data.on_data_issue=ignore to silence, error to refuse)")

    def prepare_data(self) -> None:
        """Download what the run's catalog graphs lack. Lightning calls this on one process per node while the
        other ranks wait; the data root's lock (:mod:`lit_kgns.data.locks`) covers processes it does not
        coordinate (several runs at once, nodes sharing a file system)."""
        names = dict.fromkeys([*self.train_names, *self.valid_names, *self.test_names])
        for name in names:
            if name not in self._datasets and not is_folder_dataset(name):
                dataset_folder(name, self.root)

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit"):
            self.train_splits = self._on_device([self.dataset(name).train for name in self.train_names])
        if stage in (None, "fit", "validate"):
            self.valid_splits = self._on_device([self.dataset(name).valid for name in self.valid_names])
        if stage in (None, "test", "predict"):
            self.test_splits = self._on_device([self.dataset(name).test for name in self.test_names])

    def splits(self, stage: str) -> list[LinkPredictionSplit]:
        """Evaluation splits of ``stage`` (``val``, ``test`` or ``predict``) on the device, in dataloader order."""
        return self.valid_splits if stage == "val" else self.test_splits

    def held_out_facts(self, graph_id: int) -> HeldOutFacts:
        """True triples of training graph ``graph_id`` beyond its training triples, from every source the
        data root holds (CPU; read once)."""
        name = self.train_names[graph_id]
        if name not in self._held_out:
            self._held_out[name] = held_out_facts(self.dataset(name), self.root)
        return self._held_out[name]

    @property
    def device(self) -> torch.device:
        """The training device: the Trainer's root device, the CPU without a Trainer."""
        return self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")

    def _on_device(self, splits: list[LinkPredictionSplit]) -> list[LinkPredictionSplit]:
        """The splits on :attr:`device`, each graph moved once however many splits and stages share it."""
        device = self.device
        moved = []
        for split in splits:
            key = (id(split.graph), str(device))
            if key not in self._device_graphs:
                self._device_graphs[key] = split.graph.to(device)
            graph = self._device_graphs[key]
            targets, filter_triples = split.targets.to(device), split.filter_triples.to(device)
            moved.append(LinkPredictionSplit(split.name, graph, targets, filter_triples, self._tail_only(split)))
        return moved

    def _tail_only(self, split: LinkPredictionSplit) -> bool:
        """Whether evaluation ranks only the tail query of ``split``'s targets (``eval_directions``)."""
        return split.tail_only if self.eval_directions == "dataset" else self.eval_directions == "tail"

    def train_dataloader(self) -> DataLoader:
        targets = [self.dataset(name).train.targets for name in self.train_names]
        sizes = [len(triples) for triples in targets]
        plan = TrainingBatchPlan(sizes, self.batch_size, self.batches_per_epoch, self.plan_seed)
        loader = ResumableLoader(TrainingTriples(targets), sampler=plan, batch_size=None, num_workers=self.num_workers)
        loader.trained_batches = self._trained_batches
        return loader

    def _trained_batches(self) -> int:
        """Batches trained so far in the current epoch (what a checkpoint saved now has seen)."""
        return self.trainer.fit_loop.epoch_loop.batch_progress.current.processed if self.trainer else 0

    def _evaluation_loaders(self, targets: list[tuple[torch.Tensor, bool]]) -> list[DataLoader]:
        """One loader of distinct queries per ``(triples, tail_only)``: each query scored once
        (:mod:`lit_kgns.data.evaluation_queries`), as many queries a batch as ``eval_batch_size`` triples ask."""
        loaders = []
        for triples, tail_only in targets:
            dataset = EvaluationQueries(triples, tail_only)
            # Under DDP every query is ranked exactly once (see UnpaddedDistributedSampler).
            distributed = torch.distributed.is_initialized()
            sampler = UnpaddedDistributedSampler(dataset, placeholder=NO_QUERY) if distributed else None
            batch_size = self.eval_batch_size * (1 if tail_only else 2)
            loader = DataLoader(
                dataset,
                batch_size=batch_size,
                sampler=sampler,
                num_workers=self.num_workers,
                collate_fn=dataset.collate,
            )
            loaders.append(loader)
        return loaders

    def val_dataloader(self) -> list[DataLoader]:
        return self._evaluation_loaders(
            [(self.validation_targets(name), self._tail_only(self.dataset(name).valid)) for name in self.valid_names]
        )

    def validation_targets(self, name: str) -> torch.Tensor:
        """The validation triples of ``name``: all of them, or ``val_subset`` drawn once with a fixed seed
        (ULTRA's ``fast_test``), so every epoch and every rank validates on the same queries."""
        targets = self.dataset(name).valid.targets
        if self.val_subset is None or self.val_subset >= len(targets):
            return targets
        chosen = torch.randperm(len(targets), generator=torch.Generator().manual_seed(self.plan_seed))
        return targets[chosen[: self.val_subset].sort().values]

    def test_dataloader(self) -> list[DataLoader]:
        splits = [self.dataset(name).test for name in self.test_names]
        return self._evaluation_loaders([(split.targets, self._tail_only(split)) for split in splits])

    def predict_dataloader(self) -> list[DataLoader]:
        if self.predict_queries is None:
            return self.test_dataloader()
        queries = read_queries(self.predict_queries, self.prediction_labels(0))
        dataset = QueryRows(queries)
        sampler = UnpaddedDistributedSampler(dataset) if torch.distributed.is_initialized() else None
        return [DataLoader(dataset, batch_size=self.eval_batch_size, sampler=sampler, num_workers=self.num_workers)]

    def prediction_labels(self, index: int) -> Labels:
        """Entity and relation labels, in id order, of the graph ``predict`` dataloader ``index`` asks."""
        return prediction_labels(self.dataset(self.test_names[index]))
