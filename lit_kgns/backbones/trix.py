"""TRIX (Zhang, Bevilacqua, Galkin & Ribeiro, "TRIX: A More Expressive Model for Zero-shot Domain Transfer in
Knowledge Graphs", LoG 2024): entity prediction with iterative entity <-> relation refinement."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.backbones.checkpoints import load_pretrained
from lit_kgns.backbones.edges import message_edges
from lit_kgns.backbones.message_passing import MessagePassingOptions
from lit_kgns.backbones.nbfnet import EntityEncoder
from lit_kgns.backbones.trix_graph import ROLE_PAIRS, TrixIncidence, build_trix_incidence, role_aggregate
from lit_kgns.data.graph import KGGraph
from lit_kgns.errors import ConfigError


class EntityTypedConv(nn.Module):
    """One convolution of the relation graph of one role pair, edges typed by the connecting entity.

    ``h'_r = ReLU(LayerNorm(W [h_r ; b_r + sum_{(r, r', e)} h_{r'} * MLP(w_e)]))`` with ``w_e`` the entity
    features (upstream ``GeneralizedRelationalConv`` with ``project_relations=True``, parameter names kept).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.relation_projection = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.linear = nn.Linear(2 * dim, dim)
        self.layer_norm = nn.LayerNorm(dim)

    def forward(
        self, x: Tensor, boundary: Tensor, incidence: TrixIncidence, roles: str, entity_features: Tensor
    ) -> Tensor:
        """``x``, ``boundary``: ``(2R, B, d)``; ``entity_features``: ``(N, B | 1, d)``."""
        weights = self.relation_projection(entity_features)
        aggregated = role_aggregate(incidence, roles, x, weights)  # (N, 1, d) broadcasts over the batch
        output = self.linear(torch.cat([x, aggregated + boundary], dim=-1))
        return F.relu(self.layer_norm(output))


class TrixRelationEncoder(nn.Module):
    """Upstream ``RelNet``: NBFNet on the four entity-typed relation graphs, summed per layer.

    Boundary: all-ones at the query relation, zero elsewhere. Layer ``i`` computes
    ``h^{i+1} = sum_{ab in {hh, ht, th, tt}} conv^i_ab(h^i) + h^i``. Layer 0 uses all-ones entity features;
    its output is handed to ``refine`` (an entity-graph NBFNet), whose ``[h_e ; query]`` node states go
    through ``node_mlp`` and become the entity features of every later layer.
    """

    def __init__(self, dim: int = 32, num_layers: int = 3) -> None:
        super().__init__()
        self.dim = dim
        self.node_mlp = nn.Linear(2 * dim, dim)
        for roles in ROLE_PAIRS:
            self.add_module(f"layers_{roles}", nn.ModuleList(EntityTypedConv(dim) for _ in range(num_layers)))

    def role_layers(self, roles: str) -> nn.ModuleList:
        return getattr(self, f"layers_{roles}")

    def forward(self, incidence: TrixIncidence, query_relations: Tensor, refine: Callable[[Tensor], Tensor]) -> Tensor:
        """``(2R, B, d)`` final relation states conditioned on ``query_relations`` ``(B,)`` and ``refine``.

        ``refine``: ``(2R, B, d)`` relation states -> ``(N, B, 2d)`` entity node features.
        """
        batch_size, device = len(query_relations), query_relations.device
        boundary = torch.zeros(incidence.num_relations, batch_size, self.dim, device=device)
        boundary[query_relations, torch.arange(batch_size, device=device)] = 1.0
        entity_features = torch.ones(incidence.num_nodes, 1, self.dim, device=device)  # shared by the batch
        hidden = boundary
        for i in range(len(self.layers_hh)):
            update = sum(
                self.role_layers(roles)[i](hidden, boundary, incidence, roles, entity_features) for roles in ROLE_PAIRS
            )
            hidden = update + hidden
            if i == 0:
                entity_features = self.node_mlp(refine(hidden))  # (N, B, d)
        return hidden


class TrixEntityEncoder(EntityEncoder):
    """ULTRA's entity NBFNet (relation features projected per layer, MLP on ``[h_tail ; query]``), which also
    exposes the node features ``[h_e ; query]`` of every entity (used to refine the relation encoder)."""

    def node_features(
        self,
        edge_index: Tensor,
        edge_type: Tensor,
        num_nodes: int,
        relation_states: Tensor,
        anchors: Tensor,
        query_relations: Tensor,
    ) -> Tensor:
        """``(N, B, 2d)`` states ``[h_e ; q]``; ``relation_states``: ``(2R, B, d)``, ``q`` its query row."""
        batch = torch.arange(len(anchors), device=anchors.device)
        query = relation_states[query_relations, batch]  # (B, d)
        boundary = torch.zeros(num_nodes, len(anchors), self.dim, device=anchors.device)
        boundary[anchors, batch] = query
        hidden = self.propagate_layers(boundary, edge_index, edge_type, relation_states)  # (N, B, d)
        return torch.cat([hidden, query.unsqueeze(0).expand_as(hidden)], dim=-1)


class Trix(KGBackbone):
    """TRIX entity prediction: a relation encoder refined by a small entity NBFNet, then an NBFNet scorer.

    1. ``relation_model`` (3 layers over the entity-typed relation graphs, boundary at the direct query
       relation ``r``); after its first layer ``entity_model_1`` (2 layers) runs from the anchor with the
       query relation ``r`` (tail query) or ``r + R`` (head query), and its node states become the entity
       (edge-type) features of the remaining relation layers.
    2. ``entity_model_2`` (4 layers) scores candidates from the anchor, conditioned on the final relation
       states.

    Unlike ULTRA, the relation states depend on the whole query ``(anchor, r, direction)``, not on ``r``
    alone. As upstream, the relation graph is built from the full graph while ``removed_edges`` are hidden
    from both entity NBFNets.

    Args:
        dim: hidden size of all three networks (32 in the released checkpoint).
        num_relation_layers: layers of the relation encoder.
        num_refine_layers: layers of ``entity_model_1``.
        num_entity_layers: layers of ``entity_model_2``.
        num_anchor_samples: anchors averaged over by the anchor-free :meth:`relation_representations`.
        checkpoint: ``trix`` (the released entity-prediction checkpoint, looked up under the data root or
            downloaded) or a path to a ``{"model": state_dict}`` file, loaded strictly with
            ``weights_only=True``; ``None`` for a randomly initialised model.
        message_passing: how both entity NBFNets pass messages (chunk size, evaluation memory).
        data_root: where a released checkpoint named by ``checkpoint`` lives (``None``: ``$LIT_KGNS_DATA``, else
            the cache); the CLI sets it from ``--data.root``.
    """

    def __init__(
        self,
        dim: int = 32,
        num_relation_layers: int = 3,
        num_refine_layers: int = 2,
        num_entity_layers: int = 4,
        num_anchor_samples: int = 8,
        checkpoint: str | None = None,
        message_passing: MessagePassingOptions = MessagePassingOptions(),
        data_root: str | None = None,
    ) -> None:
        super().__init__()
        self.num_anchor_samples = num_anchor_samples
        self.relation_model = TrixRelationEncoder(dim, num_relation_layers)
        # entity_model_1's scoring MLP is saved but unused
        self.entity_model_1 = TrixEntityEncoder(dim, num_refine_layers, options=message_passing)
        self.entity_model_2 = TrixEntityEncoder(dim, num_entity_layers, options=message_passing)
        if checkpoint is not None:
            load_pretrained(self, checkpoint, data_root)

    def queries_per_forward(self, graph: KGGraph) -> int:
        # the refining NBFNet's (N, B, 2d) node features are the largest state
        return self.entity_model_2.options.queries_per_forward(graph.num_nodes, 2 * self.entity_model_2.dim)

    def incidence(self, graph: KGGraph) -> TrixIncidence:
        return graph.cached("trix_incidence", build_trix_incidence)

    def relation_states(
        self,
        graph: KGGraph,
        anchors: Tensor,
        relations: Tensor,
        head_queries: Tensor,
        edge_index: Tensor | None = None,
        edge_type: Tensor | None = None,
    ) -> Tensor:
        """``(2R, B, d)`` final relation states of the queries ``(anchor, r, direction)`` (node-major)."""
        if edge_index is None or edge_type is None:
            edge_index, edge_type = message_edges(graph)
        entity_queries = relations + head_queries.long() * graph.num_direct_relations

        def refine(states: Tensor) -> Tensor:
            return self.entity_model_1.node_features(
                edge_index, edge_type, graph.num_nodes, states, anchors, entity_queries
            )

        return self.relation_model(self.incidence(graph), relations, refine)

    def relation_representations(
        self,
        graph: KGGraph,
        query_relations: Tensor | None = None,
        anchors: Tensor | None = None,
        head_queries: Tensor | None = None,
    ) -> Tensor:
        """``(B, 2R, d)`` final relation-encoder states (the ones ``entity_model_2`` reads), conditioned on
        the query relations ``(B,)``.

        With ``anchors`` these are exactly the states of the queries ``(anchor, r, direction)``
        (``head_queries`` defaults to tail queries). Without them (how :class:`KMASSampler` asks), they are
        averaged over the tail queries ``(h, r, ?)`` of up to ``num_anchor_samples`` heads ``h`` of ``r`` in
        ``graph``, evenly spaced in entity order (deterministic; entity 0 for a relation without edges),
        one batched pass per anchor slot.
        """
        if query_relations is None:
            raise ConfigError("Trix relation representations are query-conditioned: pass query_relations (B,)")
        if anchors is not None:
            if head_queries is None:
                head_queries = torch.zeros_like(query_relations, dtype=torch.bool)
            return self.relation_states(graph, anchors, query_relations, head_queries).transpose(0, 1)
        table, valid = self.anchor_table(graph)
        table, valid = table[query_relations], valid[query_relations]  # (B, k)
        tail_queries = torch.zeros_like(query_relations, dtype=torch.bool)
        total = None
        for slot in range(table.shape[1]):
            if not bool(valid[:, slot].any()):
                break
            states = self.relation_states(graph, table[:, slot], query_relations, tail_queries)
            states = states * valid[:, slot].unsqueeze(-1).to(states.dtype)  # (2R, B, d)
            total = states if total is None else total + states
        assert total is not None
        return (total / valid.sum(1).clamp(min=1).unsqueeze(-1).to(total.dtype)).transpose(0, 1)

    def anchor_table(self, graph: KGGraph) -> tuple[Tensor, Tensor]:
        """``(anchors, valid)`` ``(2R, k)``: up to ``k`` distinct heads of each relation, evenly spaced."""
        k = self.num_anchor_samples

        def build(graph: KGGraph) -> tuple[Tensor, Tensor]:
            heads_t = self.incidence(graph).heads_t  # (2R, N) CSR: rows list each relation's heads, sorted
            offsets, entities = heads_t.crow_indices(), heads_t.col_indices()
            counts = (offsets[1:] - offsets[:-1]).unsqueeze(1)  # (2R, 1)
            slot = torch.arange(k, device=counts.device).unsqueeze(0)  # (1, k)
            position = torch.where(counts >= k, slot * counts // k, slot)
            valid = slot < counts
            valid[:, 0] = True  # a relation without edges falls back on entity 0
            index = (offsets[:-1].unsqueeze(1) + position).clamp(max=max(len(entities) - 1, 0))
            anchors = torch.where(slot < counts, entities[index], torch.zeros_like(index))
            return anchors, valid

        return graph.cached(f"trix_anchor_table_{k}", build)

    def forward(
        self,
        graph: KGGraph,
        anchors: Tensor,
        relations: Tensor,
        head_queries: Tensor,
        candidates: Tensor | None = None,
        removed_edges: Tensor | None = None,
    ) -> Tensor:
        edge_index, edge_type = message_edges(graph, removed_edges)
        states = self.relation_states(graph, anchors, relations, head_queries, edge_index, edge_type)
        entity_queries = relations + head_queries.long() * graph.num_direct_relations
        return self.entity_model_2(
            edge_index,
            edge_type,
            graph.num_nodes,
            states.transpose(0, 1),
            anchors,
            entity_queries,
            candidates,
        )
