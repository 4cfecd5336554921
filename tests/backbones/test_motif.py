"""MOTIF: relation hypergraph, hypergraph layer, released checkpoint, query conditioning, KMAS."""

from __future__ import annotations

import torch
from torch import Tensor
from toy_graphs import typed_split

from lit_kgns.backbones import Motif
from lit_kgns.backbones.checkpoints import PRETRAINED, read_state_dict
from lit_kgns.backbones.motif import HypergraphConv, sinusoidal_positions
from lit_kgns.backbones.motif_hypergraph import BINARY_TYPES, TERNARY_TYPES, build_relation_hypergraph
from lit_kgns.data.graph import KGGraph
from lit_kgns.losses import self_adversarial_bce
from lit_kgns.samplers import KMASSampler
from lit_kgns.scoring import score_candidates


def small_graph(num_nodes: int = 12, num_direct: int = 3, num_triples: int = 30) -> KGGraph:
    generator = torch.Generator().manual_seed(0)
    triples = torch.stack(
        [
            torch.randint(num_nodes, (num_triples,), generator=generator),
            torch.randint(num_direct, (num_triples,), generator=generator),
            torch.randint(num_nodes, (num_triples,), generator=generator),
        ],
        dim=1,
    )
    return KGGraph.from_triples(triples, num_nodes=num_nodes, num_direct_relations=num_direct)


def tiny_motif() -> Motif:
    return Motif(dim=8, num_relation_layers=2, num_entity_layers=2)


# ----------------------------------------------------------------------------- hypergraph
def loop_hypergraph(graph: KGGraph) -> dict[str, set[tuple[int, ...]]]:
    """The motif hyperedges by definition, one entity / one edge at a time."""
    roles: dict[str, dict[int, set[int]]] = {"h": {}, "t": {}}
    for (x, y), r in zip(graph.edge_index.t().tolist(), graph.edge_type.tolist(), strict=True):
        roles["h"].setdefault(x, set()).add(r)
        roles["t"].setdefault(y, set()).add(r)
    found: dict[str, set[tuple[int, ...]]] = {name: set() for name in BINARY_TYPES + TERNARY_TYPES}
    for a, b in BINARY_TYPES:
        for entity in range(graph.num_nodes):
            for r1 in roles[a].get(entity, ()):
                found[a + b] |= {(r1, r2) for r2 in roles[b].get(entity, ())}
    for (x, y), r2 in zip(graph.edge_index.t().tolist(), graph.edge_type.tolist(), strict=True):
        for name in TERNARY_TYPES:
            for r1 in roles[name[0]].get(x, ()):
                found[name] |= {(r1, r2, r3) for r3 in roles[name[2]].get(y, ())}
    return found


def test_vectorised_hypergraph_equals_the_definition():
    graph = small_graph()
    hypergraph = build_relation_hypergraph(graph)
    expected = loop_hypergraph(graph)
    for kind, name in enumerate(BINARY_TYPES):
        block = hypergraph.binary_index[:, hypergraph.binary_type == kind]
        assert set(map(tuple, block.t().tolist())) == expected[name] and block.shape[1] == len(expected[name])
    for kind, name in enumerate(TERNARY_TYPES, start=len(BINARY_TYPES)):
        block = hypergraph.ternary_index[:, hypergraph.ternary_type == kind]
        assert set(map(tuple, block.t().tolist())) == expected[name] and block.shape[1] == len(expected[name])
    assert hypergraph.num_nodes == graph.num_relations


def padded_aggregate(layer: HypergraphConv, hidden: Tensor, graph: KGGraph) -> Tensor:
    """Upstream's formulation: hyperedges padded to arity 3 with a zero node 0 whose position row is ones,
    all-but-one products of ``h + p`` per slot, one message per (hyperedge, slot), summed per node."""
    hypergraph = build_relation_hypergraph(graph)
    binary = torch.cat([hypergraph.binary_index, torch.full((1, hypergraph.binary_index.shape[1]), -1)])
    edges = torch.cat([binary, hypergraph.ternary_index], dim=1).t() + 1  # (M, 3), 0 = padding
    kinds = torch.cat([hypergraph.binary_type, hypergraph.ternary_type])
    states = torch.cat([torch.zeros_like(hidden[:1]), hidden])  # (2R + 1, B, d)
    positions = layer.pos_embedding.weight.detach().clone()
    positions[0] = 1.0
    slot_position = torch.where(edges != 0, torch.arange(1, 4), 0)  # (M, 3)
    shifted = states[edges] + positions[slot_position].unsqueeze(2)  # (M, 3, B, d)
    out = torch.zeros_like(states)
    for slot in range(3):
        others = [s for s in range(3) if s != slot]
        weight = layer.rel_embedding.weight[kinds].unsqueeze(1)  # (M, 1, d)
        message = shifted[:, others[0]] * shifted[:, others[1]] * weight
        out.index_add_(0, edges[:, slot], message)
    return out[1:]


