"""Hiding triples from message passing (ULTRA's ``remove_easy_edges``)."""

from __future__ import annotations

import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph


def _edge_keys(source: Tensor, edge_type: Tensor, target: Tensor, graph: KGGraph) -> Tensor:
    return (source * graph.num_relations + edge_type) * graph.num_nodes + target


def edges_without(graph: KGGraph, triples: Tensor) -> tuple[Tensor, Tensor]:
    """``graph``'s edges minus every edge of ``triples`` ``(M, 3)`` and of their inverses.

    Without this a model trained on its own training graph learns to look the answer up in the edge
    it is asked about (upstream ULTRA issue #19).
    """
    keys = graph.cached("edge_keys", lambda g: _edge_keys(g.edge_index[0], g.edge_type, g.edge_index[1], g))
    heads, relations, tails = triples.reshape(-1, 3).t()
    removed = torch.cat(
        [
            _edge_keys(heads, relations, tails, graph),
            _edge_keys(tails, relations + graph.num_direct_relations, heads, graph),
        ]
    )
    keep = ~torch.isin(keys, removed)
    return graph.edge_index[:, keep], graph.edge_type[keep]
