"""Test metrics broken down the way papers and error analyses read them: per relation, per direction (head or
tail query), per relation category (1-1, 1-N, N-1, N-N) and per degree of the query's anchor.

:class:`MetricBreakdown` is a Callback: it keeps each test row's filtered rank (the module's own, every distinct
query scored once), with its relation, direction and anchor, gathers them from every rank under DDP (each row
is ranked on exactly one), and writes ``breakdown.csv`` when testing ends (written beside, then renamed: never
half a file). Its columns: ``graph``, ``breakdown`` (relation, direction, category, degree), ``group``,
``num_queries``, ``mrr``, ``mr``, ``hits@1``, ``hits@3``, ``hits@10``.

- A relation's category follows Bordes et al. (2013), from the triples of the graph the test queries run on:
  the mean number of tails per head and of heads per tail, each below 1.5 ("1") or not ("N"); a tail query on a
  1-N relation has many answers.
- An anchor's degree is its number of triples in that graph (as head or tail), grouped in powers of two:
  ``0``, ``1``, ``2-3``, ``4-7``, ...
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph
from lit_kgns.data.protocol import split_source

COLUMNS = ["graph", "breakdown", "group", "num_queries", "mrr", "mr", "hits@1", "hits@3", "hits@10"]
ROW_FIELDS = ("ranks", "relations", "head_queries", "anchors")


def relation_categories(graph: KGGraph) -> list[str]:
    """``1-1``, ``1-N``, ``N-1`` or ``N-N`` of each direct relation of ``graph`` (module docstring)."""
    direct = graph.edge_type < graph.num_direct_relations
    heads, tails = graph.edge_index[0][direct], graph.edge_index[1][direct]
    relations = graph.edge_type[direct]
    categories = []
    for relation in range(graph.num_direct_relations):
        chosen = relations == relation
        count = int(chosen.sum())
        if count == 0:
            categories.append("unseen")
            continue
        tails_per_head = count / len(torch.unique(heads[chosen]))
        heads_per_tail = count / len(torch.unique(tails[chosen]))
        categories.append(f"{'N' if heads_per_tail >= 1.5 else '1'}-{'N' if tails_per_head >= 1.5 else '1'}")
    return categories


def degree_bucket(degree: int) -> str:
    """``0``, ``1``, ``2-3``, ``4-7``, ...: the power-of-two bin of ``degree``."""
    if degree < 2:
        return str(degree)
    low = 1 << (degree.bit_length() - 1)
    return f"{low}-{2 * low - 1}"


def metrics_of(ranks: Tensor) -> dict[str, float]:
    ranks = ranks.double()
    values = {"num_queries": len(ranks), "mrr": float((1 / ranks).mean()), "mr": float(ranks.mean())}
    values.update({f"hits@{k}": float((ranks <= k).double().mean()) for k in (1, 3, 10)})
    return values


class MetricBreakdown(pl.Callback):
    """Writes per-relation, per-direction, per-category and per-degree test metrics to
    ``output_dir/breakdown.csv`` (module docstring).

    Args:
        output_dir: where ``breakdown.csv`` goes.
    """

    def __init__(self, output_dir: str = "breakdowns") -> None:
        self.output_dir = Path(output_dir)
        self._rows: dict[int, list[dict[str, Tensor]]] = {}

    def on_test_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._rows = {}

    def on_test_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if isinstance(outputs, dict) and "ranks" in outputs:
            rows = {name: outputs[name].detach().cpu() for name in ROW_FIELDS}
            self._rows.setdefault(dataloader_idx, []).append(rows)

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        splits = split_source(trainer).splits("test")
        gathered = []
        for index in range(len(splits)):
            parts = self._rows.get(index, [])
            local = {
                name: torch.cat([part[name] for part in parts]) if parts else torch.zeros(0) for name in ROW_FIELDS
            }
            gathered.append(_from_every_rank(local))
        if trainer.global_rank != 0:
            return
        table = []
        for index, (split, rows) in enumerate(zip(splits, gathered, strict=True)):
            labels = _relation_labels(trainer, index, split.graph.num_direct_relations)
            table += breakdown_rows(split.name.rsplit("/", 1)[0], split.graph, rows, labels)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        staged = self.output_dir / "breakdown.csv.partial"
        with staged.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(table)
        staged.replace(self.output_dir / "breakdown.csv")


def breakdown_rows(graph_name: str, graph: KGGraph, rows: dict[str, Tensor], labels: list[str]) -> list[dict]:
    """The CSV rows of one test graph from its ranked rows."""
    if not len(rows["ranks"]):
        return []
    relations, anchors = rows["relations"].long(), rows["anchors"].long()
    categories = relation_categories(graph)
    category_names = sorted(set(categories))
    category_of = torch.tensor([category_names.index(category) for category in categories], dtype=torch.long)
    degrees = torch.bincount(graph.edge_index[0].cpu(), minlength=graph.num_nodes)[anchors]  # 2E edges: in + out
    bins = torch.where(degrees > 0, torch.frexp(degrees.double()).exponent.long(), 0)  # 0, then bit length
    bin_names = [degree_bucket(0 if index == 0 else 1 << (index - 1)) for index in range(int(bins.max()) + 1)]
    groupings = {  # per breakdown: each row's group id, and the group names by id
        "relation": (relations, labels),
        "direction": (rows["head_queries"].long(), ["tail", "head"]),
        "category": (category_of[relations], category_names),
        "degree": (bins, bin_names),
    }
    table = [{"graph": graph_name, "breakdown": "all", "group": "all", **metrics_of(rows["ranks"])}]
    for breakdown, (ids, names) in groupings.items():
        for index in sorted(torch.unique(ids).tolist(), key=lambda index: _natural(names[index])):
            group = {"graph": graph_name, "breakdown": breakdown, "group": names[index]}
            table.append({**group, **metrics_of(rows["ranks"][ids == index])})
    return table


def _natural(group: str) -> tuple[int, int, str]:
    """Degree bins by number (``2-3`` before ``10-15``), categories and labels by text after them."""
    first = group.split("-")[0]
    return (0, int(first), group) if first.isdigit() else (1, 0, group)


def _relation_labels(trainer: pl.Trainer, index: int, num_relations: int) -> list[str]:
    """The relation labels of test graph ``index`` (its ids where the DataModule has none)."""
    labels = getattr(trainer.datamodule, "prediction_labels", None)
    relations = list(labels(index).relations) if labels is not None else []
    return relations if len(relations) == num_relations else [str(relation) for relation in range(num_relations)]


def _from_every_rank(rows: dict[str, Tensor]) -> dict[str, Tensor]:
    """``rows`` of every rank, concatenated (each test row is ranked on exactly one rank)."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return rows
    everyone: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(everyone, rows)
    return {name: torch.cat([part[name] for part in everyone]) for name in ROW_FIELDS}
