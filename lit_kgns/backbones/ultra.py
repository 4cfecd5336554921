"""ULTRA (Galkin et al., "Towards Foundation Models for Knowledge Graph Reasoning", ICLR 2024)."""

from __future__ import annotations

import torch
from torch import Tensor

from lit_kgns.backbones.checkpoints import load_pretrained
from lit_kgns.backbones.message_passing import MessagePassingOptions
from lit_kgns.backbones.nbfnet import BellmanFordStack, EntityEncoder, RelationConditionedBackbone
from lit_kgns.backbones.relation_graph import RelationGraph, cached_relation_graph
from lit_kgns.data.graph import KGGraph
from lit_kgns.errors import ConfigError


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


class Ultra(RelationConditionedBackbone):
    """ULTRA: relation encoder on the relation graph, entity encoder conditioned on its output.

    Head queries ``(?, r, t)`` are answered as tail queries ``(t, r + R, ?)``; as upstream, the relation
    encoder is conditioned on the direct relation ``r`` for both directions.

    Args:
        dim: hidden size of both encoders (64 in the released checkpoints).
        num_relation_layers: layers of the relation encoder.
        num_entity_layers: layers of the entity encoder.
        checkpoint: a catalog name (``ultra_3g``, ``ultra_4g``, ``ultra_50g``), a Hub model
            (``hf://mgalkin/ultra_3g``), a snapshot folder, or a ``{"model": state_dict}`` / Lightning ``.ckpt``
            file, loaded strictly (``weights_only=True``, safetensors without pickle); ``None`` for a
            randomly initialised model.
        message_passing: how the entity encoder passes messages (chunk size, evaluation memory).
        data_root: where a released checkpoint named by ``checkpoint`` lives (``None``: ``$LIT_KGNS_DATA``, else
            the cache); the CLI sets it from ``--data.root``.
    """

    def __init__(
        self,
        dim: int = 64,
        num_relation_layers: int = 6,
        num_entity_layers: int = 6,
        checkpoint: str | None = None,
        message_passing: MessagePassingOptions = MessagePassingOptions(),
        data_root: str | None = None,
    ) -> None:
        super().__init__()
        self.relation_model = RelationEncoder(dim, num_relation_layers)
        self.entity_model = EntityEncoder(dim, num_entity_layers, options=message_passing)
        if checkpoint is not None:
            load_pretrained(self, checkpoint, data_root)

    def relation_representations(self, graph: KGGraph, query_relations: Tensor | None = None) -> Tensor:
        if query_relations is None:
            raise ConfigError("Ultra's relation representations are query-conditioned: pass query_relations (B,)")
        return self.relation_model(cached_relation_graph(graph), query_relations)
