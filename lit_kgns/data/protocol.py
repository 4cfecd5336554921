"""What the module and the samplers read from the data: the splits, on the training device."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from lit_kgns.data.graph import LinkPredictionSplit
from lit_kgns.data.held_out import HeldOutFacts
from lit_kgns.errors import SetupError


@runtime_checkable
class SplitSource(Protocol):
    """The splits of a run, each graph on the training device once (:class:`~lit_kgns.data.KGDataModule`).

    ``train_splits[i]`` is the graph batches with ``"graph": i`` come from; ``splits("val" | "test" |
    "predict")`` are the evaluation splits in dataloader order; ``held_out_facts(i)`` are the true triples of
    training graph ``i`` that are not training triples (:func:`~lit_kgns.data.held_out.held_out_facts`).
    """

    train_splits: list[LinkPredictionSplit]
    valid_splits: list[LinkPredictionSplit]
    test_splits: list[LinkPredictionSplit]

    def splits(self, stage: str) -> list[LinkPredictionSplit]: ...

    def held_out_facts(self, graph_id: int) -> HeldOutFacts: ...


def split_source(trainer: Any) -> SplitSource:
    """The Trainer's DataModule as a :class:`SplitSource`, or a clear error."""
    datamodule = getattr(trainer, "datamodule", None)
    if not isinstance(datamodule, SplitSource):
        raise SetupError(
            f"lit_kgns needs a DataModule with train_splits and splits(stage) (a KGDataModule); "
            f"the Trainer has {type(datamodule).__name__}"
        )
    return datamodule
