import itertools

import torch

from lit_kgns.backbones.relation_graph import (
    HEAD_TO_HEAD,
    HEAD_TO_TAIL,
    TAIL_TO_HEAD,
    TAIL_TO_TAIL,
    build_relation_graph,
)
from lit_kgns.data.graph import KGGraph

# Entities 0..4, direct relations 0..2:  0 -r0-> 1,  1 -r1-> 2,  0 -r2-> 3,  4 -r1-> 1
TRIPLES = torch.tensor([[0, 0, 1], [1, 1, 2], [0, 2, 3], [4, 1, 1]])


def brute_force_edges(graph: KGGraph) -> set[tuple[int, int, int]]:
    """The four interactions by definition: r1 -> r2 when one entity plays the two roles."""
    heads = {r: set() for r in range(graph.num_relations)}
    tails = {r: set() for r in range(graph.num_relations)}
    for (h, t), r in zip(graph.edge_index.t().tolist(), graph.edge_type.tolist(), strict=True):
        heads[r].add(h)
        tails[r].add(t)
    edges = set()
    for r1, r2 in itertools.product(range(graph.num_relations), repeat=2):
        for kind, left, right in (
            (HEAD_TO_HEAD, heads, heads),
            (TAIL_TO_TAIL, tails, tails),
            (HEAD_TO_TAIL, heads, tails),
            (TAIL_TO_HEAD, tails, heads),
        ):
            if left[r1] & right[r2]:
                edges.add((r1, r2, kind))
    return edges


def test_inverse_edges_are_flipped_and_typed_r_plus_R():
    graph = KGGraph.from_triples(TRIPLES, num_nodes=5, num_direct_relations=3)
    assert graph.num_relations == 6
    direct, inverse = graph.edge_index[:, :4], graph.edge_index[:, 4:]
    assert torch.equal(inverse, direct.flip(0))
    assert torch.equal(graph.edge_type[4:], graph.edge_type[:4] + 3)
    assert torch.equal(graph.direct_triples, TRIPLES)


def test_relation_graph_matches_definition_on_hand_made_graph():
    graph = KGGraph.from_triples(TRIPLES, num_nodes=5, num_direct_relations=3)
    relation_graph = build_relation_graph(graph)
    found = set(zip(*relation_graph.edge_index.tolist(), relation_graph.edge_type.tolist(), strict=True))
    assert found == brute_force_edges(graph)
    assert relation_graph.num_nodes == 6
    # Spot checks stated by hand: r0 and r2 share head 0; r0's tail 1 is r1's head (h2t from r1 to r0 is t2h).
    assert (0, 2, HEAD_TO_HEAD) in found
    assert (0, 1, TAIL_TO_HEAD) in found and (1, 0, HEAD_TO_TAIL) in found
    assert (0, 1, HEAD_TO_HEAD) not in found
    # The inverse of r1 (id 4) has r1's tails as heads: r1^-1 and r0 share head 1.
    assert (4, 0, HEAD_TO_TAIL) in found


def test_relation_graph_adjacency_has_one_matrix_per_interaction():
    graph = KGGraph.from_triples(TRIPLES, num_nodes=5, num_direct_relations=3)
    relation_graph = build_relation_graph(graph)
    dense = torch.stack([matrix.to_dense() for matrix in relation_graph.adjacency])
    expected = torch.zeros(4, 6, 6)
    expected[relation_graph.edge_type, relation_graph.edge_index[0], relation_graph.edge_index[1]] = 1
    assert torch.equal(dense, expected)
