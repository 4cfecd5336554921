"""ULTRA (Galkin et al., "Towards Foundation Models for Knowledge Graph Reasoning", ICLR 2024)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.backbones.checkpoints import load_pretrained
from lit_kgns.backbones.edges import message_edges
from lit_kgns.backbones.message_passing import MessagePassingOptions
from lit_kgns.backbones.nbfnet import BellmanFordStack
from lit_kgns.backbones.relation_graph import RelationGraph, build_relation_graph
from lit_kgns.data.graph import KGGraph


class RelationEncoder(BellmanFordStack):
    """Query-conditioned relation representations: NBFNet on the relation graph (upstream ``RelNBFNet``).

    The query relation's node starts at the all-ones vector, every other node at zero (labeling trick).
    """

    def __init__(self, dim: int = 64, num_layers: int = 6) -> None:
        super().__init__(dim, num_layers, num_relation=4)
        self.dim = dim

    def forward(self, relation_graph: RelationGraph, query_relations: Tensor) -> Tensor:
        """``(B, 2R, d)`` representations of every relation, conditioned on each ``query_relations[b]``."""
        batch_size = len(query_relations)
        boundary = torch.zeros(relation_graph.num_nodes, batch_size, self.dim, device=query_relations.device)
        boundary[query_relations, torch.arange(batch_size, device=query_relations.device)] = 1.0
        hidden = self.propagate_layers(
            boundary, relation_graph.edge_index, relation_graph.edge_type, adjacency=relation_graph.adjacency
        )
        return hidden.transpose(0, 1)


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
        query = relation_representations[batch, query_relations]  # (B, d)
        boundary = torch.zeros(num_nodes, len(anchors), self.dim, device=anchors.device)
        boundary[anchors, batch] = query
        relation_features = relation_representations.transpose(0, 1)  # (2R, B, d)
        hidden = self.propagate_layers(boundary, edge_index, edge_type, relation_features)  # (N, B, d)
        if candidates is not None:
            hidden = hidden[candidates.t(), batch]  # (C, B, d)
        return self.score(hidden, query).t()

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
    """ULTRA's way of scoring: relation representations ``(B, 2R, d)`` conditioned on the direct relation of
    each query feed ULTRA's entity encoder; head queries ``(?, r, t)`` read the row of ``r + R``.

    Subclasses provide ``entity_model`` (an :class:`EntityEncoder`) and ``relation_representations``.
    """

    entity_model: EntityEncoder

    def queries_per_forward(self, graph: KGGraph) -> int:
        return self.entity_model.options.queries_per_forward(graph.num_nodes, self.entity_model.dim)

    def relation_graph(self, graph: KGGraph) -> RelationGraph:
        return graph.cached("ultra_relation_graph", build_relation_graph)

    def forward(
        self,
        graph: KGGraph,
        anchors: Tensor,
        relations: Tensor,
        head_queries: Tensor,
        candidates: Tensor | None = None,
        removed_edges: Tensor | None = None,
    ) -> Tensor:
        representations = self.relation_representations(graph, relations)
        query_relations = relations + head_queries.long() * graph.num_direct_relations
        edge_index, edge_type = message_edges(graph, removed_edges)
        return self.entity_model(
            edge_index, edge_type, graph.num_nodes, representations, anchors, query_relations, candidates
        )


class Ultra(RelationConditionedBackbone):
    """ULTRA: relation encoder on the relation graph, entity encoder conditioned on its output.

    Head queries ``(?, r, t)`` are answered as tail queries ``(t, r + R, ?)``; as upstream, the relation
    encoder is conditioned on the direct relation ``r`` for both directions.

    Args:
        dim: hidden size of both encoders (64 in the released checkpoints).
        num_relation_layers: layers of the relation encoder.
        num_entity_layers: layers of the entity encoder.
        checkpoint: a catalog name (``ultra_3g``, ``ultra_4g``, ``ultra_50g``) or a path to a
            ``{"model": state_dict}`` file, loaded strictly with ``weights_only=True``; ``None`` for a
            randomly initialised model.
        message_passing: how the entity encoder passes messages (chunk size, evaluation memory).
    """

    def __init__(
        self,
        dim: int = 64,
        num_relation_layers: int = 6,
        num_entity_layers: int = 6,
        checkpoint: str | None = None,
        message_passing: MessagePassingOptions = MessagePassingOptions(),
    ) -> None:
        super().__init__()
        self.relation_model = RelationEncoder(dim, num_relation_layers)
        self.entity_model = EntityEncoder(dim, num_entity_layers, options=message_passing)
        if checkpoint is not None:
            load_pretrained(self, checkpoint)

    def relation_representations(self, graph: KGGraph, query_relations: Tensor | None = None) -> Tensor:
        if query_relations is None:
            raise ValueError("Ultra's relation representations are query-conditioned: pass query_relations (B,)")
        return self.relation_model(self.relation_graph(graph), query_relations)
