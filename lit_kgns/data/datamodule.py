"""The LightningDataModule: positive triples of one or several graphs, for every split kind."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from lit_kgns.data.batches import (
    EvaluationTriples,
    TrainingBatchPlan,
    TrainingTriples,
    UnpaddedDistributedSampler,
)
from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.graph import KGDataset, LinkPredictionSplit


def _as_list(names: str | list[str] | None) -> list[str]:
    if names is None:
        return []
    return [names] if isinstance(names, str) else list(names)


class KGDataModule(pl.LightningDataModule):
    """Serves transductive, inductive(e) and inductive(e,r) benchmarks by catalog name.

    Batches hold positive triples only; negatives are drawn in the training process by the sampler
    Callback. Several training datasets form a pretraining mixture; several validation / test datasets
    are evaluated one after the other (one dataloader each) and reported per graph and on average.

    Args:
        dataset: dataset name(s) for every stage (e.g. ``umls``, ``grail_fb237_v1``); with no name at
            all, the embedded default ``umls`` (bundled with PyKEEN, no download).
        train_datasets, valid_datasets, test_datasets: per-stage names overriding ``dataset``
            (e.g. pretrain on ``[fb15k-237, wn18rr, codex-m]``, test on ``[grail_fb237_v1, ...]``);
            validation falls back to the training datasets, testing to the validation ones.
        root: data root holding the dataset folders; default ``$LIT_KGNS_DATA``, else the user cache.
        batch_size: positive triples per training batch.
        eval_batch_size: triples per evaluation batch (each gives a head and a tail query).
        batches_per_epoch: cap on training batches per epoch (the epoch length of a mixture).
        seed: seed of the training batch plan.
        num_workers: DataLoader workers (batches are index look-ups: 0 is usually fastest).
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
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        default = _as_list(dataset)
        if not (default or train_datasets or valid_datasets or test_datasets):
            default = ["umls"]
        self.train_names = _as_list(train_datasets) or default
        self.valid_names = _as_list(valid_datasets) or default or self.train_names
        self.test_names = _as_list(test_datasets) or default or self.valid_names
        self.root = Path(root) if root is not None else None
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.batches_per_epoch = batches_per_epoch
        self.seed = seed
        self.num_workers = num_workers
        self._datasets: dict[str, KGDataset] = {}
        self.train_splits: list[LinkPredictionSplit] = []
        self.valid_splits: list[LinkPredictionSplit] = []
        self.test_splits: list[LinkPredictionSplit] = []

    def dataset(self, name: str) -> KGDataset:
        if name not in self._datasets:
            self._datasets[name] = load_dataset(name, self.root)
        return self._datasets[name]

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit"):
            self.train_splits = [self.dataset(name).train for name in self.train_names]
        if stage in (None, "fit", "validate"):
            self.valid_splits = [self.dataset(name).valid for name in self.valid_names]
        if stage in (None, "test", "predict"):
            self.test_splits = [self.dataset(name).test for name in self.test_names]

    def splits(self, stage: str) -> list[LinkPredictionSplit]:
        """Evaluation splits of ``stage`` (``val``, ``test`` or ``predict``), in dataloader order."""
        return self.valid_splits if stage == "val" else self.test_splits

    def train_dataloader(self) -> DataLoader:
        plan = TrainingBatchPlan(
            [len(split.targets) for split in self.train_splits],
            self.batch_size,
            self.batches_per_epoch,
            self.seed,
        )
        dataset = TrainingTriples([split.targets for split in self.train_splits])
        return DataLoader(dataset, sampler=plan, batch_size=None, num_workers=self.num_workers)

    def _evaluation_loaders(self, splits: list[LinkPredictionSplit]) -> list[DataLoader]:
        loaders = []
        for split in splits:
            dataset = EvaluationTriples(split.targets)
            # Under DDP every query is ranked exactly once (see UnpaddedDistributedSampler).
            sampler = UnpaddedDistributedSampler(dataset) if torch.distributed.is_initialized() else None
            loaders.append(
                DataLoader(
                    dataset, batch_size=self.eval_batch_size, sampler=sampler, num_workers=self.num_workers
                )
            )
        return loaders

    def val_dataloader(self) -> list[DataLoader]:
        return self._evaluation_loaders(self.valid_splits)

    def test_dataloader(self) -> list[DataLoader]:
        return self._evaluation_loaders(self.test_splits)

    def predict_dataloader(self) -> list[DataLoader]:
        return self._evaluation_loaders(self.test_splits)
