"""The edges the entity encoders pass messages on, with a batch's triples hidden (ULTRA's ``remove_easy_edges``)."""

from __future__ import annotations

import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph


def _edge_keys(receiver: Tensor, sender: Tensor, edge_type: Tensor, graph: KGGraph) -> Tensor:
    return (receiver * graph.num_nodes + sender) * graph.num_relations + edge_type


def _sorted_edges(graph: KGGraph) -> tuple[Tensor, Tensor, Tensor]:
    """``(keys, edge_index, edge_type)`` ordered by receiver ``edge_index[0]``, then sender, then relation."""
    keys, order = _edge_keys(graph.edge_index[0], graph.edge_index[1], graph.edge_type, graph).sort()
    return keys, graph.edge_index[:, order], graph.edge_type[order]


def message_edges(graph: KGGraph, removed: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """``graph``'s edges sorted by receiver then sender (built once per graph), minus every edge of ``removed``
    ``(M, 3)`` triples and of their inverses.

    In this order consecutive messages go to the same or nearby rows, which makes message passing about
    25 % faster on a CPU than the file order, and each node sums its messages in the order of upstream
    ULTRA's kernel (sorted by receiver, then sender): nodes with the same neighbourhood get bit-identical
    states, so their scores tie exactly, as upstream's do. Hiding a training batch's triples keeps a model
    trained on its own training graph from looking the answer up in the edge it is asked about (upstream
    ULTRA issue #19).
    """
    keys, edge_index, edge_type = graph.cached("message_edges", _sorted_edges)
    if removed is None:
        return edge_index, edge_type
    heads, relations, tails = removed.reshape(-1, 3).t()
    removed_keys = torch.cat(
        [
            _edge_keys(heads, tails, relations, graph),  # the edge head -> tail arrives at the head
            _edge_keys(tails, heads, relations + graph.num_direct_relations, graph),
        ]
    )
    keep = ~torch.isin(keys, removed_keys)
    return edge_index[:, keep], edge_type[keep]
