"""What is suspicious in a dataset, counted: duplicated triples, evaluation triples already in training,
evaluation entities and relations the graph they are queried on never mentions.

Benchmarks have some of these on purpose (PROVENANCE.md files list them), so they are reported, not fixed:
:class:`~lit_kgns.data.KGDataModule` warns once per dataset, or raises with ``on_data_issue: error``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from lit_kgns.data.graph import KGDataset, LinkPredictionSplit

DataIssuePolicy = Literal["warn", "error", "ignore"]


def dataset_findings(dataset: KGDataset) -> list[str]:
    """One sentence per kind of issue found in ``dataset``, with counts; empty when there is none."""
    findings = []
    duplicated = _duplicates(dataset.train.targets)
    if duplicated:
        findings.append(f"{duplicated} duplicated training triples")
    train_keys = _keys(dataset.train.targets, dataset.train)
    for stage, split in (("validation", dataset.valid), ("test", dataset.test)):
        if split.graph is dataset.train.graph:
            leaked = int(torch.isin(_keys(split.targets, split), train_keys).sum())
            if leaked:
                findings.append(f"{leaked} {stage} triples are also training triples")
        unseen_entities, unseen_relations = _unseen(split)
        if unseen_entities:
            findings.append(f"{unseen_entities} {stage} triples have an entity without edges in their graph")
        if unseen_relations:
            findings.append(f"{unseen_relations} {stage} triples have a relation without edges in their graph")
    return findings


def _duplicates(triples: Tensor) -> int:
    return len(triples) - len(torch.unique(triples, dim=0)) if len(triples) else 0


def _keys(triples: Tensor, split: LinkPredictionSplit) -> Tensor:
    graph = split.graph
    heads, relations, tails = triples.long().t()
    return (heads * graph.num_relations + relations) * graph.num_nodes + tails


def _unseen(split: LinkPredictionSplit) -> tuple[int, int]:
    """Query triples with an entity of degree 0, and with a relation without edges, in the split's graph."""
    graph = split.graph
    degree = torch.bincount(graph.edge_index.flatten(), minlength=graph.num_nodes)
    used = torch.bincount(graph.edge_type, minlength=graph.num_relations)[: graph.num_direct_relations]
    heads, relations, tails = split.targets.long().t()
    lonely = (degree[heads] == 0) | (degree[tails] == 0)
    return int(lonely.sum()), int((used[relations] == 0).sum())
