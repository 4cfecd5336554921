"""A hand-made typed graph shared by the backbone and sampler tests.

Persons 0-7, cities 8-15, countries 16-23; r0 born_in, r1 lives_in: person -> city; r2 located_in, r3 near:
city -> country.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lit_kgns.data.graph import KGDataset, KGGraph, LinkPredictionSplit

PERSONS, CITIES, COUNTRIES = set(range(8)), set(range(8, 16)), set(range(16, 24))
NUM_ENTITIES, NUM_RELATIONS = 24, 4
RELATION_LABELS = ["born in", "lives in", "located in", "near"]


def typed_triples() -> Tensor:
    rows = []
    for p in range(8):
        rows += [(p, 0, 8 + p), (p, 1, 8 + (p + 3) % 8)]
    for c in range(8):
        rows += [(8 + c, 2, 16 + c), (8 + c, 3, 16 + (c + 1) % 8)]
    return torch.tensor(rows)


def typed_split(name: str = "typed") -> LinkPredictionSplit:
    triples = typed_triples()
    graph = KGGraph.from_triples(triples, NUM_ENTITIES, NUM_RELATIONS, name, RELATION_LABELS)
    return LinkPredictionSplit(name, graph, triples, triples)


def typed_dataset(name: str = "typed") -> KGDataset:
    """The typed graph as a transductive dataset whose three stages query it with its own triples."""
    train = typed_split(name)
    valid = LinkPredictionSplit(f"{name}/valid", train.graph, train.targets, train.filter_triples)
    test = LinkPredictionSplit(f"{name}/test", train.graph, train.targets, train.filter_triples)
    return KGDataset(name, "transductive", train, valid, test)
