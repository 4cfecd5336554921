"""One refresh rule for every model-driven sampler and the KMAS diagnostics."""

from __future__ import annotations

import pytest

from lit_kgns.errors import ConfigError
from lit_kgns.samplers.refresh import RefreshSchedule


def refreshed_steps(schedule: RefreshSchedule, steps: int, epoch_length: int) -> list[int]:
    """Steps at which a run of ``steps`` steps refreshes: at fit start, then as the schedule says."""
    schedule.done(0, 0)  # fit start
    seen = [0]
    for step in range(steps):
        epoch = step // epoch_length
        if step % epoch_length == 0 and schedule.due_at_epoch(epoch):
            schedule.done(step, epoch)
            seen.append(step)
        if schedule.due_at_step(step):
            schedule.done(step, epoch)
            seen.append(step)
    return seen


def test_steps_take_precedence_over_epochs_and_nothing_refreshes_twice() -> None:
    assert refreshed_steps(RefreshSchedule(every_n_steps=4, every_n_epochs=1), 13, 5) == [0, 4, 8, 12]
    assert refreshed_steps(RefreshSchedule(every_n_steps=None, every_n_epochs=2), 25, 5) == [0, 10, 20]
    assert refreshed_steps(RefreshSchedule(every_n_steps=None, every_n_epochs=None), 25, 5) == [0]


def test_a_restored_schedule_keeps_its_rhythm() -> None:
    first = RefreshSchedule(every_n_steps=4)
    first.done(8, 1)
    resumed = RefreshSchedule(every_n_steps=4)
    resumed.load(first.state())
    assert [step for step in range(9, 14) if resumed.due_at_step(step)] == [12, 13]  # due from step 12 on
    assert first.state() == {"last_refresh_step": 8, "last_refresh_epoch": 1}


@pytest.mark.parametrize("bad", [0, -3])
def test_periods_must_be_positive(bad: int) -> None:
    with pytest.raises(ConfigError, match="refresh_every_n_steps must be a positive integer or null"):
        RefreshSchedule(every_n_steps=bad)
