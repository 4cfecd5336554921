"""Neural Bellman-Ford networks as ULTRA uses them (DistMult messages, sum aggregation, boundary re-injected),
the entity encoder with its scoring MLP, and the way ULTRA, SEMMA and MOTIF score a query with it."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch_geometric.nn import MessagePassing

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.backbones.edges import message_edges
from lit_kgns.backbones.message_passing import MessagePassingOptions, relational_propagate
from lit_kgns.data.graph import KGGraph
from lit_kgns.options import check_positive


class RelationalConv(MessagePassing):
    """One NBFNet layer (Zhu et al., 2021, Eq. 6) with ULTRA's parameter names.

    ``h'_i = ReLU(LayerNorm(W [h_i ; b_i + sum_{(i, r, j)} h_j * w_r]))``: messages flow from
    ``edge_index[1]`` to ``edge_index[0]`` (upstream's rspmm kernel direction, which the released
    checkpoints were trained with), ``b`` is the boundary condition and ``w_r`` the relation features:
    a per-layer embedding table (relation graph) or a per-layer MLP of query-conditioned relation
    representations (entity graph, ``project_relations=True``).

    Tensors are node-major, ``(N, B, d)``: gathering and summing messages then move whole rows, which
    is several times faster on CPU than working along the node dimension of ``(B, N, d)``. Messages go
    through :func:`~lit_kgns.backbones.message_passing.relational_propagate`, which keeps no per-edge
    tensor, and ``W [h ; a]`` is computed as ``W_1 h + W_2 a`` so that no concatenation is kept for
    backward either; ``options.implementation = "per_edge"`` runs the earlier layer (PyG messages, a
    concatenation) as a reference.
    """

    def __init__(
        self,
        dim: int,
        num_relation: int = 4,
        project_relations: bool = False,
        layer_norm: bool = True,
        options: MessagePassingOptions | None = None,
    ) -> None:
        super().__init__(aggr="add", flow="target_to_source", node_dim=0)
        self.dim = dim
        self.options = options or MessagePassingOptions()
        self.project_relations = project_relations
        if project_relations:
            self.relation_projection = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        else:
            self.relation = nn.Embedding(num_relation, dim)
        self.linear = nn.Linear(2 * dim, dim)
        self.layer_norm = nn.LayerNorm(dim) if layer_norm else None

    def forward(
        self,
        x: Tensor,
        boundary: Tensor,
        edge_index: Tensor,
        edge_type: Tensor,
        relation_features: Tensor | None = None,
        adjacency: list[Tensor] | None = None,
    ) -> Tensor:
        """``x``, ``boundary``: ``(N, B, d)``; ``relation_features``: ``(R, B, d)`` when projecting.

        ``adjacency`` (one sparse ``(N, N)`` matrix per edge type) enables the fast path for layers whose
        relation features are shared by the whole batch: ``sum_r (A_r @ X) * w_r`` with no per-edge tensor.
        """
        num_nodes = x.shape[0]
        if self.project_relations:
            relation = self.relation_projection(relation_features)  # (R, B, d)
        else:
            relation = self.relation.weight.unsqueeze(1)  # (num_relation, 1, d)
        if adjacency is not None and not self.project_relations:
            flat = x.reshape(num_nodes, -1)
            aggregated = sum((matrix @ flat).view_as(x) * relation[kind] for kind, matrix in enumerate(adjacency))
        elif self.options.implementation == "per_edge":
            aggregated = self.propagate(
                edge_index, x=x, relation=relation, edge_type=edge_type, size=(num_nodes, num_nodes)
            )
            return self.update_states(self.linear(torch.cat([x, aggregated + boundary], dim=-1)))
        else:
            chunk_bytes = self.options.chunk_bytes(x.device)
            aggregated = relational_propagate(x, relation, edge_index, edge_type, num_nodes, chunk_bytes)
        aggregated = aggregated.add_(boundary)  # a fresh sum that backward does not need: updated in place
        weight = self.linear.weight  # (d, 2d): [W_1 W_2]
        output = torch.addmm(self.linear.bias, x.reshape(-1, self.dim), weight[:, : self.dim].t())
        output = output.addmm_(aggregated.reshape(-1, self.dim), weight[:, self.dim :].t())  # no extra sum
        return self.update_states(output.view_as(x))

    def update_states(self, output: Tensor) -> Tensor:
        if self.layer_norm is not None:
            output = self.layer_norm(output)
        return F.relu(output, inplace=self.layer_norm is not None)  # LayerNorm's backward needs its input only

    def message(self, x_j: Tensor, relation: Tensor, edge_type: Tensor) -> Tensor:
        """The ``per_edge`` reference: one ``(E, B, d)`` message tensor."""
        return x_j * relation.index_select(0, edge_type)


class BellmanFordStack(nn.Module):
    """``num_layers`` residual :class:`RelationalConv` layers started from a boundary condition."""

    def __init__(
        self,
        dim: int,
        num_layers: int,
        num_relation: int = 4,
        project_relations: bool = False,
        options: MessagePassingOptions | None = None,
    ) -> None:
        super().__init__()
        check_positive("dim", dim)
        check_positive("number of layers", num_layers)
        self.layers = nn.ModuleList(
            RelationalConv(dim, num_relation, project_relations=project_relations, options=options)
            for _ in range(num_layers)
        )

    def propagate_layers(
        self,
        boundary: Tensor,
        edge_index: Tensor,
        edge_type: Tensor,
        relation_features: Tensor | None = None,
        adjacency: list[Tensor] | None = None,
    ) -> Tensor:
        hidden = boundary
        for layer in self.layers:
            hidden = layer(hidden, boundary, edge_index, edge_type, relation_features, adjacency) + hidden
        return hidden


class EntityEncoder(BellmanFordStack):
    """NBFNet on the entity graph with relation features projected from the relation representations
    (upstream ``EntityNBFNet``), followed by the scoring MLP on ``[h_tail ; query]``."""

    def __init__(
        self,
        dim: int = 64,
        num_layers: int = 6,
        num_mlp_layers: int = 2,
        options: MessagePassingOptions | None = None,
    ) -> None:
        super().__init__(dim, num_layers, project_relations=True, options=options)
        self.dim = dim
        self.options = options or MessagePassingOptions()
        mlp: list[nn.Module] = []
        for _ in range(num_mlp_layers - 1):
            mlp += [nn.Linear(2 * dim, 2 * dim), nn.ReLU()]
        mlp.append(nn.Linear(2 * dim, 1))
        self.mlp = nn.Sequential(*mlp)

    def forward(
        self,
        edge_index: Tensor,
        edge_type: Tensor,
        num_nodes: int,
        relation_representations: Tensor,
        anchors: Tensor,
        query_relations: Tensor,
        candidates: Tensor | None = None,
    ) -> Tensor:
        """Logits ``(B, C)`` of ``candidates`` (or ``(B, num_nodes)``) as tails of ``(anchor, query_relation)``."""
        batch = torch.arange(len(anchors), device=anchors.device)
        hidden, query = self.states(
            edge_index, edge_type, num_nodes, relation_representations, anchors, query_relations
        )
        if candidates is not None:
            hidden = hidden[candidates.t(), batch]  # (C, B, d)
        return self.score(hidden, query).t()

    def states(
        self,
        edge_index: Tensor,
        edge_type: Tensor,
        num_nodes: int,
        relation_representations: Tensor,
        anchors: Tensor,
        query_relations: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """``(hidden (N, B, d), query (B, d))``: every entity's final state for each query, and the query
        relation's representation, which the MLP reads beside each state."""
        batch = torch.arange(len(anchors), device=anchors.device)
        query = relation_representations[batch, query_relations]  # (B, d)
        boundary = torch.zeros(num_nodes, len(anchors), self.dim, device=anchors.device)
        boundary[anchors, batch] = query
        relation_features = relation_representations.transpose(0, 1)  # (2R, B, d)
        return self.propagate_layers(boundary, edge_index, edge_type, relation_features), query

    def score(self, hidden: Tensor, query: Tensor) -> Tensor:
        """``MLP([h ; q])`` of node states ``(M, B, d)`` and their queries ``(B, d)`` -> logits ``(M, B)``.

        The first layer is applied as ``W_h h + (W_q q + b)``: the query half once per query, not per node,
        and no ``(M, B, 2d)`` concatenation.
        """
        first, rest = self.mlp[0], self.mlp[1:]
        weight = first.weight  # (out, 2d): [W_h W_q]
        output = F.linear(hidden, weight[:, : self.dim]).add_(F.linear(query, weight[:, self.dim :], first.bias))
        return rest(output).squeeze(-1)


