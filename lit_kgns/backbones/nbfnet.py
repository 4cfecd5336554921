"""Neural Bellman-Ford layers as ULTRA uses them: DistMult messages, sum aggregation, boundary re-injected."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch_geometric.nn import MessagePassing

from lit_kgns.backbones.message_passing import MessagePassingOptions, relational_propagate


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
            aggregated = sum(
                (matrix @ flat).view_as(x) * relation[kind] for kind, matrix in enumerate(adjacency)
            )
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
