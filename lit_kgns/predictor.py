"""Ask a model from Python: the top answers of ``(h, r, ?)`` or ``(?, r, t)`` by label or id, and the scores of
given triples, as PyKEEN's ``predict_target`` and ``predict_triples`` do.

    from lit_kgns.predictor import LinkPredictor

    predictor = LinkPredictor.from_checkpoint("runs/nations/lightning_logs/version_0/checkpoints/last.ckpt")
    predictor.predict(head="usa", relation="embassy", k=5)       # a DataFrame: rank, entity, id, score
    predictor.predict(relation="embassy", tail="usa", filtered=False)
    predictor.score_triples([("usa", "embassy", "uk"), (0, 3, 7)])  # one score a triple

Released KGFMs take a dataset to ask: ``LinkPredictor(Ultra(checkpoint="ultra_3g"), "grail_fb237_v1")``. The
answers and scores are the ones ``lit-kgns predict --data.predict_queries`` writes for the same queries: both
go through :func:`~lit_kgns.scoring.score_queries` and :func:`~lit_kgns.scoring.top_answers` on the dataset's
test graph (the inference graph of an inductive dataset), filtered by its known true answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.commands.export import load_for_export
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.graph import KGDataset
from lit_kgns.data.queries import UNKNOWN, Labels
from lit_kgns.errors import ConfigError
from lit_kgns.scoring import score_queries, top_answers

if TYPE_CHECKING:
    import pandas

EntityOrId = str | int


class LinkPredictor:
    """A backbone and the graph it answers on (``dataset``: a catalog name, an own folder or a
    :class:`~lit_kgns.data.graph.KGDataset`), with the graph's labels."""

    def __init__(self, backbone: KGBackbone, dataset: KGDataset | str, root: str | None = None) -> None:
        if isinstance(dataset, KGDataset):
            datamodule = KGDataModule.from_datasets([dataset], on_data_issue="ignore")
        else:
            datamodule = KGDataModule(test_datasets=[dataset], root=root)
        datamodule.setup("test")
        self.backbone = backbone.eval()
        self.split = datamodule.test_splits[0]
        self.labels: Labels = datamodule.prediction_labels(0)
        self._entity_ids, self._relation_ids = self.labels.entity_ids(), self.labels.relation_ids()

    @classmethod
    def from_checkpoint(
        cls, checkpoint: str | Path, dataset: str | None = None, root: str | None = None
    ) -> LinkPredictor:
        """A ``lit-kgns fit`` checkpoint with the dataset its run used (or ``dataset``)."""
        backbone, chosen = load_for_export(checkpoint, dataset, root)
        return cls(backbone, chosen)

    @torch.no_grad()
    def predict(
        self,
        head: EntityOrId | None = None,
        relation: EntityOrId | None = None,
        tail: EntityOrId | None = None,
        k: int = 10,
        filtered: bool = True,
    ) -> pandas.DataFrame:
        """The ``k`` best answers of ``(head, relation, ?)`` or ``(?, relation, tail)`` (give exactly one of
        ``head`` and ``tail``), best first: ``rank``, ``entity`` (label), ``id``, ``score``. ``filtered``: the
        known true answers of the query are left out, as in evaluation."""
        import pandas

        if relation is None or (head is None) == (tail is None):
            raise ConfigError("predict: give relation and exactly one of head or tail")
        query = [
            UNKNOWN if head is None else self._id(head, "head"),
            self._id(relation, "relation"),
            UNKNOWN if tail is None else self._id(tail, "tail"),
        ]
        scores, known, _ = score_queries(self.backbone, self.split, torch.tensor([query]))
        top = top_answers(scores, known if filtered else torch.zeros_like(known), k)
        kept = top.values[0] != float("-inf")  # fewer candidates than k after filtering
        ids, values = top.indices[0][kept].tolist(), top.values[0][kept].tolist()
        return pandas.DataFrame(
            {
                "rank": range(1, len(ids) + 1),
                "entity": [self.labels.entities[index] for index in ids],
                "id": ids,
                "score": values,
            }
        )

    @torch.no_grad()
    def score_triples(self, triples: Sequence[tuple[EntityOrId, EntityOrId, EntityOrId]]) -> Tensor:
        """``(B,)`` scores of ``(head, relation, tail)`` triples (labels or ids): the tail's score for the
        query ``(head, relation, ?)``, as the model ranks it."""
        rows = torch.tensor(
            [[self._id(h, "head"), self._id(r, "relation"), self._id(t, "tail")] for h, r, t in triples],
            dtype=torch.long,
        ).view(-1, 3)
        graph = self.split.graph
        tail_queries = torch.zeros(len(rows), dtype=torch.bool)
        return self.backbone(graph, rows[:, 0], rows[:, 1], tail_queries, rows[:, 2:]).squeeze(1)

    def _id(self, value: EntityOrId, column: str) -> int:
        ids = self._relation_ids if column == "relation" else self._entity_ids
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < len(ids):
                raise ConfigError(f"predict: {column} id {value} is not among the {len(ids)} of the graph")
            return value
        if value not in ids:
            what = "relations" if column == "relation" else "entities"
            raise ConfigError(f"predict: unknown {column} {value!r} (not among the {len(ids)} {what} of the graph)")
        return ids[value]
