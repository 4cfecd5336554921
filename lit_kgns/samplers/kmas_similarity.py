"""KMAS hard-negative distributions from relation similarities: pure functions, no Lightning.

For a query ``(anchor, q, ?)`` over the ``2R`` relations (a head corruption of ``(h, r, t)`` is the query
``(t, r + R, ?)``) the hard distribution is

    ``p(e | q) = Σ_{r'} w_q(r') · 1[e ∈ tails(r')] / |tails(r')|``,   ``w_q = softmax_{top-k}(s(q, r') / τ)``

where ``tails(r')`` are the observed tails of ``r'`` in the training graph (the tails of ``r' + R`` are the
heads of ``r'``), and with ``weighting="incidence"`` the relation weights are multiplied by ``|tails(r')|``
first, i.e. ``p(e | q) ∝ Σ_{r'} w_q(r') E_t[e, r']`` (ULTRA's incidence matrix). Nothing dense over
``relations × entities`` is built: the cache holds a ``(2R, k)`` table of similar relations with cumulative
weights and a CSR list ``relation → tails``; a hard draw picks a relation per slot by inverse CDF, then a
uniform tail of it by its CSR offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.data.graph import KGGraph

Similarity = Literal["cosine", "dot"]
SimilaritySource = Literal["backbone", "jaccard", "typed"]
Representation = Literal["query", "query_diagonal", "mean"]
Weighting = Literal["incidence", "relation"]


# --------------------------------------------------------------------------- sparse graph structure
@dataclass(eq=False)
class RelationTails:
    """CSR ``relation → distinct tail entities`` over the ``2R`` relations of a graph."""

    offsets: Tensor  # (2R + 1,)
    entities: Tensor  # (P,) tails of relation r at offsets[r]:offsets[r + 1], sorted

    @property
    def counts(self) -> Tensor:
        return self.offsets[1:] - self.offsets[:-1]

    def to(self, device: torch.device) -> RelationTails:
        return RelationTails(self.offsets.to(device), self.entities.to(device))


def relation_tails(graph: KGGraph) -> RelationTails:
    """The distinct ``(relation, tail)`` pairs of ``graph`` (the pattern of ULTRA's ``E_t``, inverse edges
    included, so tails of ``r + R`` are heads of ``r``) as CSR; one 1-D sort of ``relation * N + tail``."""
    keys = torch.unique(graph.edge_type.long() * graph.num_nodes + graph.edge_index[1].long())
    counts = torch.bincount(keys // graph.num_nodes, minlength=graph.num_relations)
    offsets = torch.zeros(graph.num_relations + 1, dtype=torch.long, device=keys.device)
    offsets[1:] = counts.cumsum(0)
    return RelationTails(offsets, keys % graph.num_nodes)


# --------------------------------------------------------------------------- the similarity cache
@dataclass(eq=False)
class SimilarityCache:
    """Per query relation ``q`` (``2R`` rows): ``k`` similar relations and their cumulative weights."""

    neighbours: Tensor  # (2R, k) relation ids, most similar first
    cumulative: Tensor  # (2R, k) cumulative sampling weights, last column 1 (or 0 if the row is empty)
    available: Tensor  # (2R,) bool: the row has at least one relation with tails

    def to(self, device: torch.device) -> SimilarityCache:
        return SimilarityCache(self.neighbours.to(device), self.cumulative.to(device), self.available.to(device))

    def weights(self, rows: Tensor | None = None) -> Tensor:
        """``(rows, k)`` the similar relations' sampling probabilities: the cumulative weights differenced."""
        cumulative = self.cumulative if rows is None else self.cumulative[rows]
        return torch.diff(cumulative, dim=1, prepend=torch.zeros_like(cumulative[:, :1])).clamp(min=0)

    def state(self) -> dict[str, Tensor]:
        return {
            "neighbours": self.neighbours.cpu(),
            "cumulative": self.cumulative.cpu(),
            "available": self.available.cpu(),
        }

    def fingerprint(self) -> str:
        """A short hash of the cache (compare caches across ranks or runs)."""
        import hashlib

        digest = hashlib.sha256()
        for tensor in (self.neighbours, self.cumulative, self.available):
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]


def _pairwise(left: Tensor, right: Tensor, similarity: str) -> Tensor:
    """``(..., n, m)`` similarities of ``left (..., n, d)`` and ``right (..., m, d)``."""
    if similarity == "cosine":
        left = torch.nn.functional.normalize(left, dim=-1)
        right = torch.nn.functional.normalize(right, dim=-1)
    return left @ right.transpose(-1, -2)


