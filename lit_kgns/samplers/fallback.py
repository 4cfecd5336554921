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
        position = self.start.unsqueeze(1) + offsets
        if self.skip_count is not None:
            # Offsets at or past the skipped slice jump over it.
            jump = position >= self.skip_start.unsqueeze(1)
            position = position + jump * self.skip_count.unsqueeze(1)
        if len(self.flat) == 0:
            return torch.zeros_like(position)
        return self.flat[position.clamp(0, len(self.flat) - 1)]

    def members(self) -> tuple[Tensor, Tensor]:
        """Flat ``(rows, entities)`` of every eligible pool entry (multiset), for statistics."""
        available = self.available.clamp(min=0)
        rows = torch.repeat_interleave(torch.arange(len(available), device=available.device), available)
        offsets = torch.arange(int(available.sum()), device=available.device) - torch.repeat_interleave(
            available.cumsum(0) - available, available
        )
        if len(rows) == 0:
            return rows, rows
        return rows, self.gather_flat(rows, offsets)

    def gather_flat(self, rows: Tensor, offsets: Tensor) -> Tensor:
        position = self.start[rows] + offsets
        if self.skip_count is not None:
            position = position + (position >= self.skip_start[rows]) * self.skip_count[rows]
        return self.flat[position]


def draw(
    ranges: PoolRanges, num: int, generator: torch.Generator, exhaust_small: bool = True
) -> tuple[Tensor, Tensor]:
    """``(entities, valid)`` ``(B, num)`` drawn uniformly with replacement from each row's pool.

    With ``exhaust_small``, a row with ``0 < available < num`` takes each pool entry once in its first
    ``available`` slots and leaves the rest invalid (to be filled by the fallback).
    """
    available = ranges.available.clamp(min=0)
    batch = len(available)
    device = available.device
    uniform = torch.rand(batch, num, generator=generator, device=device)
    offsets = (uniform * available.unsqueeze(1)).long().clamp(max=(available - 1).clamp(min=0).unsqueeze(1))
    slots = torch.arange(num, device=device).expand(batch, num)
    valid = (available > 0).unsqueeze(1).expand(batch, num)
    if exhaust_small:
        small = (available < num).unsqueeze(1)
        offsets = torch.where(small, slots, offsets)
        valid = slots < available.unsqueeze(1)
    entities = ranges.gather(offsets.clamp(max=(available - 1).clamp(min=0).unsqueeze(1)))
    return entities, valid.clone()


def shifted(values: Tensor, shift: Tensor) -> Tensor:
    """``values[:, j - shift]`` per row (clamped at 0): a fresh draw placed behind the first ``shift``
    slots."""
    index = (torch.arange(values.shape[1], device=values.device).unsqueeze(0) - shift.unsqueeze(1)).clamp(
        min=0
    )
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
    entities, valid = draw(ranges, num, generator, exhaust_small=mode != "repeat")
    from_fallback = ~valid
    if mode in ("mask", "repeat"):
        return entities, valid, from_fallback
    if mode == "widen":
        if widen is None:
            raise ValueError("the widen fallback needs the Corrupt pools")
        used = valid.sum(dim=1)
        # The widened pool fills the remaining slots the same way (each entry once if it is too small).
        extra, extra_valid = draw(widen, num, generator, exhaust_small=True)
        extra, extra_valid = shifted(extra, used), shifted(extra_valid, used)
        take = ~valid & extra_valid
        entities = torch.where(take, extra, entities)
        valid = valid | take
    uniform = torch.randint(num_entities, entities.shape, generator=generator, device=entities.device)
    entities = torch.where(valid, entities, uniform)
    return entities, torch.ones_like(valid), from_fallback
