"""Test metrics per relation, direction, relation category and anchor degree, against hand-computed ranks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from test_predictions import one_dimensional_distmult, toy_dataset
from toy_graphs import RELATION_LABELS, typed_triples

from lit_kgns.breakdowns import MetricBreakdown, degree_bucket, relation_categories
from lit_kgns.data import KGDataModule
from lit_kgns.data.graph import KGGraph
from lit_kgns.module import KGLinkPrediction


def hand_rank(answer: int) -> int:
    """The 1-D DistMult scores x_h * x_t with x_e = e + 1, but x_11 = 50: a query's answer e ranks below the
    entities of larger x (all scores differ, and each toy query has one true answer): ids above it, and 11."""
    return 1 if answer == 11 else 1 + (23 - answer) + (answer > 11)


def test_categories_and_degree_buckets() -> None:
    # r0: 0 -> 1, 0 -> 2 (1-N); r1: 3 -> 5, 4 -> 5 (N-1); r2: 6 -> 7 (1-1); r3: 0 -> 1, 0 -> 2, 3 -> 1, 3 -> 2 (N-N)
    triples = torch.tensor(
        [(0, 0, 1), (0, 0, 2), (3, 1, 5), (4, 1, 5), (6, 2, 7), (0, 3, 1), (0, 3, 2), (3, 3, 1), (3, 3, 2)]
    )
    graph = KGGraph.from_triples(triples, 8, 5, "categories")
    assert relation_categories(graph) == ["1-N", "N-1", "1-1", "N-N", "unseen"]
    assert [degree_bucket(d) for d in (0, 1, 2, 3, 4, 7, 8, 100)] == [
        "0",
        "1",
        "2-3",
        "2-3",
        "4-7",
        "4-7",
        "8-15",
        "64-127",
    ]


def test_breakdown_csv_holds_the_hand_computed_metrics_of_every_group(tmp_path: Path) -> None:
    callback = MetricBreakdown(str(tmp_path / "out"))
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, callbacks=[callback])
    datamodule = KGDataModule.from_datasets([toy_dataset()], test_datasets=None, eval_batch_size=5)
    trainer.test(KGLinkPrediction(one_dimensional_distmult()), datamodule=datamodule, verbose=False)
    with (tmp_path / "out" / "breakdown.csv").open(encoding="utf-8") as handle:
        table = {(row["breakdown"], row["group"]): row for row in csv.DictReader(handle)}
    # every test triple (h, r, t) asks (h, r, ?) with answer t and (?, r, t) with answer h
    asked = [(r, "tail", h, t) for h, r, t in typed_triples().tolist()] + [
        (r, "head", t, h) for h, r, t in typed_triples().tolist()
    ]
    degree = {e: 2 for e in range(8)} | {e: 4 for e in range(8, 16)} | {e: 2 for e in range(16, 24)}
    groups = {
        "relation": lambda r, side, anchor: RELATION_LABELS[r],
        "direction": lambda r, side, anchor: side,
        "category": lambda r, side, anchor: "1-1",  # every toy relation: one tail per head, one head per tail
        "degree": lambda r, side, anchor: degree_bucket(degree[anchor]),
    }
    assert table["all", "all"]["num_queries"] == str(len(asked))
    checked = 0
    for breakdown, group_of in groups.items():
        for group in {group_of(r, side, anchor) for r, side, anchor, _ in asked}:
            ranks = [hand_rank(answer) for r, side, anchor, answer in asked if group_of(r, side, anchor) == group]
            row = table[breakdown, group]
            assert int(row["num_queries"]) == len(ranks)
            assert float(row["mrr"]) == pytest.approx(sum(1 / rank for rank in ranks) / len(ranks))
            assert float(row["mr"]) == pytest.approx(sum(ranks) / len(ranks))
            assert float(row["hits@10"]) == pytest.approx(sum(rank <= 10 for rank in ranks) / len(ranks))
            checked += 1
    assert checked == len(table) - 1  # every group of the CSV, nothing else
    assert not list((tmp_path / "out").glob("*.partial"))
