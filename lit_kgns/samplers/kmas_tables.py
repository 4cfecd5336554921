"""Per-relation draw tables: KMAS hard negatives at the cost of a gather and a draw.

At every refresh the hard distribution of each query relation ``q`` (:mod:`lit_kgns.samplers.kmas_similarity`),

    ``p(e | q) = Σ_j w_q(r_j) · 1[e ∈ tails(r_j)] / |tails(r_j)|``,

is summed over its similar relations once and stored as one flat table over the ``2R`` rows (row ``q`` at
``start[q]:start[q + 1]``): the sorted keys ``q · N + e`` of its support with ``p(e | q)``, and an alias table
(Walker, 1977): a row of ``n`` entries has ``n`` equal buckets, bucket ``b`` keeps its own entity with
probability ``threshold[b]`` and otherwise its alias. A draw of ``u`` takes bucket ``⌊u n⌋`` and compares the
fraction ``u n - ⌊u n⌋`` with its threshold: two gathers, exact, with ``p(e | q)`` of the drawn entity read
beside it (the log-q correction needs no search). :meth:`EntityTable.probability` finds ``p(e | q)`` of any
entity by one binary search of ``q · N + e`` in the keys.

The buckets are filled as by a sweep over each row's light (``p n < 1``) and heavy entries, written with prefix
sums so that every row is built at once (:func:`_alias_buckets`; the sweep of Hübschle-Schneider & Sanders,
2022): on one line lie the lights' deficits ``1 - p n`` end to end, on another the heavies' excesses ``p n - 1``;
a light's alias is the heavy whose excess holds the start of its deficit, and a heavy whose excess ends inside
a light's deficit lends the overhang to its own bucket, filled by the next heavy.

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

#: Query rows whose support is merged at once while building (bounds the build's peak memory).
_BUILD_CHUNK_ENTRIES = 1 << 22


@dataclass(eq=False)
class EntityTable:
    """``p(e | q)`` of every query relation ``q`` as one sorted table with its alias buckets (module docstring)."""

    keys: Tensor  # (S,) int64 q * N + e, sorted
    probabilities: Tensor  # (S,) float32 p(e | q)
    threshold: Tensor  # (S,) float64 chance that bucket b keeps its own entity
    outcomes: Tensor  # (S, 2) int64 bucket b's own entity and its alias
    outcome_probabilities: Tensor  # (S, 2) float32 p(e | q) of both
    start: Tensor  # (2R + 1,) row offsets
    available: Tensor  # (2R,) bool: row q has at least one entity
    num_nodes: int

    def __post_init__(self) -> None:
        # a row's buckets, scaled down by one part in 2^52 so that u < 1 never rounds up to a bucket past the
        # row (u n with u = 1 - 2^-53 can round to n; the skew is below float64's own resolution), and for an
        # empty row one bucket at the last entry of the table (its draws are discarded)
        self.row_scale = self.start.diff().clamp(min=1).double() * (1 - 2.0**-52)
        self.row_start = self.start[:-1].clamp(max=max(len(self.keys) - 1, 0))

    @property
    def entities(self) -> Tensor:
        """``(S,)`` the ``e`` of each key."""
        return self.keys % self.num_nodes

    def draw(
        self, query_relations: Tensor, num_samples: int, generator: torch.Generator, with_probabilities: bool = True
    ) -> tuple[Tensor, Tensor | None, Tensor]:
        """``(entities, probabilities, drawn)`` ``(B, num_samples)``: draws from ``p(· | q)`` of each row's
        query relation and (``with_probabilities``) their ``p(e | q)``."""
        device = query_relations.device
        # one double per draw: its integer part picks the bucket, the 53 - log2(n) bits below decide within it
        u = torch.rand(len(query_relations), num_samples, generator=generator, device=device, dtype=torch.float64)
        drawn = self.available.index_select(0, query_relations).unsqueeze(1).expand(-1, num_samples)
        if not len(self.keys):
            entities = torch.zeros(u.shape, dtype=torch.long, device=device)
            return entities, torch.zeros(u.shape, device=device) if with_probabilities else None, drawn & False
        scaled = u * self.row_scale.index_select(0, query_relations).unsqueeze(1)
        bucket = scaled.long()
        entry = (self.row_start.index_select(0, query_relations).unsqueeze(1) + bucket).view(-1)
        alias = (scaled.view(-1) - bucket.view(-1) >= self.threshold.index_select(0, entry)).long()
        choice = 2 * entry + alias
        entities = self.outcomes.view(-1).index_select(0, choice).view(u.shape)
        probabilities = None
        if with_probabilities:
            probabilities = self.outcome_probabilities.view(-1).index_select(0, choice).view(u.shape)
        return entities, probabilities, drawn

    def probability(self, query_relations: Tensor, entities: Tensor) -> Tensor:
        """``p(e | q)`` ``(B, n)`` of ``entities`` ``(B, n)`` under each row's query relation."""
        wanted = query_relations.unsqueeze(1).long() * self.num_nodes + entities.long()
        if not len(self.keys):
            return torch.zeros(wanted.shape, device=wanted.device)
        position = torch.searchsorted(self.keys, wanted).clamp(max=len(self.keys) - 1)
        return torch.where(self.keys[position] == wanted, self.probabilities[position], 0.0)

    def nbytes(self) -> int:
        tensors = (self.keys, self.probabilities, self.threshold, self.outcomes, self.outcome_probabilities)
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
    probability = torch.cat(probabilities).double() if probabilities else torch.zeros(0, device=device).double()
    num_rows = len(cache.available)
    rows_of = keys_all // num_nodes
    totals = torch.zeros(num_rows, dtype=torch.float64, device=device).index_add_(0, rows_of, probability)
    probability = probability / totals[rows_of].clamp(min=1e-300)
    start = torch.zeros(num_rows + 1, dtype=torch.long, device=device)
    start[1:] = torch.bincount(rows_of, minlength=num_rows).cumsum(0)
    threshold, alias = _alias_buckets(probability, rows_of, start)
    outcomes = torch.stack([torch.arange(len(keys_all), device=device), alias], dim=1)
    return EntityTable(
        keys_all,
        probability.float(),
        threshold,
        keys_all[outcomes] % num_nodes,
        probability.float()[outcomes],
        start,
        cache.available & (totals > 0),
        num_nodes,
    )


