"""Classic (transductive) KGE models behind :class:`KGBackbone`, scored by PyKEEN's interaction modules.

Each model owns embedding tables sized by ``num_entities`` / ``num_relations`` (direct relations ``R``) and
delegates the score formula to ``pykeen.nn.modules.<Model>Interaction``: the formulas are PyKEEN's, the
batching is ours. A tail query ``(h, r, ?)`` scores ``f(h, r, c)`` for every candidate ``c``; a head query
``(?, r, t)`` scores ``f(c, r, t)`` with the same direct relation ``r`` (``graph`` is ignored: no messages).

``relation_representations`` returns a ``(2R, d)`` real table: rows ``r < R`` are the flattened relation
parameters, rows ``r + R`` those of the *inverse* relation, defined per model so that
``f(t, r⁻¹, h) = f(h, r, t)``: negated translation (TransE, TransH, TransR), the same vector (DistMult),
the complex conjugate (ComplEx, RotatE), the transposed matrix (RESCAL).
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.data.graph import KGGraph
from lit_kgns.errors import ConfigError
from lit_kgns.options import check_positive

if TYPE_CHECKING:
    from pykeen.nn import modules as interactions

Size = int | None  # None: filled in by the CLI from the training graph


def _interactions() -> ModuleType:
    """PyKEEN's interaction modules, imported when a model is built: PyKEEN brings pandas and scikit-learn with
    it (about a second), which a command that builds no embedding model (``--help``, a KGFM run) never needs."""
    from pykeen.nn import modules

    return modules


class KGEBackbone(KGBackbone):
    """Embedding tables + a PyKEEN interaction.

    Args:
        num_entities: entities of the (single, transductive) graph.
        num_relations: direct relations ``R``. The CLI fills both in from the training graph when they are
            left out, so a config runs on any dataset.
        embedding_dim: entity dimension (complex models: number of complex components).
    """

    #: PyKEEN interaction class; subclasses set it.
    interaction_class: type[interactions.Interaction]
    complex_entities = False

    def __init__(self, num_entities: Size = None, num_relations: Size = None, embedding_dim: int = 200) -> None:
        super().__init__()
        filled = "(the CLI fills it in from the training graph, which must be a single dataset)"
        for name, value in (("num_entities", num_entities), ("num_relations", num_relations)):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{type(self).__name__}: {name} must be a positive integer, got {value!r} {filled}")
        check_positive("embedding_dim", embedding_dim)
        self.num_entities = num_entities
        self.num_relations = num_relations
        self.embedding_dim = embedding_dim
        width = 2 * embedding_dim if self.complex_entities else embedding_dim
        self.entity_embeddings = nn.Embedding(num_entities, width)
        nn.init.xavier_uniform_(self.entity_embeddings.weight)

    # ----------------------------------------------------------------- representations
    def entity(self, ids: Tensor) -> Tensor:
        """Entity representations in the interaction's format (complex for ComplEx / RotatE)."""
        x = self.entity_embeddings(ids)
        return torch.view_as_complex(x.view(*x.shape[:-1], -1, 2)) if self.complex_entities else x

    def relation(self, ids: Tensor) -> Tensor | tuple[Tensor, ...]:
        """Relation representations in the interaction's format."""
        raise NotImplementedError

    def inverse_relation_table(self) -> Tensor:
        """``(R, d)`` flattened real parameters of the inverse relations."""
        raise NotImplementedError

    def relation_table(self) -> Tensor:
        return flatten(self.relation(torch.arange(self.num_relations, device=self.entity_embeddings.weight.device)))

    def entity_table(self) -> Tensor:
        """``(num_entities, d)`` real entity vectors (complex ones as ``[re, im]`` pairs), e.g. for k-NN."""
        return self.entity_embeddings.weight

    # ----------------------------------------------------------------- KGBackbone
    def score(self, heads: object, relations: object, tails: object) -> Tensor:
        return self.interaction(heads, relations, tails)

    def forward(
        self,
        graph: KGGraph | None,
        anchors: Tensor,
        relations: Tensor,
        head_queries: Tensor,
        candidates: Tensor | None = None,
        removed_edges: Tensor | None = None,
    ) -> Tensor:
        """``(B, C)`` scores of candidates (``(B, num_entities)`` when ``candidates`` is None)."""
        if candidates is None:
            return self.score_all_entities(anchors, relations, head_queries)
        scores = torch.empty(candidates.shape, device=anchors.device, dtype=self.entity_embeddings.weight.dtype)
        for head_side in (False, True):  # two directions, each one batched call
            rows = (head_queries == head_side).nonzero().squeeze(1)
            if len(rows) == 0:
                continue
            anchor = unsqueeze(self.entity(anchors[rows]))
            relation = unsqueeze(self.relation(relations[rows]))
            candidate = self.entity(candidates[rows])
            if head_side:
                scores[rows] = self.interaction(candidate, relation, anchor)
            else:
                scores[rows] = self.interaction(anchor, relation, candidate)
        return scores

    def score_all_entities(self, anchors: Tensor, relations: Tensor, head_queries: Tensor) -> Tensor:
        """``(B, num_entities)`` scores of every entity. PyKEEN's interactions materialise a
        ``(queries, entities, d)`` tensor, so queries go in chunks that keep it near :data:`SCORE_ALL_ELEMENTS`."""
        everyone = torch.arange(self.num_entities, device=anchors.device).unsqueeze(0)
        width = self.entity_embeddings.weight.shape[1]
        chunk = max(1, SCORE_ALL_ELEMENTS // (self.num_entities * width))
        parts = [
            self(None, anchors[part], relations[part], head_queries[part], everyone.expand(len(anchors[part]), -1))
            for part in torch.arange(len(anchors), device=anchors.device).split(chunk)
        ]
        return torch.cat(parts) if parts else everyone.new_zeros(0, self.num_entities).float()

    def relation_representations(self, graph: KGGraph | None = None, query_relations: Tensor | None = None) -> Tensor:
        """``(2R, d)``: direct relations, then their inverses (see the module docstring)."""
        return torch.cat([self.relation_table(), self.inverse_relation_table()])


#: Elements of the ``(queries, entities, d)`` tensor scored at once by :meth:`KGEBackbone.score_all_entities`.
SCORE_ALL_ELEMENTS = 1 << 24


def unsqueeze(x: Tensor | tuple[Tensor, ...]) -> Tensor | tuple[Tensor, ...]:
    """Add the candidate axis (``(B, ...) -> (B, 1, ...)``) to a representation or a tuple of them."""
    return tuple(part.unsqueeze(1) for part in x) if isinstance(x, tuple) else x.unsqueeze(1)


def flatten(x: Tensor | tuple[Tensor, ...]) -> Tensor:
    """``(R, d)`` real vectors from a relation representation (tuples concatenated, complex as pairs)."""
    parts = x if isinstance(x, tuple) else (x,)
    flat = [torch.view_as_real(p.resolve_conj()) if p.is_complex() else p for p in parts]
    return torch.cat([p.reshape(p.shape[0], -1) for p in flat], dim=1)


def _embedding(rows: int, width: int) -> nn.Embedding:
    table = nn.Embedding(rows, width)
    nn.init.xavier_uniform_(table.weight)
    return table


class TransE(KGEBackbone):
    """TransE (Bordes et al., 2013): ``-||h + r - t||_p``; entities L2-normalised as in PyKEEN."""

    def __init__(self, num_entities: Size = None, num_relations: Size = None, embedding_dim: int = 200, p: int = 2):
        super().__init__(num_entities, num_relations, embedding_dim)
        self.interaction = _interactions().TransEInteraction(p=p)
        self.relation_embeddings = _embedding(num_relations, embedding_dim)
        self.p = p

    def entity(self, ids: Tensor) -> Tensor:
        return F.normalize(self.entity_embeddings(ids), dim=-1)

    def score_all_entities(self, anchors: Tensor, relations: Tensor, head_queries: Tensor) -> Tensor:
        """``-||target - e||_p`` for every entity ``e`` by ``cdist``, with ``target = h + r`` for a tail
        query and ``t - r`` for a head query (``-||h' + r - t|| = -||h' - (t - r)||``): no ``(B, N, d)``
        tensor."""
        sign = 1.0 - 2.0 * head_queries.to(self.relation_embeddings.weight.dtype).unsqueeze(1)
        target = self.entity(anchors) + sign * self.relation(relations)
        return -torch.cdist(target, F.normalize(self.entity_embeddings.weight, dim=-1), p=self.p)

    def relation(self, ids: Tensor) -> Tensor:
        return self.relation_embeddings(ids)

    def inverse_relation_table(self) -> Tensor:
        return -self.relation_embeddings.weight


class TransH(KGEBackbone):
    """TransH (Wang et al., 2014): translation ``d_r`` on the hyperplane with unit normal ``w_r``."""

    def __init__(self, num_entities: Size = None, num_relations: Size = None, embedding_dim: int = 200, p: int = 2):
        super().__init__(num_entities, num_relations, embedding_dim)
        self.interaction = _interactions().TransHInteraction(p=p)
        self.normals = _embedding(num_relations, embedding_dim)
        self.translations = _embedding(num_relations, embedding_dim)

    def relation(self, ids: Tensor) -> tuple[Tensor, Tensor]:
        return F.normalize(self.normals(ids), dim=-1), self.translations(ids)

    def inverse_relation_table(self) -> Tensor:
        return torch.cat([F.normalize(self.normals.weight, dim=-1), -self.translations.weight], dim=1)


class TransR(KGEBackbone):
    """TransR (Lin et al., 2015): project with ``M_r`` (``d × k``) into the relation space, then translate."""

    def __init__(
        self,
        num_entities: Size = None,
        num_relations: Size = None,
        embedding_dim: int = 100,
        relation_dim: int = 100,
        p: int = 2,
    ) -> None:
        super().__init__(num_entities, num_relations, embedding_dim)
        self.relation_dim = relation_dim
        self.interaction = _interactions().TransRInteraction(p=p)
        self.relation_embeddings = _embedding(num_relations, relation_dim)
        self.projections = nn.Embedding(num_relations, embedding_dim * relation_dim)
        # Start near the identity-like projection so TransR begins as TransE (as the paper initialises).
        with torch.no_grad():
            eye = torch.eye(embedding_dim, relation_dim).reshape(-1)
            self.projections.weight.copy_(eye + 0.01 * torch.randn_like(self.projections.weight))

    def entity(self, ids: Tensor) -> Tensor:
        return F.normalize(self.entity_embeddings(ids), dim=-1)

    def relation(self, ids: Tensor) -> tuple[Tensor, Tensor]:
        matrix = self.projections(ids).view(*ids.shape, self.embedding_dim, self.relation_dim)
        return self.relation_embeddings(ids), matrix

    def inverse_relation_table(self) -> Tensor:
        return torch.cat([-self.relation_embeddings.weight, self.projections.weight], dim=1)


class DistMult(KGEBackbone):
    """DistMult (Yang et al., 2015): ``<h, r, t>``; symmetric, so the inverse relation is ``r`` itself."""

    def __init__(self, num_entities: Size = None, num_relations: Size = None, embedding_dim: int = 200) -> None:
        super().__init__(num_entities, num_relations, embedding_dim)
        self.interaction = _interactions().DistMultInteraction()
        self.relation_embeddings = _embedding(num_relations, embedding_dim)

    def relation(self, ids: Tensor) -> Tensor:
        return self.relation_embeddings(ids)

    def inverse_relation_table(self) -> Tensor:
        return self.relation_embeddings.weight


class ComplEx(KGEBackbone):
    """ComplEx (Trouillon et al., 2016): ``Re(<h, r, conj(t)>)``; the inverse relation is ``conj(r)``."""

    complex_entities = True

    def __init__(self, num_entities: Size = None, num_relations: Size = None, embedding_dim: int = 200) -> None:
        super().__init__(num_entities, num_relations, embedding_dim)
        self.interaction = _interactions().ComplExInteraction()
        self.relation_embeddings = _embedding(num_relations, 2 * embedding_dim)

    def relation(self, ids: Tensor) -> Tensor:
        x = self.relation_embeddings(ids)
        return torch.view_as_complex(x.view(*x.shape[:-1], -1, 2))

    def inverse_relation_table(self) -> Tensor:
        return flatten(torch.conj(self.relation(torch.arange(self.num_relations, device=self.entity_table().device))))


class RESCAL(KGEBackbone):
    """RESCAL (Nickel et al., 2011): ``h^T W_r t``; the inverse relation is ``W_r^T``."""

    def __init__(self, num_entities: Size = None, num_relations: Size = None, embedding_dim: int = 50) -> None:
        super().__init__(num_entities, num_relations, embedding_dim)
        self.interaction = _interactions().RESCALInteraction()
        self.relation_embeddings = _embedding(num_relations, embedding_dim * embedding_dim)

    def relation(self, ids: Tensor) -> Tensor:
        return self.relation_embeddings(ids).view(*ids.shape, self.embedding_dim, self.embedding_dim)

    def inverse_relation_table(self) -> Tensor:
        matrices = self.relation_embeddings.weight.view(-1, self.embedding_dim, self.embedding_dim)
        return matrices.transpose(1, 2).reshape(self.num_relations, -1)


class RotatE(KGEBackbone):
    """RotatE (Sun et al., 2019): ``-||h ∘ r - t||``, unit-modulus ``r = e^{iθ}``; inverse: ``conj(r)``."""

    complex_entities = True

    def __init__(self, num_entities: Size = None, num_relations: Size = None, embedding_dim: int = 200) -> None:
        super().__init__(num_entities, num_relations, embedding_dim)
        self.interaction = _interactions().RotatEInteraction()
        self.phases = nn.Embedding(num_relations, embedding_dim)
        nn.init.uniform_(self.phases.weight, 0, 2 * math.pi)

    def relation(self, ids: Tensor) -> Tensor:
        phase = self.phases(ids)
        return torch.polar(torch.ones_like(phase), phase)

    def inverse_relation_table(self) -> Tensor:
        return flatten(torch.polar(torch.ones_like(self.phases.weight), -self.phases.weight))


KGE_MODELS: dict[str, type[KGEBackbone]] = {
    "transe": TransE,
    "transh": TransH,
    "transr": TransR,
    "distmult": DistMult,
    "complex": ComplEx,
    "rescal": RESCAL,
    "rotate": RotatE,
}
