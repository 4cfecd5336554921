"""The hard-negative ratio of a hybrid sampler as a function of training progress.

KMAS (Liu et al., 2026) mixes hard and random negatives with a scheduled ratio: none during a warmup,
then a linear rise, then a linear decay. :class:`HardRatioSchedule` is a plain object held by the sampler
(``sampler.init_args.schedule`` in YAML); the sampler asks it for the ratio at every training batch start.
Progress is read from ``trainer.global_step`` / ``trainer.current_epoch``, which a checkpoint restores, so
a resumed run follows the same schedule without any state of its own.
"""

from __future__ import annotations

import math
from typing import Literal

import pytorch_lightning as pl

from lit_kgns.errors import ConfigError
from lit_kgns.options import check_choice

Shape = Literal["linear", "cosine", "constant"]
Unit = Literal["step", "epoch"]


class HardRatioSchedule:
    """Piecewise hard-negative ratio ``ρ(p)`` over training progress ``p ∈ [0, 1]``.

    With ``w = warmup_end``, ``m = peak_at``, ``ρ_max = peak_ratio``, ``ρ_end = end_ratio``:

    * ``linear``: ``ρ = 0`` for ``p < w``; ``ρ_max (p - w) / (m - w)`` for ``w <= p <= m``;
      ``ρ_max + (ρ_end - ρ_max) (p - m) / (1 - m)`` for ``p > m`` (``ρ_max`` on a zero-length segment).
    * ``cosine``: same breakpoints, each ramp a half cosine, e.g. ``ρ_max (1 - cos(π t)) / 2`` on the rise.
    * ``constant``: ``0`` for ``p < w``, ``ρ_max`` afterwards (``peak_at`` and ``end_ratio`` are unused).

    Args:
        shape: ``linear``, ``cosine`` or ``constant``.
        peak_ratio: maximal share of hard negatives, in ``[0, 1]``.
        warmup_end: progress at which the ramp starts (ratio 0 before).
        peak_at: progress at which ``peak_ratio`` is reached.
        end_ratio: ratio at the end of training, in ``[0, 1]``.
        unit: ``step``: ``p = global_step / total`` (``total`` defaults to
            ``trainer.estimated_stepping_batches``); ``epoch``: ``p = current_epoch / total`` (``total``
            defaults to ``trainer.max_epochs``), so the ratio changes at epoch boundaries only.
        total: number of steps or epochs that ``p = 1`` stands for; ``None`` takes it from the Trainer.
    """

    def __init__(
        self,
        shape: Shape = "linear",
        peak_ratio: float = 0.5,
        warmup_end: float = 0.1,
        peak_at: float = 0.5,
        end_ratio: float = 0.1,
        unit: Unit = "step",
        total: int | None = None,
    ) -> None:
        check_choice("schedule shape", shape, Shape)
        check_choice("schedule unit", unit, Unit)
        for name, value in (("peak_ratio", peak_ratio), ("end_ratio", end_ratio)):
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} must lie in [0, 1], got {value}")
        for name, value in (("warmup_end", warmup_end), ("peak_at", peak_at)):
            if value < 0:
                raise ConfigError(f"{name} must be non-negative, got {value}")
        if not 0.0 <= warmup_end <= peak_at <= 1.0:
            raise ConfigError(
                f"breakpoints must satisfy 0 <= warmup_end <= peak_at <= 1, got warmup_end={warmup_end}, "
                f"peak_at={peak_at}"
            )
        if total is not None and total < 1:
            raise ConfigError(f"total must be a positive number of {unit}s or null, got {total}")
        self.shape = shape
        self.peak_ratio = float(peak_ratio)
        self.warmup_end = float(warmup_end)
        self.peak_at = float(peak_at)
        self.end_ratio = float(end_ratio)
        self.unit = unit
        self.total = total

    def __repr__(self) -> str:
        return (
            f"HardRatioSchedule(shape={self.shape!r}, peak_ratio={self.peak_ratio}, "
            f"warmup_end={self.warmup_end}, peak_at={self.peak_at}, end_ratio={self.end_ratio}, "
            f"unit={self.unit!r}, total={self.total})"
        )

    def ratio_at(self, progress: float) -> float:
        """``ρ(p)`` for ``p`` clamped to ``[0, 1]`` (a pure function of the arguments above)."""
        p = min(max(float(progress), 0.0), 1.0)
        if p < self.warmup_end:
            return 0.0
        if self.shape == "constant":
            return self.peak_ratio
        if p <= self.peak_at:
            start, stop, low, high = self.warmup_end, self.peak_at, 0.0, self.peak_ratio
        else:
            start, stop, low, high = self.peak_at, 1.0, self.peak_ratio, self.end_ratio
        t = 1.0 if stop <= start else (p - start) / (stop - start)
        if self.shape == "cosine":
            t = (1.0 - math.cos(math.pi * t)) / 2.0
        return low + (high - low) * t

    def progress(self, trainer: pl.Trainer) -> float:
        """Training progress in ``[0, 1]`` from the Trainer's restored counters."""
        if self.unit == "epoch":
            total = self.total or trainer.max_epochs
            if total is None or total < 1:
                raise ConfigError("an epoch schedule needs trainer.max_epochs or `total`")
            return trainer.current_epoch / total
        total = self.total or trainer.estimated_stepping_batches
        if not math.isfinite(total) or total < 1:
            raise ConfigError(
                "a step schedule needs a finite trainer.estimated_stepping_batches (max_steps) or `total`"
            )
        return trainer.global_step / total

    def __call__(self, trainer: pl.Trainer) -> float:
        """The ratio at the Trainer's current step or epoch."""
        return self.ratio_at(self.progress(trainer))
