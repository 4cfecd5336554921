"""TRIX: relation graph, checkpoint loading, query handling, KMAS and fine-tuning."""

from __future__ import annotations

import pytest
import torch
from toy_graphs import typed_split

from lit_kgns.backbones import Trix
from lit_kgns.backbones.checkpoints import PRETRAINED, read_state_dict
from lit_kgns.backbones.edges import message_edges
from lit_kgns.backbones.trix_graph import (
    ROLE_PAIRS,
    build_trix_incidence,
    role_aggregate,
    trix_relation_graph_edges,
)
from lit_kgns.data.graph import KGGraph
from lit_kgns.losses import self_adversarial_bce
from lit_kgns.samplers import KMASSampler
from lit_kgns.scoring import score_candidates


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


def tiny_trix() -> Trix:
    return Trix(dim=8, num_relation_layers=2, num_refine_layers=2, num_entity_layers=2, num_anchor_samples=3)


# ----------------------------------------------------------------------------- relation graph
def loop_relation_graph(graph: KGGraph) -> dict[str, set[tuple[int, int, int]]]:
    """Upstream's per-entity loop: (r1, r2, entity) for every role pair, r1 != r2 for hh / tt."""
    heads: dict[int, set[int]] = {}
    tails: dict[int, set[int]] = {}
    for (h, t), r in zip(graph.edge_index.t().tolist(), graph.edge_type.tolist(), strict=True):
        heads.setdefault(h, set()).add(r)
        tails.setdefault(t, set()).add(r)
    edges: dict[str, set[tuple[int, int, int]]] = {roles: set() for roles in ROLE_PAIRS}
    for node in heads:
        sets = {"h": heads[node], "t": tails.get(node, set())}
        for roles in ROLE_PAIRS:
            for r1 in sets[roles[0]]:
                for r2 in sets[roles[1]]:
                    if roles[0] != roles[1] or r1 != r2:
                        edges[roles].add((r1, r2, node))
    return edges


def test_vectorised_relation_graph_equals_the_per_entity_loop():
    graph = small_graph()
    ours = trix_relation_graph_edges(graph)
    reference = loop_relation_graph(graph)
    for roles in ROLE_PAIRS:
        edge_index, entity = ours[roles]
        rows = list(zip(*edge_index.tolist(), entity.tolist(), strict=True))
        assert len(rows) == len(set(rows)), roles  # no duplicate edges
        assert set(rows) == reference[roles], roles


@pytest.mark.parametrize("roles", ROLE_PAIRS)
def test_factorised_aggregation_equals_message_passing_on_the_edge_list(roles):
    """``E_a^T ((E_b x) * w)`` minus the self pair sums ``x[r2] * w[e]`` over the edges ``(r1 <- r2, e)``."""
    graph = small_graph()
    torch.manual_seed(0)
    x = torch.randn(graph.num_relations, 3, 5)  # (2R, B, d)
    w = torch.randn(graph.num_nodes, 3, 5)  # (N, B, d)
    edge_index, entity = trix_relation_graph_edges(graph)[roles]
    expected = torch.zeros_like(x).index_add_(0, edge_index[0], x[edge_index[1]] * w[entity])
    got = role_aggregate(build_trix_incidence(graph), roles, x, w)
    assert torch.allclose(got, expected, atol=1e-5)


# ----------------------------------------------------------------------------- checkpoint
def test_parameter_count_matches_released_architecture():
    assert sum(p.numel() for p in Trix().parameters()) == 87_138