@torch.no_grad()
def similarity_rows(
    backbone: KGBackbone, graph: KGGraph, representation: str, similarity: str, chunk_size: int
) -> list[tuple[Tensor, Tensor]]:
    """Similarity rows ``s(q, ·)`` over the ``2R`` relations, as ``(query ids (C,), rows (C, 2R))`` chunks.

    Query-free backbones (``relation_representations`` of shape ``(2R, d)``) give
    ``s(q, r') = sim(E_q, E_r')`` whatever ``representation`` says. Query-conditioned ones (ULTRA:
    ``R_c`` ``(2R, d)`` conditioned on the direct relation ``c``; the model answers both ``(·, c, ?)`` and
    ``(·, c + R, ?)`` from ``R_c``):

    * ``query``: ``s(q, r') = sim(R_c[q], R_c[r'])`` with ``c = q mod R``: the relation space the model itself
      uses for query ``q`` (the default; one batched relation-model pass over the ``R`` direct relations).
    * ``query_diagonal``: query-free ``E_q = R_{q mod R}[q]`` (each relation read in its own context), then
      ``sim(E_q, E_r')``.
    * ``mean``: query-free ``E_r' = mean_c R_c[r']`` (context averaged over all direct relations).

    All three cost ``R`` relation-model passes on the ``2R``-node relation graph, in chunks of ``chunk_size``.
    """
    num_direct, device = graph.num_direct_relations, graph.device
    conditions = torch.arange(num_direct, device=device)
    rows: list[tuple[Tensor, Tensor]] = []
    embeddings: Tensor | None = None
    mean_sum: Tensor | None = None
    diagonal: list[Tensor] = []
    for chunk in conditions.split(chunk_size):
        output = backbone.relation_representations(graph, chunk).float()
        if output.dim() == 2:  # query-free: one embedding table, conditioning ignored
            embeddings = output
            break
        if representation == "query":
            local = torch.arange(len(chunk), device=device)
            for query_ids in (chunk, chunk + num_direct):
                queries = output[local, query_ids].unsqueeze(1)  # (C, 1, d)
                rows.append((query_ids, _pairwise(queries, output, similarity).squeeze(1)))
        elif representation == "query_diagonal":
            local = torch.arange(len(chunk), device=device)
            diagonal.append(torch.stack([output[local, chunk], output[local, chunk + num_direct]]))  # (2, C, d)
        else:
            mean_sum = output.sum(0) if mean_sum is None else mean_sum + output.sum(0)
    if embeddings is None and representation == "query_diagonal":
        embeddings = torch.cat(diagonal, dim=1).flatten(0, 1)  # direct relations, then inverses
    elif embeddings is None and representation == "mean":
        assert mean_sum is not None
        embeddings = mean_sum / num_direct
    if embeddings is not None:
        rows = [
            (query_ids, _pairwise(embeddings[query_ids], embeddings, similarity))
            for query_ids in torch.arange(graph.num_relations, device=device).split(chunk_size)
        ]
    return rows