def test_factorised_aggregation_equals_the_padded_per_hyperedge_messages():
    torch.manual_seed(0)
    graph = small_graph()
    layer = HypergraphConv(dim=8)
    hidden = torch.randn(graph.num_relations, 3, 8)
    ours = layer.aggregate(hidden, build_relation_hypergraph(graph))
    assert torch.allclose(ours, padded_aggregate(layer, hidden, graph), rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- checkpoint
def test_parameter_count_matches_released_architecture():
    assert sum(p.numel() for p in Motif().parameters()) == 181_185
    assert sum(p.numel() for p in Motif().parameters() if p.requires_grad) == 180_865


def test_released_checkpoint_loads_strictly_with_weights_only(shared_data):
    path = shared_data / PRETRAINED["motif_3g"].relative_path
    state = read_state_dict(path)  # torch.load(..., weights_only=True)
    ours = Motif().state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == {k: tuple(v.shape) for k, v in ours.items()}
    model = Motif(checkpoint=str(path))  # load_state_dict(strict=True)
    key = "relation_model.layers.5.rel_embedding.weight"
    assert torch.equal(model.relation_model.layers[5].rel_embedding.weight, state[key])
    # the saved (unused) frozen table is the sinusoidal one
    assert torch.allclose(state["relation_model.position.weight"], sinusoidal_positions(4, 64), atol=1e-6)


def test_catalog_name_finds_the_checkpoint_under_the_data_root(shared_data, monkeypatch):
    monkeypatch.setenv("LIT_KGNS_DATA", str(shared_data))
    reference = read_state_dict(shared_data / "motif_ckpts/motif_3g.pth")
    model = Motif(checkpoint="motif_3g")
    assert torch.equal(model.entity_model.mlp[2].bias, reference["entity_model.mlp.2.bias"])


# ----------------------------------------------------------------------------- model behaviour
def test_candidate_scores_equal_the_matching_columns_of_all_scores():
    torch.manual_seed(0)
    model = tiny_motif().eval()
    graph = small_graph()
    anchors, relations = torch.tensor([0, 5, 5]), torch.tensor([1, 2, 2])
    head_queries = torch.tensor([False, True, False])
    candidates = torch.tensor([[3, 4, 7], [0, 11, 2], [1, 1, 9]])
    all_scores = model(graph, anchors, relations, head_queries)
    assert all_scores.shape == (3, 12)
    scores = model(graph, anchors, relations, head_queries, candidates)
    assert torch.allclose(scores, all_scores.gather(1, candidates), atol=1e-5)


def test_head_queries_condition_the_relation_encoder_on_the_inverse_relation():
    torch.manual_seed(0)
    model = tiny_motif().eval()
    graph = small_graph()
    anchors, relations = torch.tensor([5]), torch.tensor([2])
    representations = model.relation_representations(graph, relations + graph.num_direct_relations)
    expected = model.entity_model(
        graph.edge_index,
        graph.edge_type,
        graph.num_nodes,
        representations,
        anchors,
        relations + graph.num_direct_relations,
    )
    assert torch.allclose(model(graph, anchors, relations, torch.tensor([True])), expected)
    direct = model.relation_representations(graph, relations)
    assert not torch.allclose(direct, representations)


def test_batched_and_deduplicated_relation_representations_match_single_queries():
    torch.manual_seed(0)
    model = tiny_motif().eval()
    graph = small_graph()
    queries = torch.tensor([4, 1, 4, 0])
    batched = model.relation_representations(graph, queries)
    assert batched.shape == (4, graph.num_relations, 8)
    for row, query in enumerate(queries):
        single = model.relation_representations(graph, query.view(1))[0]
        assert torch.allclose(batched[row], single, atol=1e-5)


def test_removed_edges_change_the_scores():
    torch.manual_seed(0)
    model = tiny_motif().eval()
    graph = small_graph()
    triple = graph.direct_triples[:1]
    anchors, relations, head_queries = triple[:, 0], triple[:, 1], torch.tensor([False])
    kept = model(graph, anchors, relations, head_queries)
    removed = model(graph, anchors, relations, head_queries, removed_edges=triple)
    assert not torch.allclose(kept, removed)


# ----------------------------------------------------------------------------- KMAS and fine-tuning
def test_kmas_reads_motif_relation_representations_and_fine_tuning_steps_run():
    torch.manual_seed(0)
    split = typed_split()
    model = tiny_motif().train()
    sampler = KMASSampler(num_negatives=8, top_k=3, chunk_size=3, seed=0, diagnostics_every_n_steps=None)
    sampler.attach([split])
    sampler.refresh(model)
    assert model.training  # mode restored
    cache = sampler.caches[0]
    assert cache.neighbours.shape == (8, 3) and cache.neighbours.max() < 8
    assert torch.allclose(cache.cumulative[:, -1], torch.ones(8))
    sampler.hard_ratio = 0.5
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    positives = split.targets
    for step in range(3):
        sampler.reseed(0, step)
        batch = positives[step * 8 : (step + 1) * 8]
        negatives = sampler.sample(batch)
        scores = score_candidates(model, split.graph, batch, negatives)
        loss = self_adversarial_bce(scores, negatives.mask)
        assert torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for _, p in trainable)
        optimizer.step()
    changed = {name for name, p in model.named_parameters() if not torch.equal(p, before[name])}
    assert any(n.startswith("relation_model.layers.") for n in changed)
    assert any(n.startswith("entity_model.") for n in changed)
    assert "relation_model.position.weight" not in changed  # frozen, as upstream
    sampler.refresh(model)  # the refreshed cache is still well formed after training
    assert torch.allclose(sampler.caches[0].cumulative[:, -1], torch.ones(8))
