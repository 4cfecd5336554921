"""HardRatioSchedule: exact values at and between breakpoints, validation, progress from the Trainer."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from lit_kgns.samplers import HardRatioSchedule


def test_linear_values_at_and_between_breakpoints() -> None:
    schedule = HardRatioSchedule("linear", peak_ratio=0.6, warmup_end=0.2, peak_at=0.5, end_ratio=0.1)
    assert schedule.ratio_at(0.0) == 0.0
    assert schedule.ratio_at(0.1999) == 0.0
    assert schedule.ratio_at(0.2) == 0.0
    assert schedule.ratio_at(0.35) == pytest.approx(0.3)
    assert schedule.ratio_at(0.5) == pytest.approx(0.6)
    assert schedule.ratio_at(0.75) == pytest.approx(0.35)
    assert schedule.ratio_at(1.0) == pytest.approx(0.1)
    # progress is clamped
    assert schedule.ratio_at(-1.0) == 0.0
    assert schedule.ratio_at(2.0) == pytest.approx(0.1)


def test_zero_length_segments() -> None:
    jump = HardRatioSchedule("linear", peak_ratio=0.4, warmup_end=0.3, peak_at=0.3, end_ratio=0.4)
    assert jump.ratio_at(0.29) == 0.0
    assert jump.ratio_at(0.3) == pytest.approx(0.4)
    assert jump.ratio_at(0.9) == pytest.approx(0.4)
    late = HardRatioSchedule("linear", peak_ratio=0.5, warmup_end=0.0, peak_at=1.0, end_ratio=0.0)
    assert late.ratio_at(1.0) == pytest.approx(0.5)
    assert late.ratio_at(0.5) == pytest.approx(0.25)


def test_cosine_and_constant() -> None:
    cosine = HardRatioSchedule("cosine", peak_ratio=0.8, warmup_end=0.0, peak_at=0.5, end_ratio=0.0)
    assert cosine.ratio_at(0.25) == pytest.approx(0.8 * (1 - math.cos(math.pi / 2)) / 2)
    assert cosine.ratio_at(0.5) == pytest.approx(0.8)
    assert cosine.ratio_at(0.75) == pytest.approx(0.4)
    assert cosine.ratio_at(1.0) == pytest.approx(0.0)
    constant = HardRatioSchedule("constant", peak_ratio=0.25, warmup_end=0.1)
    assert constant.ratio_at(0.05) == 0.0
    assert constant.ratio_at(0.1) == 0.25
    assert constant.ratio_at(1.0) == 0.25


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"peak_ratio": 1.5}, r"peak_ratio must lie in \[0, 1\]"),
        ({"peak_ratio": -0.1}, r"peak_ratio must lie in \[0, 1\]"),
        ({"end_ratio": 2.0}, r"end_ratio must lie in \[0, 1\]"),
        ({"warmup_end": -0.1}, "warmup_end must be non-negative"),
        ({"warmup_end": 0.6, "peak_at": 0.5}, "0 <= warmup_end <= peak_at <= 1"),
        ({"peak_at": 1.2}, "0 <= warmup_end <= peak_at <= 1"),
        ({"shape": "exponential"}, "schedule shape must be one of"),
        ({"unit": "sample"}, "schedule unit must be one of"),
        ({"total": 0}, "total must be a positive number"),
    ],
)
def test_bad_options_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HardRatioSchedule(**kwargs)


def test_progress_from_trainer_counters() -> None:
    trainer = SimpleNamespace(global_step=50, estimated_stepping_batches=100, current_epoch=1, max_epochs=4)
    steps = HardRatioSchedule("linear", peak_ratio=0.5, warmup_end=0.0, peak_at=0.5, end_ratio=0.0)
    assert steps.progress(trainer) == 0.5
    assert steps(trainer) == pytest.approx(0.5)
    epochs = HardRatioSchedule("linear", peak_ratio=0.5, warmup_end=0.0, peak_at=0.5, end_ratio=0.0, unit="epoch")
    assert epochs.progress(trainer) == 0.25
    assert epochs(trainer) == pytest.approx(0.25)
    fixed = HardRatioSchedule(unit="step", total=200)
    assert fixed.progress(trainer) == 0.25
    endless = SimpleNamespace(global_step=5, estimated_stepping_batches=float("inf"))
    with pytest.raises(ValueError, match="finite"):
        steps.progress(endless)
