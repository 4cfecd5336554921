import pytest
import torch

from lit_kgns.backbones.checkpoints import PRETRAINED, read_state_dict
from lit_kgns.backbones.relation_graph import cached_relation_graph
from lit_kgns.backbones.ultra import Ultra
from lit_kgns.data.graph import KGGraph


def test_parameter_count_matches_released_architecture():
    assert sum(p.numel() for p in Ultra().parameters()) == 168_705


@pytest.mark.parametrize("name", ["ultra_3g", "ultra_4g", "ultra_50g"])
def test_released_checkpoints_have_exactly_our_keys_and_shapes(shared_data, name):
    state = read_state_dict(shared_data / PRETRAINED[name].relative_path)
    ours = Ultra().state_dict()
    assert {key: tuple(value.shape) for key, value in state.items()} == {
        key: tuple(value.shape) for key, value in ours.items()
    }
    model = Ultra(checkpoint=str(shared_data / PRETRAINED[name].relative_path))
    assert torch.equal(model.entity_model.mlp[2].bias, state["entity_model.mlp.2.bias"])


def test_catalog_checkpoint_found_under_data_root(shared_data, monkeypatch):
    monkeypatch.setenv("LIT_KGNS_DATA", str(shared_data))
    reference = read_state_dict(shared_data / "ultra_ckpts/ultra_4g.pth")
    model = Ultra(checkpoint="ultra_4g")
    assert torch.equal(
        model.relation_model.layers[0].relation.weight, reference["relation_model.layers.0.relation.weight"]
    )


def test_unknown_checkpoint_name_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="ultra_3g"):
        Ultra(checkpoint=str(tmp_path / "missing.pth"))


def test_mismatched_checkpoint_names_the_file(tmp_path):
    path = tmp_path / "small.pth"
    torch.save({"model": Ultra(dim=8).state_dict()}, path)
    with pytest.raises(RuntimeError, match=r"small\.pth"):
        Ultra(dim=16, checkpoint=str(path))


def small_graph() -> KGGraph:
    generator = torch.Generator().manual_seed(0)
    triples = torch.stack(
        [
            torch.randint(12, (40,), generator=generator),
            torch.randint(3, (40,), generator=generator),
            torch.randint(12, (40,), generator=generator),
        ],
        dim=1,
    )
    return KGGraph.from_triples(triples, num_nodes=12, num_direct_relations=3)


def test_candidate_scores_equal_the_matching_columns_of_all_scores():
    torch.manual_seed(0)
    model = Ultra(dim=8, num_relation_layers=2, num_entity_layers=2).eval()
    graph = small_graph()
    anchors, relations = torch.tensor([0, 5]), torch.tensor([1, 2])
    head_queries = torch.tensor([False, True])
    candidates = torch.tensor([[3, 4, 7], [0, 11, 2]])
    all_scores = model(graph, anchors, relations, head_queries)
    assert all_scores.shape == (2, 12)
    assert torch.allclose(model(graph, anchors, relations, head_queries, candidates), all_scores.gather(1, candidates))


def test_head_query_is_the_tail_query_of_the_inverse_relation():
    """(?, r, t) runs the entity encoder on r + R while the relation encoder is conditioned on r (as upstream)."""
    torch.manual_seed(0)
    model = Ultra(dim=8, num_relation_layers=2, num_entity_layers=2).eval()
    graph = small_graph()
    relation_graph = cached_relation_graph(graph)
    anchors, relations = torch.tensor([4]), torch.tensor([1])
    head = model(graph, anchors, relations, torch.tensor([True]))
    representations = model.relation_model(relation_graph, relations)
    by_hand = model.entity_model(
        graph.edge_index, graph.edge_type, graph.num_nodes, representations, anchors, relations + 3
    )
    assert torch.allclose(head, by_hand)


def test_removed_edges_hide_the_triple_and_its_inverse():
    torch.manual_seed(0)
    model = Ultra(dim=8, num_relation_layers=2, num_entity_layers=2).eval()
    triples = torch.tensor([[0, 0, 1], [1, 1, 2]])
    graph = KGGraph.from_triples(triples, num_nodes=3, num_direct_relations=2)
    from lit_kgns.backbones.edges import message_edges

    edge_index, edge_type = message_edges(graph, triples[:1])
    assert edge_index.t().tolist() == [[1, 2], [2, 1]]
    assert edge_type.tolist() == [1, 3]
    # Without the edge 0 -> 1, the answer 1 of (0, r0, ?) is unreachable from the anchor: its score changes.
    anchors, relations, head = torch.tensor([0]), torch.tensor([0]), torch.tensor([False])
    kept = model(graph, anchors, relations, head)
    hidden = model(graph, anchors, relations, head, removed_edges=triples[:1])
    assert not torch.allclose(kept[0, 1], hidden[0, 1])


def test_gradients_reach_both_encoders():
    model = Ultra(dim=8, num_relation_layers=2, num_entity_layers=2)
    graph = small_graph()
    scores = model(
        graph,
        torch.tensor([0, 1]),
        torch.tensor([0, 2]),
        torch.tensor([False, True]),
        torch.tensor([[1, 2], [3, 4]]),
    )
    scores.sum().backward()
    assert model.relation_model.layers[0].relation.weight.grad.abs().sum() > 0
    assert model.entity_model.layers[0].relation_projection[0].weight.grad.abs().sum() > 0
