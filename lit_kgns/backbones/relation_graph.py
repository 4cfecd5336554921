"""ULTRA's graph of relations with the four fundamental interactions (Galkin et al., ICLR 2024, §4.1)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph

HEAD_TO_HEAD, TAIL_TO_TAIL, HEAD_TO_TAIL, TAIL_TO_HEAD = 0, 1, 2, 3


@dataclass(eq=False)
class RelationGraph:
    """Nodes are the ``2R`` relations of a KG; ``edge_type`` is one of the four interactions."""

    edge_index: Tensor  # (2, M)
    edge_type: Tensor  # (M,)
    num_nodes: int
    num_relations: int = 4

    @cached_property
    def adjacency(self) -> list[Tensor]:
        """One sparse CSR ``(N, N)`` matrix per edge type, rows = ``edge_index[0]`` (where messages arrive)."""
        matrices = []
        for kind in range(self.num_relations):
            index = self.edge_index[:, self.edge_type == kind]
            values = torch.ones(index.shape[1], device=index.device)
            with quiet_sparse():
                coo = torch.sparse_coo_tensor(index, values, (self.num_nodes, self.num_nodes), check_invariants=False)
                matrices.append(coo.to_sparse_csr())
        return matrices


def entity_relation_incidence(graph: KGGraph) -> tuple[Tensor, Tensor]:
    """Unique ``(entity, relation)`` pairs where the entity is a head (first) or a tail (second) of the relation.

    Each is a ``(P, 2)`` tensor sorted by entity, then relation: the sparsity pattern of ULTRA's ``E_h`` / ``E_t``.
    """
    heads = torch.unique(torch.stack([graph.edge_index[0], graph.edge_type], dim=1), dim=0)
    tails = torch.unique(torch.stack([graph.edge_index[1], graph.edge_type], dim=1), dim=0)
    return heads, tails


def _co_occurrence(left: Tensor, right: Tensor, num_nodes: int, num_relations: int) -> Tensor:
    """Unique relation pairs ``(r1, r2)`` sharing an entity: the pattern of ``left^T @ right`` (``(2, M)``, sorted)."""
    values = torch.ones(len(left), device=left.device)
    with quiet_sparse():
        left_t = torch.sparse_coo_tensor(left.flip(1).t(), values, (num_relations, num_nodes), check_invariants=False)
        right_m = torch.sparse_coo_tensor(
            right.t(),
            torch.ones(len(right), device=right.device),
            (num_nodes, num_relations),
            check_invariants=False,
        )
        product = torch.sparse.mm(left_t, right_m).coalesce()
    return product.indices()


@contextmanager
def quiet_sparse() -> Iterator[None]:
    """Silence torch's notices that sparse support is in beta (the operations used here are stable)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
        yield


def cached_relation_graph(graph: KGGraph) -> RelationGraph:
    """The relation graph of ``graph``, built once and cached on it."""
    return graph.cached("ultra_relation_graph", build_relation_graph)


def build_relation_graph(graph: KGGraph) -> RelationGraph:
    """Relation graph of ``graph`` with ULTRA's edge types 0 = h2h, 1 = t2t, 2 = h2t, 3 = t2h.

    ``A_hh = E_h^T E_h``, ``A_tt = E_t^T E_t``, ``A_ht = E_h^T E_t``, ``A_th = E_t^T E_h`` (self-loops
    included); an edge ``(r1, r2)`` of type h2t means some entity is a head of ``r1`` and a tail of ``r2``.
    Only the sparsity pattern matters, as upstream. Edge order follows upstream (blocks by type, each
    block sorted by ``(r1, r2)``), so sums over edges add up in the same order.
    """
    heads, tails = entity_relation_incidence(graph)
    n, r = graph.num_nodes, graph.num_relations
    blocks = [
        _co_occurrence(heads, heads, n, r),
        _co_occurrence(tails, tails, n, r),
        _co_occurrence(heads, tails, n, r),
        _co_occurrence(tails, heads, n, r),
    ]
    edge_index = torch.cat(blocks, dim=1)
    edge_type = torch.cat(
        [
            torch.full((block.shape[1],), kind, dtype=torch.long, device=edge_index.device)
            for kind, block in enumerate(blocks)
        ]
    )
    return RelationGraph(edge_index, edge_type, num_nodes=r)