class RelationConditionedBackbone(KGBackbone):
    """ULTRA's way of scoring, shared by ULTRA, SEMMA and MOTIF: relation representations ``(B, 2R, d)``
    conditioned on each query feed an :class:`EntityEncoder` that runs from the query's anchor on the graph's
    edges minus ``removed_edges``; head queries ``(?, r, t)`` are answered as ``(t, r + R, ?)``.

    Subclasses provide ``entity_model`` and ``relation_representations``.
    """

    entity_model: EntityEncoder

    def queries_per_forward(self, graph: KGGraph) -> int:
        return self.entity_model.options.queries_per_forward(graph.num_nodes, self.entity_model.dim)

    def query_representations(self, graph: KGGraph, relations: Tensor, query_relations: Tensor) -> Tensor:
        """The ``(B, 2R, d)`` representations the entity encoder reads for queries on direct relations
        ``relations``, answered on ``query_relations`` (``r`` or ``r + R``). ULTRA and SEMMA condition on the
        direct relation for both directions, as upstream."""
        return self.relation_representations(graph, relations)

    @torch.no_grad()
    def entity_states(self, graph: KGGraph, anchors: Tensor, relations: Tensor, head_queries: Tensor) -> Tensor:
        """``(B, N, d)``: every entity's final state for each query ``(anchor, relation, ?)`` (``(?, relation,
        anchor)`` where ``head_queries``), what the scoring MLP reads. They are not an embedding table: each
        query conditions them (its relation starts the message passing at its anchor)."""
        query_relations = relations + head_queries.long() * graph.num_direct_relations
        representations = self.query_representations(graph, relations, query_relations)
        edge_index, edge_type = message_edges(graph, None)
        hidden, _ = self.entity_model.states(
            edge_index, edge_type, graph.num_nodes, representations, anchors, query_relations
        )
        return hidden.transpose(0, 1)

    def forward(
        self,
        graph: KGGraph,
        anchors: Tensor,
        relations: Tensor,
        head_queries: Tensor,
        candidates: Tensor | None = None,
        removed_edges: Tensor | None = None,
    ) -> Tensor:
        query_relations = relations + head_queries.long() * graph.num_direct_relations
        # the relation pass depends on the query's relations only: run it once per distinct pair (evaluation
        # batches hold runs of queries on one relation), each query reading its row
        pairs, row = torch.unique(torch.stack([relations, query_relations]), dim=1, return_inverse=True)
        representations = self.query_representations(graph, pairs[0], pairs[1]).index_select(0, row)
        edge_index, edge_type = message_edges(graph, removed_edges)
        return self.entity_model(
            edge_index, edge_type, graph.num_nodes, representations, anchors, query_relations, candidates
        )
