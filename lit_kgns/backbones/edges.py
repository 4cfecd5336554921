"""The edges the entity encoders pass messages on, with a batch's triples hidden (ULTRA's ``remove_easy_edges``)."""

from __future__ import annotations

import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph


def _edge_keys(source: Tensor, edge_type: Tensor, target: Tensor, graph: KGGraph) -> Tensor:
    return (source * graph.num_relations + edge_type) * graph.num_nodes + target


def _sorted_edges(graph: KGGraph) -> tuple[Tensor, Tensor, Tensor]:
    """``(keys, edge_index, edge_type)`` ordered by receiver ``edge_index[0]``, then relation, then sender."""
    keys, order = _edge_keys(graph.edge_index[0], graph.edge_type, graph.edge_index[1], graph).sort()
    return keys, graph.edge_index[:, order], graph.edge_type[order]


def message_edges(graph: KGGraph, removed: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """``graph``'s edges sorted by receiver (built once per graph), minus every edge of ``removed`` ``(M, 3)``
    triples and of their inverses.

    In this order consecutive messages go to the same or nearby rows, which makes message passing about
    25 % faster on a CPU than the file order. Hiding a training batch's triples keeps a model trained on its
    own training graph from looking the answer up in the edge it is asked about (upstream ULTRA issue #19).
    """
    keys, edge_index, edge_type = graph.cached("message_edges", _sorted_edges)
    if removed is None:
        return edge_index, edge_type
    heads, relations, tails = removed.reshape(-1, 3).t()
    removed_keys = torch.cat(
        [
            _edge_keys(heads, relations, tails, graph),
            _edge_keys(tails, relations + graph.num_direct_relations, heads, graph),
        ]
    )
    keep = ~torch.isin(keys, removed_keys)
    return edge_index[:, keep], edge_type[keep]