def structural_rows(tails: RelationTails, source: str, chunk_size: int) -> list[tuple[Tensor, Tensor]]:
    """Similarity rows that read the graph, not a model (the ablations of where similarity comes from).

    * ``jaccard``: ``s(q, r') = ½ [J(tails(q), tails(r')) + J(heads(q), heads(r'))]``, the Jaccard overlaps of
      the two relations' tail sets and of their head sets (``heads(q) = tails(q⁻¹)``), in ``[0, 1]``;
    * ``typed``: the query relation alone (``0`` on the diagonal, ``-inf`` elsewhere), so that a hard draw
      is a uniform tail of the query relation itself: typed sampling.
    """
    num_relations = len(tails.counts)
    device = tails.offsets.device
    if source == "typed":
        rows = []
        for query_ids in torch.arange(num_relations, device=device).split(chunk_size):
            scores = torch.full((len(query_ids), num_relations), float("-inf"), device=device)
            scores[torch.arange(len(query_ids), device=device), query_ids] = 0.0
            rows.append((query_ids, scores))
        return rows
    relation_of_pair = torch.repeat_interleave(torch.arange(num_relations, device=device), tails.counts)
    num_nodes = int(tails.entities.max()) + 1 if len(tails.entities) else 1
    # |tails(q) ∩ tails(r')| as incidence products over chunks of entities: (2R, 2R) at any graph size
    shared = torch.zeros(num_relations, num_relations, device=device)
    entities_per_chunk = max(1, (1 << 24) // max(num_relations, 1))
    for first in range(0, num_nodes, entities_per_chunk):
        inside = (tails.entities >= first) & (tails.entities < first + entities_per_chunk)
        incidence = torch.zeros(num_relations, min(entities_per_chunk, num_nodes - first), device=device)
        incidence[relation_of_pair[inside], tails.entities[inside] - first] = 1.0
        shared += incidence @ incidence.t()
    counts = tails.counts.float()
    union = counts.unsqueeze(1) + counts.unsqueeze(0) - shared
    tail_overlap = shared / union.clamp(min=1)
    inverse = (torch.arange(num_relations, device=device) + num_relations // 2) % num_relations
    overlap = (tail_overlap + tail_overlap[inverse][:, inverse]) / 2
    return [(ids, overlap[ids]) for ids in torch.arange(num_relations, device=device).split(chunk_size)]


def relation_similarity_rows(
    source: str,
    backbone: KGBackbone,
    graph: KGGraph,
    tails: RelationTails,
    representation: str,
    similarity: str,
    chunk_size: int,
) -> list[tuple[Tensor, Tensor]]:
    """The rows of ``source``: :func:`similarity_rows` of ``backbone`` for ``backbone``, else
    :func:`structural_rows` of the graph (``jaccard``, ``typed``)."""
    if source == "backbone":
        return similarity_rows(backbone, graph, representation, similarity, chunk_size)
    return structural_rows(tails, source, chunk_size)


def build_similarity_cache(
    rows: list[tuple[Tensor, Tensor]],
    tail_counts: Tensor,
    temperature: float,
    top_k: int | None,
    include_self: bool,
    weighting: str,
) -> SimilarityCache:
    """Top-k relations per query and ``w_q = softmax(s / τ)`` over them (relations without tails excluded;
    multiplied by the tail counts for ``incidence`` weighting), stored as cumulative weights."""
    num_relations = len(tail_counts)
    k = num_relations if top_k is None else min(top_k, num_relations)
    neighbours = torch.zeros(num_relations, k, dtype=torch.long, device=tail_counts.device)
    weights = torch.zeros(num_relations, k, device=tail_counts.device)
    for query_ids, scores in rows:
        logits = scores / temperature
        logits = logits.masked_fill((tail_counts == 0).unsqueeze(0), float("-inf"))
        if not include_self:
            logits[torch.arange(len(query_ids), device=logits.device), query_ids] = float("-inf")
        top = logits.topk(k, dim=1)
        # A row whose top-k is all -inf has no candidate relation: softmax would give NaN.
        finite = torch.isfinite(top.values)
        chunk_weights = torch.softmax(top.values.masked_fill(~finite.any(1, keepdim=True), 0.0), dim=1)
        chunk_weights = chunk_weights * finite
        if weighting == "incidence":
            chunk_weights = chunk_weights * tail_counts[top.indices].float()
        neighbours[query_ids] = top.indices
        weights[query_ids] = chunk_weights
    total = weights.sum(1, keepdim=True)
    available = total.squeeze(1) > 0
    cumulative = (weights / total.clamp(min=1e-30)).cumsum(1)
    cumulative[:, -1] = available.float()  # exact 1 despite rounding: searchsorted never runs off the end
    return SimilarityCache(neighbours, cumulative, available)


def draw_hard(
    cache: SimilarityCache,
    tails: RelationTails,
    query_relations: Tensor,
    num_samples: int,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor]:
    """``(entities, drawn)`` ``(B, num_samples)``: a similar relation per slot by inverse CDF on the
    cumulative weights of its query row, then a uniform tail of that relation by CSR offset."""
    batch_size, device = len(query_relations), query_relations.device
    cumulative = cache.cumulative[query_relations]  # (B, k)
    u = torch.rand(batch_size, num_samples, generator=generator, device=device)
    column = torch.searchsorted(cumulative, u, right=True).clamp(max=cumulative.shape[1] - 1)
    relations = cache.neighbours[query_relations].gather(1, column)  # (B, n)
    start, count = tails.offsets[relations], tails.counts[relations]
    v = torch.rand(batch_size, num_samples, generator=generator, device=device)
    position = start + (v * count).long().clamp(max=(count - 1).clamp(min=0))
    entities = tails.entities[position.clamp(max=max(len(tails.entities) - 1, 0))]
    drawn = cache.available[query_relations].unsqueeze(1) & (count > 0)
    return entities, drawn


def hard_probabilities(
    cache: SimilarityCache, tails: RelationTails, query_relations: Tensor, entities: Tensor
) -> Tensor:
    """``q(e | q)`` ``(B, n)``: the probability that :func:`draw_hard` draws entity ``e`` for query relation
    ``q``, ``Σ_j p_j [e ∈ tails(r_j)] / |tails(r_j)|`` over the row's similar relations ``r_j`` (weights
    ``p_j``). Membership is one binary search of ``r_j · N + e`` in the sorted CSR keys."""
    num_nodes = int(tails.entities.max()) + 1 if len(tails.entities) else 1
    relation_of_pair = torch.repeat_interleave(torch.arange(len(tails.counts), device=entities.device), tails.counts)
    keys = relation_of_pair * num_nodes + tails.entities  # sorted: relations ascending, tails sorted within
    weights = cache.weights(query_relations)  # (B, k)
    relations = cache.neighbours[query_relations]  # (B, k)
    wanted = relations.unsqueeze(1) * num_nodes + entities.unsqueeze(2)  # (B, n, k)
    position = torch.searchsorted(keys, wanted).clamp(max=max(len(keys) - 1, 0))
    member = (keys[position] == wanted) & (entities.unsqueeze(2) < num_nodes) if len(keys) else wanted < 0
    per_relation = weights / tails.counts[relations].clamp(min=1).float()  # (B, k)
    return (member.float() * per_relation.unsqueeze(1)).sum(-1)


def earlier_copies(entities: Tensor, valid: Tensor) -> Tensor:
    """``(B, n)``: True where a valid slot to the left in the same row holds the same entity."""
    n = entities.shape[1]
    same = entities.unsqueeze(2) == entities.unsqueeze(1)  # [b, j, i]: slot j equals slot i
    left = torch.ones(n, n, dtype=torch.bool, device=entities.device).tril(-1)  # i < j
    return (same & left & valid.unsqueeze(1)).any(-1)
