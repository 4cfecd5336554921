"""Hand-made graphs shared by the backbone tests."""

from __future__ import annotations

import torch

from lit_kgns.data.graph import KGGraph, LinkPredictionSplit


def typed_split(name: str = "typed") -> LinkPredictionSplit:
    """Persons 0-7 -> cities 8-15 (r0 born_in, r1 lives_in) -> countries 16-23 (r2 located_in, r3 near)."""
    rows = [(p, 0, 8 + p) for p in range(8)] + [(p, 1, 8 + (p + 3) % 8) for p in range(8)]
    rows += [(8 + c, 2, 16 + c) for c in range(8)] + [(8 + c, 3, 16 + (c + 1) % 8) for c in range(8)]
    triples = torch.tensor(rows)
    return LinkPredictionSplit(name, KGGraph.from_triples(triples, 24, 4, name=name), triples, triples)
