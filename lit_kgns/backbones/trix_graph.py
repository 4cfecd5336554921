"""TRIX's relation graph: edges typed by the entity connecting two relations (Zhang et al., LoG 2024).

Four graphs over the ``2R`` relations (inverses included): ``r1 -> r2`` is an edge of type ``e`` in

* ``hh`` if entity ``e`` is a head of both ``r1`` and ``r2`` (``r1 != r2``),
* ``ht`` if ``e`` is a head of ``r1`` and a tail of ``r2``,
* ``th`` if ``e`` is a tail of ``r1`` and a head of ``r2``,
* ``tt`` if ``e`` is a tail of both (``r1 != r2``).

Messages arrive at ``r1`` (``edge_index[0]``), the direction of upstream's rspmm kernel. The explicit edge
list has ``sum_e deg(e)^2`` edges per role pair, which explodes on hub entities; the forward pass therefore
never builds it and uses the factorisation through the entity-relation incidence matrices instead
(:func:`role_aggregate`). :func:`trix_relation_graph_edges` builds the edge list for inspection and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lit_kgns.backbones.relation_graph import entity_relation_incidence, quiet_sparse
from lit_kgns.data.graph import KGGraph

ROLE_PAIRS = ("hh", "ht", "th", "tt")


@dataclass(eq=False)
class TrixIncidence:
    """Binary incidence matrices ``E_h``, ``E_t`` ``(N, 2R)``: ``E_h[e, r] = 1`` iff ``e`` is a head of ``r``.

    Stored as sparse CSR both ways round (``*_t``: the ``(2R, N)`` transposes), for ``E @ X`` and ``E^T @ Y``.
    """

    heads: Tensor  # (N, 2R) sparse CSR
    heads_t: Tensor  # (2R, N) sparse CSR
    tails: Tensor
    tails_t: Tensor
    num_nodes: int
    num_relations: int

    def matrices(self, role: str) -> tuple[Tensor, Tensor]:
        """``(E, E^T)`` for role ``"h"`` or ``"t"``."""
        return (self.heads, self.heads_t) if role == "h" else (self.tails, self.tails_t)


def _csr(rows: Tensor, cols: Tensor, shape: tuple[int, int]) -> Tensor:
    values = torch.ones(len(rows), device=rows.device)
    with quiet_sparse():
        coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, shape, check_invariants=False)
        return coo.coalesce().to_sparse_csr()


def build_trix_incidence(graph: KGGraph) -> TrixIncidence:
    """Incidence matrices of ``graph``: unique ``(entity, relation)`` pairs (upstream: per-entity sets)."""
    heads, tails = entity_relation_incidence(graph)  # (P, 2) (entity, relation)
    n, r = graph.num_nodes, graph.num_relations
    return TrixIncidence(
        heads=_csr(heads[:, 0], heads[:, 1], (n, r)),
        heads_t=_csr(heads[:, 1], heads[:, 0], (r, n)),
        tails=_csr(tails[:, 0], tails[:, 1], (n, r)),
        tails_t=_csr(tails[:, 1], tails[:, 0], (r, n)),
        num_nodes=n,
        num_relations=r,
    )


def _spmm(matrix: Tensor, dense: Tensor) -> Tensor:
    """``matrix (M, K) @ dense (K, ...)`` -> ``(M, ...)``."""
    flat = dense.reshape(dense.shape[0], -1)
    with quiet_sparse():
        return (matrix @ flat).view(matrix.shape[0], *dense.shape[1:])


def role_aggregate(incidence: TrixIncidence, roles: str, x: Tensor, entity_features: Tensor) -> Tensor:
    """Sum of DistMult messages over the relation graph of one role pair, without its edge list.

    For roles ``ab`` (``a``: entity role in the receiving relation ``r1``, ``b``: in the sender ``r2``)::

        out[r1] = sum_{e : r1 in a(e)} w[e] * sum_{r2 in b(e)} x[r2]  =  E_a^T ((E_b x) * w)

    minus the excluded self-pair ``r2 = r1`` when ``a == b``: ``x[r1] * (E_a^T w)[r1]``.

    Args:
        x: ``(2R, B, d)`` relation states.
        entity_features: ``(N, B, d)`` per-entity edge features ``w`` (or ``(N, 1, d)``, shared by the batch).

    Returns:
        ``(2R, B, d)``. Memory ``O((N + 2R) B d)`` whatever the entity degrees.
    """
    a, b = roles
    _, receiver_t = incidence.matrices(a)
    sender, _ = incidence.matrices(b)
    gathered = _spmm(sender, x) * entity_features  # (N, B, d)
    out = _spmm(receiver_t, gathered)  # (2R, B, d)
    if a == b:
        out = out - x * _spmm(receiver_t, entity_features)
    return out


def _join(left: Tensor, right: Tensor, num_nodes: int) -> Tensor:
    """All ``(r1, r2, e)`` with ``(e, r1)`` in ``left``, ``(e, r2)`` in ``right`` (pairs sorted by entity)."""
    counts = torch.bincount(right[:, 0], minlength=num_nodes)
    offsets = counts.cumsum(0) - counts
    repeats = counts[left[:, 0]]
    entity = left[:, 0].repeat_interleave(repeats)
    r1 = left[:, 1].repeat_interleave(repeats)
    starts = (repeats.cumsum(0) - repeats).repeat_interleave(repeats)
    within = torch.arange(len(entity), device=left.device) - starts  # rank within the entity's block
    r2 = right[offsets[entity] + within, 1]
    return torch.stack([r1, r2, entity])


def trix_relation_graph_edges(graph: KGGraph) -> dict[str, tuple[Tensor, Tensor]]:
    """Explicit relation graphs: role pair -> ``(edge_index (2, M), edge_type (M,) = entity id)``.

    Same edge sets as upstream ``tasks.build_relation_graph``, built by a sorted join, not a Python loop.
    """
    heads, tails = entity_relation_incidence(graph)
    incidence = {"h": heads, "t": tails}
    edges = {}
    for roles in ROLE_PAIRS:
        r1, r2, entity = _join(incidence[roles[0]], incidence[roles[1]], graph.num_nodes)
        if roles[0] == roles[1]:
            keep = r1 != r2
            r1, r2, entity = r1[keep], r2[keep], entity[keep]
        edges[roles] = (torch.stack([r1, r2]), entity)
    return edges
