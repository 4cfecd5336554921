"""Per-relation draw tables: KMAS hard negatives at the cost of a gather and a draw.

At every refresh the hard distribution of each query relation ``q`` (:mod:`lit_kgns.samplers.kmas_similarity`),

    ``p(e | q) = Σ_j w_q(r_j) · 1[e ∈ tails(r_j)] / |tails(r_j)|``,

is summed over its similar relations once and stored as one flat table over the ``2R`` rows (row ``q`` at
``start[q]:start[q + 1]``): the sorted keys ``q · N + e`` of its support, ``p(e | q)``, the cumulative
``P(e' <= e | q)`` within the row, and a guide table (Chen & Asau, 1974): for a row of ``n`` entries, entry
``b`` points at the first entity whose cumulative exceeds ``b / n``. A draw of ``u`` starts at guide entry
``⌊u n⌋``, two steps right settle nearly every draw (the guide lands within a step of the answer unless the
bucket holds several small probabilities) and a binary search settles the rest; so drawing ``n`` hard
negatives for a batch is a few gathers, exact, with ``p(e | q)`` of each draw read at its position (the
log-q correction needs no search). :meth:`EntityTable.probability` finds ``p(e | q)`` of
any entity by one binary search of ``q · N + e`` in the keys.

Time and memory are ``O(B n)`` per batch whatever ``k`` is: nothing of shape ``(B, n, k)`` is built. The
table's size ``S`` is the summed support of the rows,
``S <= Σ_q Σ_j |tails(r_j)|``; :func:`build_entity_table` returns ``None`` above a budget, and the sampler
then draws relation first, tail second (:func:`~lit_kgns.samplers.kmas_similarity.draw_hard`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lit_kgns.data.triple_index import expand_ranges
from lit_kgns.samplers.kmas_similarity import RelationTails, SimilarityCache

#: Largest table (entries before duplicates are merged) built by default: 2^26 entries, about 1.5 GiB while
#: building; a graph whose similar relations hold more tails draws relation first, tail second instead.
DEFAULT_MAX_TABLE_ENTRIES = 1 << 26

#: Guide steps before a binary search settles the draws still short of their entity (on FB15k-237 about 45 %
#: of the draws need one step, 5 % a second, 1 % more).
_GUIDE_STEPS = 2

#: Query rows whose support is merged at once while building (bounds the build's peak memory).
_BUILD_CHUNK_ENTRIES = 1 << 22


@dataclass(eq=False)
class EntityTable:
    """``p(e | q)`` of every query relation ``q`` as one sorted table (module docstring)."""

    keys: Tensor  # (S,) int64 q * N + e, sorted
    entities: Tensor  # (S,) the e of each key
    probabilities: Tensor  # (S,) float32 p(e | q)
    cumulative: Tensor  # (S,) float32 P(e' <= e | q) within the row; each row's last entry is exactly 1
    guide: Tensor  # (S,) first position of the row whose cumulative exceeds b / n, b = 0 .. n - 1
    row_cumulative: Tensor  # (S,) float64 q + cumulative: one sorted array over all rows, for binary searches
    start: Tensor  # (2R + 1,) row offsets
    available: Tensor  # (2R,) bool: row q has at least one entity
    num_nodes: int

    def __post_init__(self) -> None:
        # a row's guide entries, and for an empty row the last entry of the table (its draws are discarded)
        self.guide_size = self.start.diff().clamp(min=1)
        self.guide_start = self.start[:-1].clamp(max=max(len(self.guide) - 1, 0))

    def draw(
        self, query_relations: Tensor, num_samples: int, generator: torch.Generator
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``(entities, probabilities, drawn)`` ``(B, num_samples)``: draws from ``p(· | q)`` of each row's
        query relation and their ``p(e | q)``."""
        device = query_relations.device
        u = torch.rand(len(query_relations), num_samples, generator=generator, device=device)
        drawn = self.available[query_relations].unsqueeze(1).expand(-1, num_samples)
        if not len(self.keys):
            return torch.zeros(u.shape, dtype=torch.long, device=device), torch.zeros_like(u), drawn & False
        start = self.guide_start[query_relations].unsqueeze(1)
        bucket = (u.double() * self.guide_size[query_relations].unsqueeze(1)).long()  # exact in a double
        position = self.guide[start + bucket]
        # steps right where the cumulative is at most u; each row ends at exactly 1 > u, so a step never
        # leaves the row, nor the table (an unavailable row's draw is discarded whatever it is)
        for _ in range(_GUIDE_STEPS):
            position += self.cumulative[position] <= u
        behind = (self.cumulative[position] <= u).nonzero(as_tuple=True)
        if len(behind[0]):  # a bucket holding several small probabilities: a binary search finishes those
            target = query_relations[behind[0]].double() + u[behind].double()
            position[behind] = torch.searchsorted(self.row_cumulative, target, right=True).clamp(max=len(self.keys) - 1)
        return self.entities[position], self.probabilities[position], drawn

    def probability(self, query_relations: Tensor, entities: Tensor) -> Tensor:
        """``p(e | q)`` ``(B, n)`` of ``entities`` ``(B, n)`` under each row's query relation."""
        wanted = query_relations.unsqueeze(1).long() * self.num_nodes + entities.long()
        if not len(self.keys):
            return torch.zeros(wanted.shape, device=wanted.device)
        position = torch.searchsorted(self.keys, wanted).clamp(max=len(self.keys) - 1)
        return torch.where(self.keys[position] == wanted, self.probabilities[position], 0.0)

    def nbytes(self) -> int:
        tensors = (self.keys, self.entities, self.probabilities, self.cumulative, self.guide, self.row_cumulative)
        return sum(tensor.element_size() * tensor.numel() for tensor in tensors)


