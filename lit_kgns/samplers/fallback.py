"""Drawing negatives from CSR pool ranges, and what to do when a pool is empty or smaller than ``K``.

A *pool range* is, per positive, a contiguous slice ``flat[start : start + count]`` of a flat entity array.
Drawing is vectorised: one uniform offset per slot, then a single gather.

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
from typing import Literal

import torch
from torch import Tensor

from lit_kgns.data.triple_index import expand_ranges
from lit_kgns.errors import ConfigError
from lit_kgns.options import check_choice

Fallback = Literal["integrate", "mask", "widen", "repeat"]

#: Below this size ``floor(u * size)`` with a float32 ``u < 1`` is always below ``size``: the product rounds
#: down (its distance to ``size``, ``size * 2**-24``, exceeds half a float32 step there, or is exact at powers
#: of two). At or above it the result is clamped.
FLOAT_EXACT = 1 << 24


@dataclass
class PoolRanges:
    """Per-row pool slices ``flat[start : start + count]``."""

    flat: Tensor  # (P,) entity ids
    start: Tensor  # (B,)
    count: Tensor  # (B,)

    def gather(self, offsets: Tensor) -> Tensor:
        """Entities at eligible offsets ``(B, K)`` in ``[0, count)`` (rows with nothing give entity 0).

        Positions are computed in ``offsets``' dtype (int32 in :func:`draw`: half the memory traffic of
        int64, which dominates these whole-batch passes on CPU); the result has the dtype of ``flat``."""
        if len(self.flat) == 0:
            return torch.zeros_like(offsets)
        position = offsets + self.start.to(offsets.dtype).unsqueeze(1)
        # Slots past a short pool (invalid, filled later) may point past the table: clamped.
        # index_select on the flat view: several times faster on CPU than advanced indexing.
        return self.flat.index_select(0, position.clamp_(0, len(self.flat) - 1).view(-1)).view(position.shape)

    def members(self) -> tuple[Tensor, Tensor]:
        """Flat ``(rows, entities)`` of every eligible pool entry (multiset), for statistics."""
        available = self.count.clamp(min=0)
        rows, offsets = expand_ranges(torch.zeros_like(available), available)
        if len(rows) == 0:
            return rows, rows
        return rows, self.flat[self.start[rows] + offsets].long()


def draw(
    ranges: PoolRanges, num: int, generator: torch.Generator, exhaust_small: bool = True
) -> tuple[Tensor, Tensor, Tensor]:
    """``(entities, valid, uniform)`` ``(B, num)`` drawn uniformly with replacement from each row's pool.

    With ``exhaust_small``, a row with ``0 < available < num`` takes each pool entry once in its first
    ``available`` slots and leaves the rest invalid (to be filled by the fallback). ``uniform`` holds the
    ``[0, 1)`` draw of each slot, unused by the slots that took a pool entry once: the fallback draws from it.
    Everything is whole-batch int32 arithmetic (no per-row indexing), since on sparse pools most rows are
    short; ``entities`` has the dtype of the pool table.
    """
    available = ranges.count.clamp(min=0).to(torch.int32).unsqueeze(1)
    uniform = torch.rand(len(available), num, generator=generator, device=available.device)
    if exhaust_small:
        slots = torch.arange(num, dtype=torch.int32, device=available.device).unsqueeze(0)
        valid = slots < available
        # Short rows take their pool in order; only the rows holding at least ``num`` entries draw offsets
        # (on sparse pools most rows are short, and a whole-batch ``where`` costs several arithmetic passes).
        offsets = slots.expand(len(available), -1).clone()
        full = (available.squeeze(1) >= num).nonzero().squeeze(1)
        offsets[full] = random_offsets(uniform[full], available[full], len(ranges.flat))
    else:
        valid = (available > 0).expand(-1, num).clone()
        offsets = random_offsets(uniform, available, len(ranges.flat))
    return ranges.gather(offsets), valid, uniform


def random_offsets(uniform: Tensor, available: Tensor, largest: int) -> Tensor:
    """``floor(uniform * available)`` as int32, kept below ``available`` despite float rounding (which can
    only reach it when ``available``, at most ``largest``, is at least :data:`FLOAT_EXACT`)."""
    offsets = (uniform * available).to(torch.int32)  # floor: the draw is non-negative
    return torch.minimum(offsets, (available - 1).clamp(min=0)) if largest >= FLOAT_EXACT else offsets


def uniform_entities(uniform: Tensor, num_entities: int) -> Tensor:
    """Uniform entity ids ``floor(uniform * num_entities)`` as int32."""
    return random_offsets(uniform, torch.tensor(num_entities, dtype=torch.int32), num_entities)


def shifted(values: Tensor, shift: Tensor) -> Tensor:
    """``values[:, j - shift]`` per row (clamped at 0): a fresh draw placed behind the first ``shift``
    slots."""
    index = (torch.arange(values.shape[1], device=values.device).unsqueeze(0) - shift.unsqueeze(1)).clamp(min=0)
    return values.gather(1, index)


def fallback_slots(available: Tensor, num: int, mode: str) -> Tensor:
    """``(B, num)``: the slots :func:`fill` does not take from the row's own pool of ``available`` entries
    (uniform or widened, or left empty by ``mask`` / ``repeat``)."""
    if mode == "repeat":
        return (available <= 0).unsqueeze(1).expand(-1, num)
    slots = torch.arange(num, device=available.device).unsqueeze(0)
    return slots >= available.clamp(min=0).unsqueeze(1)


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
    check_choice("fallback", mode, Fallback)
    entities, valid, uniform = draw(ranges, num, generator, exhaust_small=mode != "repeat")
    from_fallback = ~valid
    if mode in ("mask", "repeat"):
        return entities.long(), valid, from_fallback
    if mode == "widen":
        if widen is None:
            raise ConfigError("the widen fallback needs the Corrupt pools")
        used = valid.sum(dim=1)
        # The widened pool fills the remaining slots the same way (each entry once if it is too small).
        extra, extra_valid, _ = draw(widen, num, generator, exhaust_small=True)
        extra, extra_valid = shifted(extra, used), shifted(extra_valid, used)
        take = ~valid & extra_valid
        entities, valid = torch.where(take, extra.to(entities.dtype), entities), valid | take
    entities = torch.where(valid, entities, uniform_entities(uniform, num_entities).to(entities.dtype))
    return entities.long(), torch.ones_like(valid), from_fallback
