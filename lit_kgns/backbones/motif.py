"""MOTIF (Huang et al., "How Expressive are Knowledge Graph Foundation Models?", ICML 2025).

ULTRA with the relation graph replaced by a relation *hypergraph* of 2-path and 3-path motifs
(:mod:`lit_kgns.backbones.motif_hypergraph`), encoded by a hypergraph conditional message-passing network
(upstream ``RelHCNet``); the entity model is ULTRA's, key for key.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lit_kgns.backbones.checkpoints import load_pretrained
from lit_kgns.backbones.message_passing import MessagePassingOptions, contracted_propagate
from lit_kgns.backbones.motif_hypergraph import (
    BINARY_TYPES,
    NUM_HYPEREDGE_TYPES,
    RelationHypergraph,
    TernaryFactor,
    build_relation_hypergraph,
)
from lit_kgns.backbones.nbfnet import EntityEncoder, RelationConditionedBackbone
from lit_kgns.data.graph import KGGraph
from lit_kgns.errors import ConfigError

MAX_ARITY = 3


def sinusoidal_positions(max_position: int, dim: int) -> Tensor:
    """``(max_position + 1, dim)`` table ``P[p, c] = sin(p / 10000^(2c/d))`` for even ``c`` and
    ``cos(p / 10000^(2c/d))`` for odd ``c`` (upstream's exponents); row 0 is ones (the padding position)."""
    position = torch.arange(max_position + 1, dtype=torch.float64).unsqueeze(1)  # (P+1, 1)
    channel = torch.arange(dim, dtype=torch.float64)  # (d,)
    angle = position / 10000 ** (2 * channel / dim)
    table = torch.where(channel.long() % 2 == 0, torch.sin(angle), torch.cos(angle)).float()
    table[0] = 1.0
    return table


class HypergraphConv(nn.Module):
    """One MOTIF hypergraph layer (upstream ``HypergraphLayer``, sum aggregation, no padding node).

    For a hyperedge ``e = (n_1, .., n_m)`` of type ``k``, slot ``i`` receives
    ``w_k * prod_{j != i} (h_{n_j} + p_j)`` (``w = rel_embedding``, ``p = pos_embedding``); then
    ``h' = LayerNorm(Dropout(W [sum of messages ; h]))``. Upstream pads binary hyperedges to arity 3 with a
    zero node whose position row is ones, a factor 1: binary hyperedges simply skip the third factor here.
    """

    def __init__(
        self, dim: int = 64, dropout: float = 0.2, max_arity: int = 6, options: MessagePassingOptions | None = None
    ) -> None:
        super().__init__()
        self.options = options or MessagePassingOptions()
        self.linear = nn.Linear(2 * dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.rel_embedding = nn.Embedding(NUM_HYPEREDGE_TYPES, dim)
        # rows 1..3 are the slot positions; upstream's layer default max_arity=6 gives the checkpoint 7 rows
        self.pos_embedding = nn.Embedding(max_arity + 1, dim)

    def forward(self, hidden: Tensor, hypergraph: RelationHypergraph) -> Tensor:
        """``hidden``: ``(2R, B, d)`` node-major relation states -> ``(2R, B, d)`` (before ReLU, residual)."""
        aggregated = self.aggregate(hidden, hypergraph)
        return self.norm(self.dropout(self.linear(torch.cat([aggregated, hidden], dim=-1))))

    def aggregate(self, hidden: Tensor, hypergraph: RelationHypergraph) -> Tensor:
        """Sum of the messages each node receives, ``(2R, B, d)``, with sparse products only.

        With ``u_s = h + p_s`` (slot ``s`` in 1..3): binary type ``k`` adds ``w_k * (A_k u_2 + A_k^T u_1)``;
        ternary hyperedges, for each receiving slot, ``sum_p w_k(p) * u_j[n_j(p)] * (M u_l)[p]`` over the
        ``(n_i, n_j)`` pairs ``p`` of :class:`~lit_kgns.backbones.motif_hypergraph.TernaryFactor`, in chunks
        of pairs (:func:`~lit_kgns.backbones.message_passing.contracted_propagate`: FB15k-237 has 108k pairs
        per slot, so ``(P, B, d)`` tensors kept for backward would cost about 1 GB per query).
        """
        num_nodes = hidden.shape[0]
        weight = self.rel_embedding.weight  # (7, d)
        # slot s holds h + p_{s+1}; flat (2R, B*d) views feed the sparse products
        positions = self.pos_embedding.weight
        shifted = [(hidden + positions[slot + 1]).reshape(num_nodes, -1) for slot in range(MAX_ARITY)]
        out = torch.zeros_like(hidden)
        adjacency = hypergraph.binary_adjacency()
        for kind in range(len(BINARY_TYPES)):
            forward, backward = adjacency[2 * kind], adjacency[2 * kind + 1]
            # slot 1 (rows of A_k) hears slot 2, slot 2 (rows of A_k^T) hears slot 1
            out = out + weight[kind] * ((forward @ shifted[1]) + (backward @ shifted[0])).view_as(hidden)
        chunk_bytes = self.options.chunk_bytes(hidden.device)
        for slot in range(MAX_ARITY):
            factor = hypergraph.ternary_factor(slot)
            partner_slot, contracted_slot = factor.other_slots
            partner, contracted = shifted[partner_slot].view_as(hidden), shifted[contracted_slot].view_as(hidden)
            if self.options.implementation == "per_edge":  # the earlier path, kept as the reference
                out = out + self.per_pair_messages(partner, contracted, weight, factor)
            else:
                out = out + contracted_propagate(
                    partner, contracted, weight, factor.pairs, factor.pair_type, factor.contraction, chunk_bytes
                )
        return out

    @staticmethod
    def per_pair_messages(partner: Tensor, contracted: Tensor, weight: Tensor, factor: TernaryFactor) -> Tensor:
        """The ``per_edge`` reference of the ternary messages, with ``(P, B, d)`` tensors kept for backward."""
        summed = (factor.contraction @ contracted.reshape(len(contracted), -1)).view(-1, *contracted.shape[1:])
        message = partner.index_select(0, factor.pairs[:, 1]) * summed * weight[factor.pair_type].unsqueeze(1)
        return torch.zeros_like(partner).index_add(0, factor.pairs[:, 0], message)


class HypergraphRelationEncoder(nn.Module):
    """Query-conditioned relation representations on the relation hypergraph (upstream ``RelHCNet``).

    ``h^0`` is the all-ones vector at the query relation, zeros elsewhere;
    ``h^{l+1} = ReLU(layer(h^l)) + h^l``; output ``MLP(h^L)`` (``Linear -> ReLU -> Linear``). Unlike ULTRA,
    the boundary is not re-injected.
    """

    def __init__(
        self,
        dim: int = 64,
        num_layers: int = 6,
        dropout: float = 0.2,
        num_mlp_layers: int = 2,
        options: MessagePassingOptions | None = None,
    ) -> None:
        super().__init__()
        self.dim = dim
        # frozen sinusoidal table, kept for checkpoint compatibility: upstream saves but never reads it
        self.position = nn.Embedding.from_pretrained(sinusoidal_positions(MAX_ARITY + 1, dim), freeze=True)
        self.layers = nn.ModuleList(HypergraphConv(dim, dropout, options=options) for _ in range(num_layers))
        mlp: list[nn.Module] = []
        for _ in range(num_mlp_layers - 1):
            mlp += [nn.Linear(dim, dim), nn.ReLU()]
        mlp.append(nn.Linear(dim, dim))
        self.mlp = nn.Sequential(*mlp)

    def forward(self, hypergraph: RelationHypergraph, query_relations: Tensor) -> Tensor:
        """``(B, 2R, d)`` representations of every relation, conditioned on each ``query_relations[b]``."""
        batch_size, device = len(query_relations), query_relations.device
        hidden = torch.zeros(hypergraph.num_nodes, batch_size, self.dim, device=device)  # (2R, B, d)
        hidden[query_relations, torch.arange(batch_size, device=device)] = 1.0
        for layer in self.layers:
            hidden = F.relu(layer(hidden, hypergraph)) + hidden
        return self.mlp(hidden).transpose(0, 1)


class Motif(RelationConditionedBackbone):
    """MOTIF: hypergraph relation encoder, ULTRA's entity encoder conditioned on its output.

    Head queries ``(?, r, t)`` are answered as tail queries ``(t, r + R, ?)`` and, as upstream (which turns
    them into tail queries *before* running the relation model), the relation encoder is conditioned on
    ``r + R`` for them and on ``r`` for tail queries (ULTRA conditions on ``r`` for both).

    The hypergraph is built once per graph and cached on it. Edges hidden with ``removed_edges`` are left
    out of the entity model's message passing only; the hypergraph stays that of the full graph (upstream
    rebuilds it after removing the batch's edges in training, at the cost of a rebuild per step).

    Args:
        dim: hidden size of both encoders (64 in the released checkpoint).
        num_relation_layers: hypergraph layers of the relation encoder.
        num_entity_layers: layers of the entity encoder.
        dropout: dropout of the hypergraph layers (upstream 0.2, active in training only).
        checkpoint: ``motif_3g`` or a path to a ``{"model": state_dict}`` file, loaded strictly with
            ``weights_only=True``; ``None`` for a randomly initialised model.
        message_passing: how the entity encoder passes messages (chunk size, evaluation memory).
        data_root: where a released checkpoint named by ``checkpoint`` lives (``None``: ``$LIT_KGNS_DATA``, else
            the cache); the CLI sets it from ``--data.root``.
    """

    def __init__(
        self,
        dim: int = 64,
        num_relation_layers: int = 6,
        num_entity_layers: int = 6,
        dropout: float = 0.2,
        checkpoint: str | None = None,
        message_passing: MessagePassingOptions = MessagePassingOptions(),
        data_root: str | None = None,
    ) -> None:
        super().__init__()
        self.relation_model = HypergraphRelationEncoder(dim, num_relation_layers, dropout, options=message_passing)
        self.entity_model = EntityEncoder(dim, num_entity_layers, options=message_passing)
        if checkpoint is not None:
            load_pretrained(self, checkpoint, data_root)

    def query_representations(self, graph: KGGraph, relations: Tensor, query_relations: Tensor) -> Tensor:
        """As upstream, MOTIF conditions the relation encoder on ``r + R`` for head queries."""
        return self.relation_representations(graph, query_relations)

    def relation_hypergraph(self, graph: KGGraph) -> RelationHypergraph:
        return graph.cached("motif_relation_hypergraph", build_relation_hypergraph)

    def relation_representations(self, graph: KGGraph, query_relations: Tensor | None = None) -> Tensor:
        """``(B, 2R, d)`` relation representations conditioned on ``query_relations`` ``(B,)``.

        ``query_relations`` are ids in ``[0, 2R)``: the relation a tail query runs on, so ``r`` for
        ``(h, r, ?)`` and ``r + R`` for ``(?, r, t)``. Repeated ids are encoded once outside training
        (the result is the same; in training each row keeps its own dropout mask, as upstream).
        """
        if query_relations is None:
            raise ConfigError("Motif's relation representations are query-conditioned: pass query_relations")
        hypergraph = self.relation_hypergraph(graph)
        if self.training:
            return self.relation_model(hypergraph, query_relations)
        unique, inverse = torch.unique(query_relations, return_inverse=True)
        return self.relation_model(hypergraph, unique)[inverse]
