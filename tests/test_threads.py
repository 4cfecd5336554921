"""torch's thread count follows the cores other processes leave free; a fixed count is an option."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from lit_kgns import threads
from lit_kgns.errors import ConfigError
from lit_kgns.threads import CoreMonitor, FollowFreeCores


class Clock:
    """The machine's busy seconds, this process's CPU seconds and the wall clock, set by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.wall, self.machine, self.own = 0.0, 0.0, 0.0
        monkeypatch.setattr(threads.time, "monotonic", lambda: self.wall)
        monkeypatch.setattr(threads.time, "process_time", lambda: self.own)
        monkeypatch.setattr(threads, "_machine_busy_seconds", lambda: self.machine)
        monkeypatch.setattr(threads, "usable_cores", lambda: 4)

    def advance(self, seconds: float, own_cores: float, other_cores: float) -> None:
        self.wall += seconds
        self.own += seconds * own_cores
        self.machine += seconds * (own_cores + other_cores)


def test_free_cores_are_the_usable_ones_less_what_other_processes_kept_busy(monkeypatch) -> None:
    clock = Clock(monkeypatch)
    monitor = CoreMonitor()
    clock.advance(2.0, own_cores=3.0, other_cores=1.0)  # our own use never counts against us
    assert monitor.free_cores() == 3
    clock.advance(1.0, own_cores=1.0, other_cores=2.6)
    assert monitor.free_cores() == 1  # 4 - 2.6 rounds to 1
    clock.advance(1.0, own_cores=0.5, other_cores=8.0)
    assert monitor.free_cores() == 1  # never fewer than one
    clock.advance(1.0, own_cores=0.0, other_cores=0.0)
    assert monitor.free_cores(limit=2) == 2  # a share of the cores caps it


def test_without_proc_stat_the_count_is_left_to_torch(monkeypatch) -> None:
    monkeypatch.setattr(threads, "_PROC_STAT", threads.Path("/nonexistent/stat"))
    assert threads._machine_busy_seconds() is None
    assert CoreMonitor().free_cores() is None


def test_the_callback_follows_the_load_and_restores_the_count_it_found(monkeypatch) -> None:
    clock = Clock(monkeypatch)
    monkeypatch.setattr(threads, "free_cores_now", lambda window=0.2, limit=None: 2)
    initial = torch.get_num_threads()
    callback = FollowFreeCores(every_n_batches=2)
    trainer = SimpleNamespace(num_devices=2)  # two ranks on this machine: each gets at most 4 // 2 cores
    try:
        callback.setup(trainer, None, "fit")
        assert callback.max_threads == 2 and torch.get_num_threads() == 2
        clock.advance(1.0, own_cores=2.0, other_cores=3.0)
        callback.on_train_batch_start()
        assert torch.get_num_threads() == 2  # read every second batch only
        callback.on_train_batch_start()
        assert torch.get_num_threads() == 1
        clock.advance(1.0, own_cores=1.0, other_cores=0.0)
        callback.on_test_batch_start()
        callback.on_test_batch_start()
        assert torch.get_num_threads() == 2
    finally:
        callback.teardown(trainer, None, "fit")
    assert torch.get_num_threads() == initial


def test_a_fixed_thread_count_is_an_option(tmp_path) -> None:
    from lit_kgns.cli import cli_main

    initial = torch.get_num_threads()
    try:
        options = ["--data.dataset=nations", "--threads=1", f"--trainer.default_root_dir={tmp_path}"]
        options += ["--model.backbone=lit_kgns.backbones.DistMult", "--trainer.limit_val_batches=1"]
        cli = cli_main(["validate", *options, "--trainer.logger=false", "--trainer.enable_progress_bar=false"])
        assert torch.get_num_threads() == 1
        assert not any(isinstance(callback, FollowFreeCores) for callback in cli.trainer.callbacks)
    finally:
        torch.set_num_threads(initial)
    with pytest.raises(ConfigError, match="threads"):
        cli_main(["validate", "--data.dataset=nations", "--threads=0", "--model.backbone=lit_kgns.backbones.DistMult"])


def test_only_the_cores_this_process_may_run_on_count(tmp_path, monkeypatch) -> None:
    # user nice system idle iowait irq softirq steal, in clock ticks
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  600 0 60 900 30 0 0 0\n"
        "cpu0 100 0 10 300 10 0 0 0\n"
        "cpu1 400 0 40 300 10 0 0 0\n"
        "cpu2 100 0 10 300 10 0 0 0\n"
        "intr 12345\n"
    )
    monkeypatch.setattr(threads, "_PROC_STAT", stat)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 2}, raising=False)
    ticks = threads.os.sysconf("SC_CLK_TCK")
    assert threads._machine_busy_seconds() == pytest.approx((110 + 110) / ticks)  # cpu1, busy elsewhere, left out
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {7}, raising=False)  # no such line: all
    assert threads._machine_busy_seconds() == pytest.approx(660 / ticks)
