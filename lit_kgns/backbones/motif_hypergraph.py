"""MOTIF's relation hypergraph (Huang et al., "How Expressive are Knowledge Graph Foundation Models?",
ICML 2025).

Nodes are the ``2R`` relations of a KG (inverses included). Hyperedges are the relation patterns of
2-paths and 3-paths of the entity graph, typed by which ends of the relations meet:

* binary (2-path motifs), ``(r1, r2)``: 0 ``hh`` (an entity is a head of both), 1 ``tt`` (a tail of both),
  2 ``ht`` (a head of ``r1`` and a tail of ``r2``; ``th`` is the same pattern read backwards, left out);
* ternary (3-path motifs), ``(r1, r2, r3)`` with an edge ``x -r2-> y``: 3 ``tfh``, 4 ``tft``, 5 ``hft``,
  6 ``hfh``, where the first letter says whether ``x`` is the tail or the head of an ``r1`` edge and the
  last one whether ``y`` is the head or the tail of an ``r3`` edge.

With the incidence matrices ``E_h``, ``E_t`` (``|V| x 2R``, entity is a head / tail of the relation) and
``F_r`` (``|V| x |V|``, the ``r`` edges), ``A_ab = E_a^T E_b`` for the binary types and
``A_afb[r1, r2, r3] = (E_a^T F_r2 E_b)[r1, r3]`` for the ternary ones; only sparsity patterns are kept.

Size limits: there are at most ``(2R)^2`` binary and ``4 (2R)^3`` ternary hyperedges, and in practice about
``4 x`` the number of relation pairs that meet on some entity (GraIL FB15k-237 v1: 360 relations, 15k binary
and 190k ternary hyperedges on the training graph; WN18RR v1: 18 relations, 510 and 4.9k). Construction
is two sparse products per ternary type whose largest intermediate has one entry per distinct
``(x, r2, r3)`` (an edge ``x -r2->`` continued by an ``r3`` edge), i.e. at most ``|edges| x 2R``. Message
passing costs ``O(#hyperedges x B x d)`` per layer and stores ``O(#relation pairs x B x d)`` for backward
(see :class:`RelationHypergraph`), so graphs with thousands of relations need small batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from lit_kgns.backbones.relation_graph import entity_relation_incidence, quiet_sparse
from lit_kgns.data.graph import KGGraph

BINARY_TYPES = ("hh", "tt", "ht")
TERNARY_TYPES = ("tfh", "tft", "hft", "hfh")
NUM_HYPEREDGE_TYPES = len(BINARY_TYPES) + len(TERNARY_TYPES)


@dataclass(frozen=True)
class TernaryFactor:
    """Hyperedges grouped for the messages to one slot ``i`` of the ternary hyperedges.

    With ``j``, ``l`` the two other slots, the message to ``n_i`` sums ``w_k * u_j[n_j] * u_l[n_l]`` over the
    hyperedges; grouping them by ``(n_i, n_j)`` pair factors the sum as
    ``sum_p w_k(p) * u_j[n_j(p)] * (M @ u_l)[p]`` with ``M[p, n_l] = 1``, so no per-hyperedge tensor
    is ever formed.
    """

    slot: int
    other_slots: tuple[int, int]  # (j, l): partner and contracted slot
    pairs: Tensor  # (P, 2): (n_i, n_j), unique per hyperedge type
    pair_type: Tensor  # (P,): hyperedge type in 3..6
    contraction: Tensor  # sparse CSR (P, 2R): M[p, n_l]


@dataclass(eq=False)
class RelationHypergraph:
    """Binary and ternary typed hyperedges over ``num_nodes`` relations (types index ``rel_embedding``)."""

    binary_index: Tensor  # (2, M2), types 0..2
    binary_type: Tensor  # (M2,)
    ternary_index: Tensor  # (3, M3), types 3..6
    ternary_type: Tensor  # (M3,)
    num_nodes: int
    _factors: dict[int, TernaryFactor] = field(default_factory=dict, repr=False)
    _adjacency: list[Tensor] | None = field(default=None, repr=False)

    def binary_adjacency(self) -> list[Tensor]:
        """Per binary type ``k``: sparse CSR ``A_k`` and ``A_k^T`` (``(2R, 2R)``, rows = receiving slot)."""
        if self._adjacency is None:
            self._adjacency = []
            for kind in range(len(BINARY_TYPES)):
                index = self.binary_index[:, self.binary_type == kind]
                self._adjacency += [
                    _csr(index, (self.num_nodes, self.num_nodes)),
                    _csr(index.flip(0), (self.num_nodes, self.num_nodes)),
                ]
        return self._adjacency

    def ternary_factor(self, slot: int) -> TernaryFactor:
        """The :class:`TernaryFactor` for messages to ``slot`` (built once per slot)."""
        if slot not in self._factors:
            self._factors[slot] = _ternary_factor(self.ternary_index, self.ternary_type, slot, self.num_nodes)
        return self._factors[slot]


def _csr(index: Tensor, size: tuple[int, int]) -> Tensor:
    """Sparse CSR matrix of ones at the (unique) ``(2, M)`` ``index``."""
    values = torch.ones(index.shape[1], device=index.device)
    with quiet_sparse():
        return torch.sparse_coo_tensor(index, values, size, check_invariants=False).coalesce().to_sparse_csr()


def _ternary_factor(index: Tensor, kind: Tensor, slot: int, num_nodes: int) -> TernaryFactor:
    others = [s for s in range(3) if s != slot]
    # either other slot can be the partner; the one leaving fewer distinct (type, n_i, n_j) groups makes the
    # smallest (P, B, d) intermediates (for 3-paths: the middle relation, which meets both ends)
    candidates = []
    for partner, contracted in (others, others[::-1]):
        # one id per (type, n_i, n_j); types are kept apart because each carries its own w_k
        key = (kind * num_nodes + index[slot]) * num_nodes + index[partner]  # (M3,)
        unique, pair_id = torch.unique(key, return_inverse=True)  # (P,), (M3,)
        candidates.append((len(unique), partner, contracted, unique, pair_id))
    _, partner, contracted, unique, pair_id = min(candidates, key=lambda candidate: candidate[0])
    pairs = torch.stack([unique // num_nodes % num_nodes, unique % num_nodes], dim=1)  # (P, 2)
    pair_type = unique // (num_nodes * num_nodes)
    contraction = _csr(torch.stack([pair_id, index[contracted]]), (len(unique), num_nodes))
    return TernaryFactor(slot, (partner, contracted), pairs, pair_type, contraction)


def _pattern_product(left: Tensor, right: Tensor) -> Tensor:
    """``(2, nnz)`` coalesced indices of the sparsity pattern of ``left @ right`` (both sparse COO)."""
    with quiet_sparse():
        return torch.sparse.mm(left, right).coalesce().indices()


def _incidence(pairs: Tensor, num_entities: int, num_relations: int, transpose: bool = False) -> Tensor:
    """Sparse ``(|V|, 2R)`` 0/1 matrix of ``(P, 2)`` (entity, relation) pairs, or its transpose."""
    index = pairs.flip(1).t() if transpose else pairs.t()
    size = (num_relations, num_entities) if transpose else (num_entities, num_relations)
    with quiet_sparse():
        return torch.sparse_coo_tensor(index, torch.ones(len(pairs), device=pairs.device), size, check_invariants=False)


def _three_path_pattern(graph: KGGraph, first: Tensor, last: Tensor) -> Tensor:
    """``(3, M)`` unique ``(r1, r2, r3)``: an edge ``x -r2-> y`` with ``(x, r1)`` in ``first``, ``(y, r3)`` in
    ``last``.

    ``G[(r2, x), r3] = (F @ E_last)`` first, then ``A[r1, (r2, r3)] = E_first^T @ G'`` with ``G`` reshaped to
    ``G'[x, (r2, r3)]``: the intermediate stays at one entry per distinct ``(x, r2, r3)``.
    """
    n, r = graph.num_nodes, graph.num_relations
    x, y = graph.edge_index
    rows = graph.edge_type * n + x  # (2E,) (r2, x) flattened
    with quiet_sparse():
        edges = torch.sparse_coo_tensor(
            torch.stack([rows, y]),
            torch.ones(len(rows), device=rows.device),
            (r * n, n),
            check_invariants=False,
        )
    continued = _pattern_product(edges, _incidence(last, n, r))  # (2, K): ((r2, x), r3)
    r2, x_mid = continued[0] // n, continued[0] % n
    with quiet_sparse():
        reshaped = torch.sparse_coo_tensor(
            torch.stack([x_mid, r2 * r + continued[1]]),
            torch.ones(continued.shape[1], device=rows.device),
            (n, r * r),
            check_invariants=False,
        )
    product = _pattern_product(_incidence(first, n, r, transpose=True), reshaped)  # (2, M): (r1, (r2, r3))
    return torch.stack([product[0], product[1] // r, product[1] % r])


def build_relation_hypergraph(graph: KGGraph) -> RelationHypergraph:
    """MOTIF's relation hypergraph of ``graph`` (which holds the inverse edges), hyperedges in upstream's
    order: binary types 0..2 then ternary types 3..6, each block sorted by its relation tuple."""
    heads, tails = entity_relation_incidence(graph)  # (P, 2) (entity, relation), sorted
    n, r = graph.num_nodes, graph.num_relations
    by_letter = {"h": heads, "t": tails}
    binary = [
        _pattern_product(_incidence(by_letter[a], n, r, transpose=True), _incidence(by_letter[b], n, r))
        for a, b in BINARY_TYPES
    ]
    ternary = [_three_path_pattern(graph, by_letter[name[0]], by_letter[name[2]]) for name in TERNARY_TYPES]
    device = graph.device

    def types(blocks: list[Tensor], offset: int) -> Tensor:
        return torch.cat(
            [
                torch.full((block.shape[1],), offset + kind, dtype=torch.long, device=device)
                for kind, block in enumerate(blocks)
            ]
        )

    return RelationHypergraph(
        binary_index=torch.cat(binary, dim=1),
        binary_type=types(binary, 0),
        ternary_index=torch.cat(ternary, dim=1),
        ternary_type=types(ternary, len(BINARY_TYPES)),
        num_nodes=r,
    )
