"""Writing ``predict``'s answers by label: TSV (a row per query and rank) and JSON lines (a line per query).

``lit-kgns predict -c <config> --ckpt_path <file> --data.predict_queries questions.tsv
--trainer.callbacks+=lit_kgns.predictions.PredictionWriter --trainer.callbacks.output_dir=out``
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

import pytorch_lightning as pl
from pytorch_lightning.callbacks import BasePredictionWriter

from lit_kgns.data.queries import ASKED, Labels
from lit_kgns.errors import ConfigError, SetupError
from lit_kgns.options import check_choice

Format = Literal["tsv", "jsonl"]
TSV_COLUMNS = ("head", "relation", "tail", "rank", "entity", "score")
UNSAFE = re.compile(r"[^\w.-]+")  # graph names may be folder paths: not in a file name


class PredictionWriter(BasePredictionWriter):
    """Writes each predict batch as it comes (nothing is kept) to ``output_dir/predictions.<format>``.

    ``tsv``: a header, then one row per query and listed answer: ``head relation tail`` (labels, ``?`` for the
    asked side), ``rank`` (1 for the best answer), ``entity`` (label) and ``score``. ``jsonl``: one object per
    query with ``head``, ``relation``, ``tail``, ``graph``, ``filtered``, ``predictions`` (``rank``,
    ``entity``, ``id``, ``score``) and, for test triples, the true ``answer`` and its ``answer_rank``. Labels
    are those of the graph queried (:meth:`~lit_kgns.data.KGDataModule.prediction_labels`). With several
    test graphs each gets ``predictions.<graph>.<format>``; under DDP each rank adds ``.rank<k>``.

    Args:
        output_dir: folder of the files (created; files of an earlier run there are replaced).
        formats: the files to write.
    """

    def __init__(self, output_dir: str = "predictions", formats: Sequence[Format] = ("tsv", "jsonl")) -> None:
        super().__init__(write_interval="batch")
        if isinstance(formats, str) or not formats:
            raise ConfigError(f"formats must be a non-empty list of 'tsv' / 'jsonl', got {formats!r}")
        for fmt in formats:
            check_choice("formats", fmt, Format)
        self.output_dir = Path(output_dir)
        self.formats = tuple(dict.fromkeys(formats))
        self.paths: list[Path] = []  # files written, in the order they were opened
        self._files: dict[tuple[int, str], TextIO] = {}
        self._labels: dict[int, tuple[str, Labels]] = {}

    def write_on_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        prediction: dict[str, Any],
        batch_indices: Sequence[int] | None,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        graph, labels = self._graph(trainer, dataloader_idx)
        filtered = bool(getattr(pl_module, "predict_filtered", True))
        answers = prediction.get("answers")
        ranks = prediction.get("rank")
        columns = (prediction["queries"], prediction["top_entities"], prediction["top_scores"])
        rows = zip(*(column.tolist() for column in columns), strict=True)
        for index, (query, entities, scores) in enumerate(rows):
            head, relation, tail = _query_labels(query, labels)
            # -inf marks entities the filter removed (fewer candidates than top_k): not answers
            listed = [(entity, score) for entity, score in zip(entities, scores, strict=True) if score != -math.inf]
            record: dict[str, Any] = {"head": head, "relation": relation, "tail": tail, "graph": graph}
            record["filtered"] = filtered
            if answers is not None and ranks is not None:
                record["answer"] = labels.entities[int(answers[index])]
                record["answer_rank"] = _number(float(ranks[index]))
            record["predictions"] = [
                {"rank": rank, "entity": labels.entities[entity], "id": entity, "score": _score(score)}
                for rank, (entity, score) in enumerate(listed, start=1)
            ]
            if "tsv" in self.formats:
                handle = self._file(trainer, dataloader_idx, "tsv")
                for item in record["predictions"]:
                    fields = (head, relation, tail, str(item["rank"]), item["entity"], format(item["score"], ".9g"))
                    handle.write("\t".join(fields) + "\n")
            if "jsonl" in self.formats:
                self._file(trainer, dataloader_idx, "jsonl").write(json.dumps(record, ensure_ascii=False) + "\n")

    def _graph(self, trainer: pl.Trainer, index: int) -> tuple[str, Labels]:
        """The name and labels of the graph predict dataloader ``index`` asks (read once)."""
        if index not in self._labels:
            datamodule = trainer.datamodule
            if not hasattr(datamodule, "prediction_labels"):
                raise SetupError(
                    f"PredictionWriter needs a KGDataModule (prediction_labels) for the labels; the Trainer has "
                    f"{type(datamodule).__name__}"
                )
            self._labels[index] = (datamodule.test_names[index], datamodule.prediction_labels(index))
        return self._labels[index]

    def _file(self, trainer: pl.Trainer, index: int, fmt: str) -> TextIO:
        key = (index, fmt)
        if key not in self._files:
            names = trainer.datamodule.test_names
            stem = "predictions" if len(names) == 1 else f"predictions.{UNSAFE.sub('_', names[index])}"
            if trainer.world_size > 1:
                stem += f".rank{trainer.global_rank}"
            self.output_dir.mkdir(parents=True, exist_ok=True)
            path = self.output_dir / f"{stem}.{fmt}"
            self._files[key] = path.open("w", encoding="utf-8", newline="")
            self.paths.append(path)
            if fmt == "tsv":
                self._files[key].write("\t".join(TSV_COLUMNS) + "\n")
        return self._files[key]

    def _close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
        self._labels.clear()

    def on_predict_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close()
        self.paths = []

    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self._close()


def _query_labels(query: list[int], labels: Labels) -> tuple[str, str, str]:
    head, relation, tail = query
    entity = lambda index: ASKED if index < 0 else labels.entities[index]  # noqa: E731
    return entity(head), labels.relations[relation], entity(tail)


def _score(value: float) -> float:
    """A float32 score as the shortest decimal that reads back to it (9 significant digits)."""
    return float(format(value, ".9g"))


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value
