"""Drawing negatives from CSR pool ranges, and what to do when a pool is empty or smaller than ``K``.

A *pool range* is, per positive, a contiguous slice ``flat[start : start + count]`` of a flat entity array,
optionally with one contiguous sub-slice ``[skip_start, skip_start + skip_count)`` left out (Relational's
"other relations than ``r``"). Drawing is vectorised: one uniform offset per slot, shifted over the skipped
sub-slice, then a single gather.

Fallback modes for a row whose pool holds ``a < K`` entries:

* ``integrate`` (the extension's ``integrate=True``): every pool entry once, the other ``K - a`` slots uniform
  over all entities;
* ``mask``: every pool entry once, the other slots masked (they hold no negative; an empty pool gives none);
* ``widen``: every pool entry once, then the Corrupt pool of the relation (observed domain / range) the
  same way, then uniform;
* ``repeat`` (the extension's ``integrate=False``): draw ``K`` times with replacement from a non-empty pool;
  an empty pool gives no negatives (masked).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lit_kgns.data.triple_index import expand_ranges

FALLBACKS = ("integrate", "mask", "widen", "repeat")


@dataclass
class PoolRanges:
    """Per-row pool slices into ``flat``; ``available = count - skip_count`` entries are eligible."""

    flat: Tensor  # (P,) entity ids
    start: Tensor  # (B,)
    count: Tensor  # (B,)
    skip_start: Tensor | None = None  # (B,) absolute offset into ``flat``
    skip_count: Tensor | None = None  # (B,)

    @property
    def available(self) -> Tensor:
        return self.count if self.skip_count is None else self.count - self.skip_count

    def gather(self, offsets: Tensor) -> Tensor:
        """Entities at eligible offsets ``(B, K)`` in ``[0, available)`` (rows with nothing give entity 0)."""
        position = offsets + self.start.unsqueeze(1)
        if self.skip_count is not None:
            # Offsets at or past the skipped slice jump over it.
            position += (position >= self.skip_start.unsqueeze(1)) * self.skip_count.unsqueeze(1)
        if len(self.flat) == 0:
            return torch.zeros_like(position)
        # index_select on the flat view: several times faster on CPU than advanced indexing.
        return self.flat.index_select(0, position.clamp_(0, len(self.flat) - 1).view(-1)).view(position.shape)

    def members(self) -> tuple[Tensor, Tensor]:
        """Flat ``(rows, entities)`` of every eligible pool entry (multiset), for statistics."""
        available = self.available.clamp(min=0)
        rows, offsets = expand_ranges(torch.zeros_like(available), available)
        if len(rows) == 0:
            return rows, rows
        return rows, self.gather_flat(rows, offsets)

    def gather_flat(self, rows: Tensor, offsets: Tensor) -> Tensor:
        position = self.start[rows] + offsets
        if self.skip_count is not None:
            position = position + (position >= self.skip_start[rows]) * self.skip_count[rows]
        return self.flat[position]


def random_bits(shape: tuple[int, int], generator: torch.Generator, device: torch.device) -> Tensor:
    """Uniform 31-bit integers (int64): one draw per slot serves both the pool offset and a uniform fallback.

    Each 63-bit draw of ``random_`` is split into two 32-bit halves, masked to 31 bits: half the generator
    calls of ``randint``, which dominates the cost of a pool sampler."""
    count = shape[0] * shape[1]
    raw = torch.empty((count + 1) // 2, dtype=torch.int64, device=device).random_(generator=generator)
    return raw.view(torch.int32)[:count].view(shape).to(torch.int64).bitwise_and_(0x7FFF_FFFF)


def scaled(bits: Tensor, size: Tensor | int) -> Tensor:
    """``floor(bits * size / 2**31)``: uniform integers in ``[0, size)`` from :func:`random_bits` (a bias
    below ``size / 2**31``, like drawing with a 32-bit float)."""
    return (bits * size) >> 31


def draw(
    ranges: PoolRanges, num: int, generator: torch.Generator, exhaust_small: bool = True
) -> tuple[Tensor, Tensor, Tensor]:
    """``(entities, valid, bits)`` ``(B, num)`` drawn uniformly with replacement from each row's pool.

    With ``exhaust_small``, a row with ``0 < available < num`` takes each pool entry once in its first
    ``available`` slots and leaves the rest invalid (to be filled by the fallback). ``bits`` are the random
    bits of each slot, unused by the slots that took a pool entry once: the fallback draws from them.
    Everything is whole-batch arithmetic (no per-row indexing), since on sparse pools most rows are short.
    """
    available = ranges.available.clamp(min=0).unsqueeze(1)
    bits = random_bits((len(available), num), generator, available.device)
    offsets = scaled(bits, available)
    if exhaust_small:
        slots = torch.arange(num, device=available.device).unsqueeze(0)
        valid = slots < available
        offsets = torch.where(available < num, slots, offsets)
    else:
        valid = (available > 0).expand(-1, num).clone()
    return ranges.gather(offsets), valid, bits


def shifted(values: Tensor, shift: Tensor) -> Tensor:
    """``values[:, j - shift]`` per row (clamped at 0): a fresh draw placed behind the first ``shift``
    slots."""
    index = (torch.arange(values.shape[1], device=values.device).unsqueeze(0) - shift.unsqueeze(1)).clamp(min=0)
    return values.gather(1, index)


def fill(
    ranges: PoolRanges,
    num: int,
    mode: str,
    num_entities: int,
    generator: torch.Generator,
    widen: PoolRanges | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Draw ``num`` negatives per row with fallback ``mode``.

    Returns ``(entities, valid, from_fallback)``, all ``(B, num)``; ``from_fallback`` marks slots that did not
    come from the row's own pool (uniform or widened), or that the ``mask`` / ``repeat`` modes left empty.
    """
    if mode not in FALLBACKS:
        raise ValueError(f"fallback must be one of {FALLBACKS}, got {mode!r}")
    entities, valid, bits = draw(ranges, num, generator, exhaust_small=mode != "repeat")
    from_fallback = ~valid
    if mode in ("mask", "repeat"):
        return entities, valid, from_fallback
    if mode == "widen":
        if widen is None:
            raise ValueError("the widen fallback needs the Corrupt pools")
        used = valid.sum(dim=1)
        # The widened pool fills the remaining slots the same way (each entry once if it is too small).
        extra, extra_valid, _ = draw(widen, num, generator, exhaust_small=True)
        extra, extra_valid = shifted(extra, used), shifted(extra_valid, used)
        take = ~valid & extra_valid
        entities, valid = torch.where(take, extra, entities), valid | take
    entities = torch.where(valid, entities, scaled(bits, num_entities))
    return entities, torch.ones_like(valid), from_fallback
