"""Building the train / valid / test splits of each benchmark family exactly as upstream ULTRA does."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from lit_kgns.data.graph import KGDataset, KGGraph, LinkPredictionSplit
from lit_kgns.data.triples import TripleFileError, Vocabulary, encode_triples, read_triples


def _read(folder: Path, file: str) -> list[tuple[str, str, str]]:
    return read_triples(folder / file)


def grail_inductive(name: str, train_folder: Path, inference_folder: Path) -> KGDataset:
    """GraIL inductive(e) split (upstream ``GrailInductiveDataset``, ``merge_valid_test=True``).

    Train and validate on ``train_folder`` (vocabulary from its ``train.txt`` + ``valid.txt``); test on
    the inference graph ``inference_folder/train.txt`` with queries ``valid.txt`` ∪ ``test.txt`` of that
    folder. Filters: training graph + valid for validation, inference graph + queries for testing.
    """
    entities, relations = Vocabulary(), Vocabulary()
    train = encode_triples(_read(train_folder, "train.txt"), entities, relations, source=str(train_folder / "train.txt"))
    valid = encode_triples(_read(train_folder, "valid.txt"), entities, relations, source=str(train_folder / "valid.txt"))
    test_entities = Vocabulary()
    inference_parts = []
    for file in ("train.txt", "valid.txt", "test.txt"):
        inference_parts.append(
            encode_triples(
                _read(inference_folder, file), test_entities, relations,
                grow_relations=False, source=str(inference_folder / file),
            )
        )
    inference, test_queries = inference_parts[0], torch.cat(inference_parts[1:])
    num_relations = len(relations)
    train_graph = KGGraph.from_triples(train, len(entities), num_relations, name=f"{name}/train")
    inference_graph = KGGraph.from_triples(inference, len(test_entities), num_relations, name=f"{name}/inference")
    return KGDataset(
        name=name,
        setting="inductive_e",
        train=LinkPredictionSplit(f"{name}/train", train_graph, train, train),
        valid=LinkPredictionSplit(f"{name}/valid", train_graph, valid, torch.cat([train, valid])),
        test=LinkPredictionSplit(f"{name}/test", inference_graph, test_queries, torch.cat([inference, test_queries])),
        entity_labels=entities.labels,
        relation_labels=relations.labels,
        test_entity_labels=test_entities.labels,
    )


def transductive(name: str, folder: Path, files: tuple[str, str, str] = ("train.txt", "valid.txt", "test.txt")) -> KGDataset:
    """One graph (the training triples) for all stages; filter on train ∪ valid ∪ test.

    Entities and relations are numbered over the three files, so an evaluation entity that never occurs
    in training is a node without edges (as in ULTRA's ``TransductiveDataset``).
    """
    entities, relations = Vocabulary(), Vocabulary()
    parts = [encode_triples(_read(folder, file), entities, relations, source=str(folder / file)) for file in files]
    train, valid, test = parts
    graph = KGGraph.from_triples(train, len(entities), len(relations), name=name)
    everything = torch.cat(parts)
    return KGDataset(
        name=name,
        setting="transductive",
        train=LinkPredictionSplit(f"{name}/train", graph, train, train),
        valid=LinkPredictionSplit(f"{name}/valid", graph, valid, everything),
        test=LinkPredictionSplit(f"{name}/test", graph, test, everything),
        entity_labels=entities.labels,
        relation_labels=relations.labels,
    )


def require_known(triples: Tensor, graph: KGGraph, source: str) -> None:
    """Raise if an evaluation triple refers to an entity or relation id outside ``graph``."""
    bad = (triples[:, [0, 2]] >= graph.num_nodes).any(dim=1) | (triples[:, 1] >= graph.num_direct_relations)
    if bad.any():
        raise TripleFileError(f"{source}: triple {int(bad.nonzero()[0]) + 1} is outside the graph's vocabulary")