def _alias_buckets(probability: Tensor, rows_of: Tensor, start: Tensor) -> tuple[Tensor, Tensor]:
    """``(threshold, alias)`` ``(S,)`` of every row's alias buckets (module docstring): ``probability`` sums to 1
    within each row; ``alias`` are positions in the table."""
    size = start.diff().double()[rows_of]
    scaled = probability * size  # the mean of a row is 1
    light = scaled <= 1
    deficit, excess = torch.where(light, 1 - scaled, 0.0), torch.where(light, 0.0, scaled - 1)
    # where each light's deficit and each heavy's excess starts on its row's line (exclusive prefix sums)
    deficit_start, excess_start = _row_prefix(deficit, rows_of, start), _row_prefix(excess, rows_of, start)
    lights, heavies = light.nonzero().squeeze(1), (~light).nonzero().squeeze(1)
    # one sorted line over all rows: row q's points at 2q + x / n, x in [0, n]
    line_of = lambda x, at: 2 * rows_of[at].double() + x / size[at]  # noqa: E731
    heavy_line, light_line = line_of(excess_start[heavies], heavies), line_of(deficit_start[lights], lights)
    threshold = torch.ones_like(probability)
    alias = torch.arange(len(probability), device=probability.device)
    # a light's alias: the heavy whose excess holds the start of its deficit (none in a row of equal entries)
    if len(heavies):
        holder = heavies[(torch.searchsorted(heavy_line, light_line, right=True) - 1).clamp(min=0)]
        same_row = rows_of[holder] == rows_of[lights]
        threshold[lights] = torch.where(same_row, scaled[lights], 1.0)
        alias[lights] = torch.where(same_row, holder, lights)
    # a heavy's own bucket: the overhang of the light deficit its excess ends inside, lent by the next heavy
    if len(heavies) > 1 and len(lights):
        end = excess_start[heavies] + excess[heavies]
        inside = lights[(torch.searchsorted(light_line, line_of(end, heavies)) - 1).clamp(min=0)]
        overhang = (deficit_start[inside] + deficit[inside] - end).clamp(min=0)
        has_next = torch.zeros_like(heavies, dtype=torch.bool)
        has_next[:-1] = rows_of[heavies[1:]] == rows_of[heavies[:-1]]
        lends = has_next & (rows_of[inside] == rows_of[heavies]) & (overhang > 0)
        threshold[heavies] = torch.where(lends, 1 - overhang, 1.0)
        alias[heavies[lends]] = heavies[1:][lends[:-1]]
    return threshold.clamp(0, 1), alias


def _row_prefix(values: Tensor, rows_of: Tensor, start: Tensor) -> Tensor:
    """Exclusive prefix sums of ``values`` within each row."""
    inclusive = values.cumsum(0)
    before_row = torch.cat([inclusive.new_zeros(1), inclusive])[start[:-1]]
    return inclusive - values - before_row[rows_of]


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