def table_entries(cache: SimilarityCache, tails: RelationTails) -> int:
    """Entries of the table before duplicates merge: the tails of every (query, similar relation) pair."""
    return int(_pair_counts(cache, tails, cache.weights()).sum())


def _pair_counts(cache: SimilarityCache, tails: RelationTails, weights: Tensor) -> Tensor:
    """``(2R, k)`` the tails each (query, similar relation) pair adds to the table (none at weight 0)."""
    return tails.counts[cache.neighbours] * (weights > 0)


def build_entity_table(
    cache: SimilarityCache,
    tails: RelationTails,
    num_nodes: int,
    max_entries: int = DEFAULT_MAX_TABLE_ENTRIES,
) -> EntityTable | None:
    """The table of ``cache``'s hard distributions, or ``None`` when it would exceed ``max_entries``."""
    weights = cache.weights()  # (2R, k)
    counts = _pair_counts(cache, tails, weights)
    if int(counts.sum()) > max_entries:
        return None
    keys, probabilities = [], []
    for rows in _row_chunks(counts.sum(1)):  # entries per row, duplicates kept
        chunk_keys, chunk_probabilities = _merged_rows(rows, cache, weights, counts, tails, num_nodes)
        keys.append(chunk_keys)
        probabilities.append(chunk_probabilities)
    device = cache.neighbours.device
    keys_all = torch.cat(keys) if keys else torch.zeros(0, dtype=torch.long, device=device)
    probability = torch.cat(probabilities) if probabilities else torch.zeros(0, device=device)
    num_rows = len(cache.available)
    rows_of = keys_all // num_nodes
    # cumulative within each row: a global cumsum less the sum of the earlier rows
    totals = torch.zeros(num_rows, dtype=torch.float64, device=device)
    totals.index_add_(0, rows_of, probability.double())
    before = totals.cumsum(0) - totals
    within = probability.double().cumsum(0) - before[rows_of]
    within = within / totals[rows_of].clamp(min=1e-300)
    last = torch.ones_like(rows_of, dtype=torch.bool)
    last[:-1] = rows_of[1:] != rows_of[:-1]
    within[last] = 1.0  # exact row ends: a draw never runs into the next row
    counts = torch.bincount(rows_of, minlength=num_rows)
    start = torch.zeros(num_rows + 1, dtype=torch.long, device=device)
    start[1:] = counts.cumsum(0)
    # guide entry b of row q: the first position whose cumulative exceeds b / n (n: the row's size)
    bucket = torch.arange(len(keys_all), device=device) - start[rows_of]
    bucket_start = rows_of.double() + bucket.double() / counts[rows_of].double()
    row_cumulative = rows_of.double() + within.float().double()
    guide = torch.searchsorted(row_cumulative, bucket_start, right=True)
    guide = torch.minimum(guide, start[rows_of + 1] - 1)
    available = cache.available & (totals > 0)
    return EntityTable(
        keys_all,
        keys_all % num_nodes,
        probability.float(),
        within.float(),
        guide,
        row_cumulative,
        start,
        available,
        num_nodes,
    )


def _row_chunks(sizes: Tensor) -> list[Tensor]:
    """Consecutive query rows grouped so that each group holds about ``_BUILD_CHUNK_ENTRIES`` entries."""
    groups = (sizes.cumsum(0) - sizes) // _BUILD_CHUNK_ENTRIES
    rows = torch.arange(len(sizes), device=sizes.device)
    return [rows[groups == group] for group in torch.unique(groups[sizes > 0])]


def _merged_rows(
    rows: Tensor, cache: SimilarityCache, weights: Tensor, counts: Tensor, tails: RelationTails, num_nodes: int
) -> tuple[Tensor, Tensor]:
    """Sorted keys ``q · N + e`` and ``p(e | q)`` of ``rows``, an entity reached by several relations once."""
    relations = cache.neighbours[rows]  # (C, k)
    per_tail = weights[rows] / tails.counts[relations].clamp(min=1).float()  # weight of each of its tails
    pair, position = expand_ranges(tails.offsets[relations].flatten(), counts[rows].flatten())
    query = rows.repeat_interleave(relations.shape[1])[pair]
    keys = query * num_nodes + tails.entities[position]
    merged, inverse = torch.unique(keys, return_inverse=True)
    probability = torch.zeros(len(merged), device=keys.device).index_add_(0, inverse, per_tail.flatten()[pair])
    return merged, probability
