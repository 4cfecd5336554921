"""The chunked message-passing operators against the per-edge computation, and what they keep for backward."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
import torch
from torch import Tensor

from lit_kgns.backbones import Motif, Trix, Ultra
from lit_kgns.backbones.message_passing import MessagePassingOptions, contracted_propagate, relational_propagate
from lit_kgns.backbones.motif import HypergraphConv
from lit_kgns.backbones.motif_hypergraph import build_relation_hypergraph
from lit_kgns.backbones.relation_graph import cached_relation_graph
from lit_kgns.data.graph import KGGraph


def random_edges(num_nodes: int, num_edges: int, num_types: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(num_nodes, (2, num_edges), generator=generator)
    return edge_index, torch.randint(num_types, (num_edges,), generator=generator)


def per_edge(x: Tensor, relation: Tensor, edge_index: Tensor, edge_type: Tensor) -> Tensor:
    """The definition: one message per edge, summed at its receiver ``edge_index[0]``."""
    messages = x[edge_index[1]] * relation[edge_type]
    return torch.zeros(x.shape[0], messages.shape[1], x.shape[2], dtype=x.dtype).index_add(0, edge_index[0], messages)


def random_graph(num_nodes: int, num_direct: int, num_triples: int, seed: int = 0) -> KGGraph:
    generator = torch.Generator().manual_seed(seed)
    triples = torch.stack(
        [
            torch.randint(num_nodes, (num_triples,), generator=generator),
            torch.randint(num_direct, (num_triples,), generator=generator),
            torch.randint(num_nodes, (num_triples,), generator=generator),
        ],
        dim=1,
    )
    return KGGraph.from_triples(triples, num_nodes, num_direct)


# ----------------------------------------------------------------------------- relational_propagate
@pytest.mark.parametrize("shared_relation", [False, True], ids=["per-query relations", "batch-shared relations"])
@pytest.mark.parametrize("chunk_edges", [1, 7, 1000])
def test_relational_propagate_equals_per_edge_messages_and_gradients(shared_relation, chunk_edges):
    torch.manual_seed(0)
    num_nodes, batch, dim, num_types = 23, 3, 5, 4
    edge_index, edge_type = random_edges(num_nodes, 150, num_types)
    x = torch.randn(num_nodes, batch, dim, requires_grad=True)
    relation = torch.randn(num_types, 1 if shared_relation else batch, dim, requires_grad=True)
    grad = torch.randn(num_nodes, batch, dim)

    expected = per_edge(x, relation, edge_index, edge_type)
    expected_grads = torch.autograd.grad(expected, (x, relation), grad)
    chunk_bytes = chunk_edges * batch * dim * x.element_size()
    ours = relational_propagate(x, relation, edge_index, edge_type, chunk_bytes=chunk_bytes)
    our_grads = torch.autograd.grad(ours, (x, relation), grad)

    assert torch.allclose(ours, expected, atol=1e-5)
    for our_grad, expected_grad in zip(our_grads, expected_grads, strict=True):
        assert our_grad.shape == expected_grad.shape
        assert torch.allclose(our_grad, expected_grad, atol=1e-5)


def test_relational_propagate_passes_gradcheck_in_float64():
    torch.manual_seed(0)
    edge_index, edge_type = random_edges(7, 30, 3)
    x = torch.randn(7, 2, 3, dtype=torch.float64, requires_grad=True)
    relation = torch.randn(3, 2, 3, dtype=torch.float64, requires_grad=True)
    shared = torch.randn(3, 1, 3, dtype=torch.float64, requires_grad=True)

    def chunked(x: Tensor, relation: Tensor) -> Tensor:
        return relational_propagate(x, relation, edge_index, edge_type, chunk_bytes=4 * 2 * 3 * 8)

    assert torch.autograd.gradcheck(chunked, (x, relation))
    assert torch.autograd.gradcheck(chunked, (x, shared))


def test_relational_propagate_names_the_shapes_it_expects():
    edge_index, edge_type = random_edges(4, 5, 2)
    with pytest.raises(ValueError, match=r"x \(N, B, d\) and relation \(T, B or 1, d\)"):
        relational_propagate(torch.zeros(4, 8), torch.zeros(2, 8), edge_index, edge_type)
    with pytest.raises(ValueError, match="expected 1 or 3"):
        relational_propagate(torch.zeros(4, 3, 8), torch.zeros(2, 2, 8), edge_index, edge_type)


def test_message_passing_options_reject_bad_values():
    with pytest.raises(ValueError, match="chunked or per_edge"):
        MessagePassingOptions(implementation="fused")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_mb must be positive"):
        MessagePassingOptions(chunk_mb=0)
    with pytest.raises(ValueError, match="eval_state_mb must be positive"):
        MessagePassingOptions(eval_state_mb=-1)


def test_evaluation_groups_follow_the_state_budget():
    options = MessagePassingOptions(eval_state_mb=1)
    assert options.queries_per_forward(num_nodes=1024, dim=64) == 4  # 1 MiB / (1024 * 64 * 4 B)
    assert options.queries_per_forward(num_nodes=10**7, dim=64) == 1
    assert MessagePassingOptions(chunk_mb=2).chunk_bytes(torch.device("cpu")) == 2 * 2**20


# ----------------------------------------------------------------------------- contracted_propagate
def test_contracted_propagate_equals_the_per_pair_messages_and_gradients():
    torch.manual_seed(0)
    graph = random_graph(15, 3, 40)
    factor = build_relation_hypergraph(graph).ternary_factor(0)
    num_nodes = graph.num_relations
    x = torch.randn(num_nodes, 2, 4, requires_grad=True)
    z = torch.randn(num_nodes, 2, 4, requires_grad=True)
    weight = torch.randn(7, 4, requires_grad=True)
    grad = torch.randn(num_nodes, 2, 4)

    expected = HypergraphConv.per_pair_messages(x, z, weight, factor)
    expected_grads = torch.autograd.grad(expected, (x, z, weight), grad)
    for chunk_pairs in (1, 5, 10_000):
        chunk_bytes = chunk_pairs * 2 * 4 * 4
        ours = contracted_propagate(x, z, weight, factor.pairs, factor.pair_type, factor.contraction, chunk_bytes)
        our_grads = torch.autograd.grad(ours, (x, z, weight), grad)
        assert torch.allclose(ours, expected, atol=1e-5)
        for our_grad, expected_grad in zip(our_grads, expected_grads, strict=True):
            assert torch.allclose(our_grad, expected_grad, atol=1e-5)


def test_contracted_propagate_passes_gradcheck_in_float64():
    torch.manual_seed(0)
    factor = build_relation_hypergraph(random_graph(8, 2, 16)).ternary_factor(1)
    contraction = factor.contraction.to(torch.float64)
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    z = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)

    def chunked(x: Tensor, z: Tensor, weight: Tensor) -> Tensor:
        return contracted_propagate(x, z, weight, factor.pairs, factor.pair_type, contraction, 3 * 2 * 3 * 8)

    assert torch.autograd.gradcheck(chunked, (x, z, weight))


# ----------------------------------------------------------------------------- whole backbones
def training_scores(model: torch.nn.Module, graph: KGGraph, batch: int = 4, candidates: int = 6) -> Tensor:
    generator = torch.Generator().manual_seed(1)
    anchors = torch.randint(graph.num_nodes, (batch,), generator=generator)
    relations = torch.randint(graph.num_direct_relations, (batch,), generator=generator)
    head_queries = torch.arange(batch) % 2 == 1
    answers = torch.randint(graph.num_nodes, (batch, candidates), generator=generator)
    return model(graph, anchors, relations, head_queries, answers)


@pytest.mark.parametrize("backbone", [Ultra, Trix, Motif])
def test_chunked_and_per_edge_backbones_agree_in_scores_and_gradients(backbone):
    graph = random_graph(30, 4, 120)
    models = []
    for implementation in ("per_edge", "chunked"):
        torch.manual_seed(0)
        options = MessagePassingOptions(implementation=implementation, chunk_mb=0.001)
        kwargs = {"dropout": 0.0} if backbone is Motif else {}
        models.append(backbone(dim=8, num_relation_layers=2, num_entity_layers=2, message_passing=options, **kwargs))
    reference, chunked = models
    expected, ours = training_scores(reference, graph), training_scores(chunked, graph)
    assert torch.allclose(ours, expected, atol=1e-5)
    expected.square().sum().backward()
    ours.square().sum().backward()
    for (name, ours_param), reference_param in zip(chunked.named_parameters(), reference.parameters(), strict=True):
        if reference_param.grad is None:
            assert ours_param.grad is None, name
        else:
            assert torch.allclose(ours_param.grad, reference_param.grad, atol=1e-5), name


def test_score_all_in_groups_equals_one_forward():
    torch.manual_seed(0)
    graph = random_graph(40, 3, 100)
    one_query_at_a_time = MessagePassingOptions(eval_state_mb=40 * 8 * 4 / 2**20)
    model = Ultra(dim=8, num_relation_layers=2, num_entity_layers=2, message_passing=one_query_at_a_time).eval()
    assert model.queries_per_forward(graph) == 1
    anchors, relations = torch.tensor([0, 5, 9, 3, 3]), torch.tensor([0, 2, 1, 1, 0])
    head_queries = torch.tensor([False, True, False, True, False])
    grouped = model.score_all(graph, anchors, relations, head_queries)
    with torch.no_grad():
        whole = model(graph, anchors, relations, head_queries)
    assert grouped.shape == (5, 40)
    assert torch.allclose(grouped, whole, atol=1e-6)


# ----------------------------------------------------------------------------- what backward keeps
def storage_parts(tensor: Tensor) -> list[Tensor]:
    if tensor.layout == torch.sparse_csr:
        return [tensor.crow_indices(), tensor.col_indices(), tensor.values()]
    return [tensor]


def saved_bytes(run: Callable[[], Tensor], cached: Iterable[Tensor] = ()) -> int:
    """Bytes of the distinct storages autograd keeps for backward while ``run()`` builds its graph, leaving out
    those of ``cached`` (graph structures built before the step and kept with the graph anyway)."""
    storages: dict[int, int] = {}
    left_out = {part.untyped_storage().data_ptr() for tensor in cached for part in storage_parts(tensor)}

    def pack(tensor: Tensor) -> Tensor:
        for part in storage_parts(tensor):
            storage = part.untyped_storage()
            if storage.data_ptr() not in left_out:
                storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        output = run()
    del output
    return sum(storages.values())


def test_ultra_training_forward_keeps_node_states_not_per_edge_messages():
    """On a graph with E = 400 N, what a training forward saves is O(L B N d), far below one (E, B, d) tensor."""
    num_nodes, dim, layers, batch = 100, 16, 3, 8
    graph = random_graph(num_nodes, 5, 20_000)  # 40,000 edges with inverses
    one_message_tensor = graph.num_edges * batch * dim * 4
    node_state = batch * num_nodes * dim * 4
    edge_list = 3 * graph.num_edges * 8  # receivers, senders, types (int64), saved once for every layer

    def forward(implementation: str) -> int:
        torch.manual_seed(0)
        options = MessagePassingOptions(implementation=implementation)
        model = Ultra(dim=dim, num_relation_layers=layers, num_entity_layers=layers, message_passing=options)
        cached_relation_graph(graph)  # built once per graph, cached: not part of a step
        return saved_bytes(lambda: training_scores(model, graph, batch=batch))

    chunked, reference = forward("chunked"), forward("per_edge")
    assert reference > layers * one_message_tensor  # the earlier layer keeps (E, B, d) messages per layer
    assert chunked < one_message_tensor / 8
    # per entity layer: its input, the aggregate, the pre-norm and post-ReLU states (+ the boundary once)
    assert chunked < 6 * layers * node_state + edge_list + 2**18


def test_motif_relation_layers_keep_relation_states_not_per_pair_messages():
    dim, batch = 16, 4
    graph = random_graph(60, 6, 3_000)
    hypergraph = build_relation_hypergraph(graph)
    pairs = len(hypergraph.ternary_factor(0).pairs)
    assert pairs > 20 * graph.num_relations  # a dense relation hypergraph: pairs >> relations
    hidden = torch.randn(graph.num_relations, batch, dim)

    factors = [hypergraph.ternary_factor(slot) for slot in range(3)]
    structure = [*hypergraph.binary_adjacency()]
    structure += [t for f in factors for t in (f.pairs, f.pairs[:, 0], f.pairs[:, 1], f.pair_type, f.contraction)]

    def kept(implementation: str) -> int:
        torch.manual_seed(0)
        layer = HypergraphConv(dim, dropout=0.0, options=MessagePassingOptions(implementation=implementation))
        return saved_bytes(lambda: layer(hidden.clone().requires_grad_(), hypergraph), cached=structure)

    chunked, reference = kept("chunked"), kept("per_edge")
    one_pair_tensor = pairs * batch * dim * 4
    assert reference > 3 * one_pair_tensor
    assert chunked < one_pair_tensor / 4