def test_released_checkpoint_loads_strictly_after_the_prefix_mapping(shared_data):
    path = shared_data / PRETRAINED["trix"].relative_path
    raw = torch.load(path, map_location="cpu", weights_only=True)["model"]
    renames = {"entity_model_mini.": "entity_model_1.", "entity_model.": "entity_model_2."}
    assert PRETRAINED["trix"].prefix_renames == renames
    mapped = {}
    for key, value in raw.items():
        old = next((prefix for prefix in renames if key.startswith(prefix)), None)
        mapped[key if old is None else renames[old] + key[len(old) :]] = value
    model = Trix()
    assert {k: tuple(v.shape) for k, v in mapped.items()} == {k: tuple(v.shape) for k, v in model.state_dict().items()}
    result = model.load_state_dict(mapped, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    catalog = read_state_dict(path, PRETRAINED["trix"].prefix_renames)  # what Trix(checkpoint="trix") loads
    assert catalog.keys() == mapped.keys() and all(torch.equal(catalog[k], mapped[k]) for k in mapped)
    assert torch.equal(model.entity_model_1.layers[1].linear.weight, raw["entity_model_mini.layers.1.linear.weight"])
    assert torch.equal(model.entity_model_2.mlp[2].bias, raw["entity_model.mlp.2.bias"])


def test_catalog_name_finds_the_checkpoint_under_the_data_root(shared_data, monkeypatch):
    monkeypatch.setenv("LIT_KGNS_DATA", str(shared_data))
    raw = torch.load(shared_data / "trix_ckpts/entity_prediction.pth", map_location="cpu", weights_only=True)["model"]
    model = Trix(checkpoint="trix")
    assert torch.equal(model.relation_model.node_mlp.weight, raw["relation_model.node_mlp.weight"])


def test_the_file_as_released_does_not_fit_without_the_mapping(shared_data):
    with pytest.raises(RuntimeError, match=r"entity_prediction\.pth"):
        Trix(checkpoint=str(shared_data / "trix_ckpts/entity_prediction.pth"))


# ----------------------------------------------------------------------------- queries
def test_candidate_scores_equal_the_matching_columns_of_all_scores():
    torch.manual_seed(0)
    model = tiny_trix().eval()
    graph = small_graph()
    anchors, relations, head_queries = torch.tensor([0, 5]), torch.tensor([1, 2]), torch.tensor([False, True])
    candidates = torch.tensor([[3, 4, 7], [0, 11, 2]])
    all_scores = model(graph, anchors, relations, head_queries)
    assert all_scores.shape == (2, 12)
    assert torch.allclose(model(graph, anchors, relations, head_queries, candidates), all_scores.gather(1, candidates))


def test_batch_rows_are_independent():
    torch.manual_seed(0)
    model = tiny_trix().eval()
    graph = small_graph()
    anchors, relations, head_queries = (
        torch.tensor([0, 5, 9]),
        torch.tensor([1, 2, 0]),
        torch.tensor([False, True, True]),
    )
    together = model(graph, anchors, relations, head_queries)
    for row in range(3):
        alone = model(graph, anchors[row : row + 1], relations[row : row + 1], head_queries[row : row + 1])
        assert torch.allclose(together[row], alone[0], atol=1e-5)


def test_head_query_conditions_the_relation_encoder_on_r_and_the_entity_networks_on_r_plus_R():
    torch.manual_seed(0)
    model = tiny_trix().eval()
    graph = small_graph()
    anchors, relations = torch.tensor([4]), torch.tensor([1])
    inverse = relations + graph.num_direct_relations
    head = model(graph, anchors, relations, torch.tensor([True]))

    def refine(states):
        return model.entity_model_1.node_features(
            graph.edge_index, graph.edge_type, graph.num_nodes, states, anchors, inverse
        )

    states = model.relation_model(model.incidence(graph), relations, refine)
    by_hand = model.entity_model_2(
        graph.edge_index, graph.edge_type, graph.num_nodes, states.transpose(0, 1), anchors, inverse
    )
    assert torch.allclose(head, by_hand)
    # Conditioning the relation encoder on r + R instead would be a different model.
    states_inv = model.relation_model(model.incidence(graph), inverse, refine)
    other = model.entity_model_2(
        graph.edge_index, graph.edge_type, graph.num_nodes, states_inv.transpose(0, 1), anchors, inverse
    )
    assert not torch.allclose(head, other)


def test_removed_edges_are_hidden_from_both_entity_networks():
    torch.manual_seed(0)
    model = tiny_trix().eval()
    graph = small_graph()
    removed = graph.direct_triples[:3]
    anchors, relations, head_queries = removed[:, 0], removed[:, 1], torch.zeros(3, dtype=torch.bool)
    kept = model(graph, anchors, relations, head_queries)
    hidden = model(graph, anchors, relations, head_queries, removed_edges=removed)
    edge_index, edge_type = message_edges(graph, removed)
    reduced = KGGraph(edge_index, edge_type, graph.num_nodes, graph.num_relations)
    reduced.cache["trix_incidence"] = model.incidence(graph)  # the relation graph stays the full one (upstream)
    assert torch.allclose(hidden, model(reduced, anchors, relations, head_queries), atol=1e-6)
    assert not torch.allclose(kept, hidden)


def test_gradients_reach_all_three_networks():
    model = tiny_trix()
    graph = small_graph()
    scores = model(
        graph,
        torch.tensor([0, 1]),
        torch.tensor([0, 2]),
        torch.tensor([False, True]),
        torch.tensor([[1, 2], [3, 4]]),
    )
    scores.sum().backward()
    for name in ("layers_hh", "layers_ht", "layers_th", "layers_tt"):
        assert getattr(model.relation_model, name)[1].relation_projection[0].weight.grad.abs().sum() > 0, name
    assert model.relation_model.node_mlp.weight.grad.abs().sum() > 0
    assert model.entity_model_1.layers[0].relation_projection[0].weight.grad.abs().sum() > 0
    assert model.entity_model_2.layers[0].relation_projection[0].weight.grad.abs().sum() > 0
    assert model.entity_model_1.mlp[0].weight.grad is None  # saved in the checkpoint but never used


def test_relation_representations_with_and_without_anchors():
    torch.manual_seed(0)
    model = tiny_trix().eval()
    graph = small_graph()
    relations, anchors = torch.tensor([0, 2]), torch.tensor([3, 7])
    exact = model.relation_representations(graph, relations, anchors=anchors)
    assert exact.shape == (2, graph.num_relations, 8)
    assert torch.allclose(
        exact,
        model.relation_states(graph, anchors, relations, torch.zeros(2, dtype=torch.bool)).transpose(0, 1),
    )
    table, valid = model.anchor_table(graph)
    heads_of = {
        r: {h for (h, _), rr in zip(graph.edge_index.t().tolist(), graph.edge_type.tolist(), strict=True) if rr == r}
        for r in range(graph.num_relations)
    }
    for r in range(graph.num_relations):
        chosen = table[r][valid[r]].tolist()
        assert len(set(chosen)) == len(chosen) == min(3, len(heads_of[r])) and set(chosen) <= heads_of[r]
    pooled = model.relation_representations(graph, relations)
    manual = torch.stack(
        [
            torch.stack(
                [
                    model.relation_representations(graph, relations[i : i + 1], anchors=table[r, s : s + 1])[0]
                    for s in range(3)
                    if valid[r, s]
                ]
            ).mean(0)
            for i, r in enumerate(relations.tolist())
        ]
    )
    assert torch.allclose(pooled, manual, atol=1e-5)


# ----------------------------------------------------------------------------- KMAS and fine-tuning
def test_kmas_reads_trix_relation_representations_and_fine_tuning_steps_run():
    torch.manual_seed(0)
    split = typed_split()
    model = tiny_trix().train()
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
        negatives = sampler.sample(positives[step * 8 : (step + 1) * 8])
        batch = positives[step * 8 : (step + 1) * 8]
        scores = score_candidates(model, split.graph, batch, negatives)
        loss = self_adversarial_bce(scores, negatives.mask)
        assert torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        grads = [p.grad for name, p in model.named_parameters() if not name.startswith("entity_model_1.mlp")]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        optimizer.step()
    changed = [name for name, p in model.named_parameters() if not torch.equal(p, before[name])]
    assert any(n.startswith("relation_model.") for n in changed) and any(
        n.startswith("entity_model_2.") for n in changed
    )
    sampler.refresh(model)  # the refreshed cache is still well formed after training
    assert torch.allclose(sampler.caches[0].cumulative[:, -1], torch.ones(8))
