"""Batches of positive training triples, drawn from one graph at a time (upstream ULTRA's pretraining mixture)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from lit_kgns.errors import ConfigError
from lit_kgns.negatives import NegativeBatch

BatchPlan = tuple[int, Tensor]  # (graph id, triple indices)


class TrainingBatchPlan(Sampler[BatchPlan]):
    """Yields ``(graph id, triple indices)`` per batch.

    One graph: a fresh permutation per epoch cut into batches. Several graphs: each batch comes from one
    graph chosen with probability proportional to its number of triples, holding ``batch_size`` distinct
    random triples of it. ``batches_per_epoch`` caps (or, for a mixture, sets) the epoch length. The plan
    depends only on ``(seed, epoch)``, so every rank computes the same plan and a resumed run repeats it.
    """

    def __init__(self, sizes: list[int], batch_size: int, batches_per_epoch: int | None = None, seed: int = 0) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {batch_size}")
        if batches_per_epoch is not None and batches_per_epoch < 1:
            raise ConfigError(f"batches_per_epoch must be positive or null, got {batches_per_epoch}")
        self.sizes = sizes
        self.batch_size = batch_size
        self.batches_per_epoch = batches_per_epoch
        self.seed = seed
        self.epoch = 0
        self.resume_at: tuple[int, int] | None = None  # (epoch, batches already trained in it)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        if len(self.sizes) == 1:
            full = math.ceil(self.sizes[0] / self.batch_size)
            return min(full, self.batches_per_epoch) if self.batches_per_epoch else full
        return self.batches_per_epoch or math.ceil(sum(self.sizes) / self.batch_size)

    def __iter__(self) -> Iterator[BatchPlan]:
        skip = 0
        if self.resume_at is not None and self.resume_at[0] == self.epoch:
            skip, self.resume_at = self.resume_at[1], None
        for position, batch in enumerate(self._epoch()):
            if position >= skip:
                yield batch

    def _epoch(self) -> Iterator[BatchPlan]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        if len(self.sizes) == 1:
            order = torch.randperm(self.sizes[0], generator=generator)
            for chunk in order.split(self.batch_size)[: len(self)]:
                yield 0, chunk
            return
        weights = torch.tensor(self.sizes, dtype=torch.float)
        graph_ids = torch.multinomial(weights, len(self), replacement=True, generator=generator)
        for graph_id in graph_ids.tolist():
            yield graph_id, torch.randperm(self.sizes[graph_id], generator=generator)[: self.batch_size]


class ResumableLoader(DataLoader):
    """The training loader. Lightning keeps its ``state_dict`` (the epoch and the batches trained in it) in
    checkpoints and hands it back on resume, so a run stopped mid-epoch continues with the next batch of the
    same plan. ``trained_batches`` reports the batches trained so far this epoch (set by the DataModule).

    Under DDP Lightning rebuilds the loader around a distributed sampler; the plan's place is then not
    restored and a mid-epoch resume restarts the epoch's plan (with a warning).
    """

    trained_batches: Callable[[], int] | None = None

    def state_dict(self) -> dict[str, int]:
        if not isinstance(self.sampler, TrainingBatchPlan) or self.trained_batches is None:
            return {}
        return {"epoch": self.sampler.epoch, "batches": int(self.trained_batches())}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if isinstance(self.sampler, TrainingBatchPlan) and "epoch" in state:
            self.sampler.resume_at = (state["epoch"], state["batches"])
        else:
            message = "the training loader was rebuilt (DDP): a mid-epoch resume restarts the epoch's plan"
            warnings.warn(message, stacklevel=2)


@dataclass
class TrainingBatch:
    """One training batch: ``(B, 3)`` positive triples of training graph ``graph_index`` and, once the sampler
    Callback has drawn them, their negatives. Lightning moves it to the device field by field."""

    triples: Tensor
    graph_index: int
    negatives: NegativeBatch | None = None


class TrainingTriples(Dataset):
    """Maps a :class:`BatchPlan` to its :class:`TrainingBatch`."""

    def __init__(self, triples_per_graph: list[Tensor]) -> None:
        self.triples_per_graph = triples_per_graph

    def __len__(self) -> int:
        return sum(len(triples) for triples in self.triples_per_graph)

    def __getitem__(self, plan: BatchPlan) -> TrainingBatch:
        graph_id, indices = plan
        return TrainingBatch(self.triples_per_graph[graph_id][indices], graph_id)


class UnpaddedDistributedSampler(DistributedSampler):
    """Evaluation shards without padding: rank ``k`` of ``W`` gets items ``k, k + W, ...``.

    Lightning's default ``DistributedSampler`` repeats items so that every rank has as many; each
    repeated query would then be counted twice in the metrics. Ranks may end with one batch fewer, which
    is harmless in evaluation (no collective runs per batch). Being a ``DistributedSampler`` subclass,
    Lightning keeps it as it is. A rank left with no item at all (fewer items than ranks), which Lightning
    refuses, gets ``placeholder`` where one is given: an index the dataset serves as a batch that ranks
    nothing.
    """

    def __init__(
        self,
        dataset: Dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        placeholder: int | None = None,
    ) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=False)
        self.placeholder = placeholder

    def _indices(self) -> list[int]:
        indices = list(range(self.rank, len(self.dataset), self.num_replicas))
        return indices if indices or self.placeholder is None else [self.placeholder]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices())

    def __len__(self) -> int:
        return len(self._indices())
