"""torch's thread count, following the cores other processes leave free.

torch splits each operator over its threads and waits for the slowest at the end of the operator. When one of
those threads shares its core with another busy process it runs at half speed or less, every operator waits for
it, and the waiting threads spin: on a 2-core machine with one busy Python loop beside it, a ULTRA step on
FB15k-237 took 5× its idle time with 2 threads and 1.1× with 1 (``benchmarks/contention.py``). So the thread
count should be the number of cores nobody else is using, measured, and measured again as the load changes.

:class:`CoreMonitor` reads the busy time of the cores this process may run on (``/proc/stat``) and this
process's own CPU time over an interval; what those cores spent beyond this process is the other processes'
load. :class:`FollowFreeCores` re-reads it every few batches and sets ``torch.set_num_threads`` to the cores left
free (at least 1, at most this process's share of the cores it may run on). Where ``/proc/stat`` is missing
(macOS, Windows) torch's own count is kept.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

_PROC_STAT = Path("/proc/stat")
#: Shortest interval read: the machine's busy time advances in clock ticks (10 ms), too coarse below this.
_MIN_INTERVAL_SECONDS = 0.1


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _machine_busy_seconds() -> float | None:
    """Busy CPU seconds since boot, summed over the cores this process may run on (its affinity: a cluster job
    sees its own cores, not the node's); ``None`` without ``/proc/stat``."""
    try:
        lines = _PROC_STAT.read_text().splitlines()
    except OSError:
        return None
    try:
        mine = {f"cpu{core}" for core in os.sched_getaffinity(0)}
    except AttributeError:
        mine = set()
    # user nice system idle iowait irq softirq steal ...: busy is everything but idle and iowait
    rows = [line.split() for line in lines if line.startswith("cpu")]
    chosen = [row for row in rows if row[0] in mine] or [row for row in rows if row[0] == "cpu"]
    busy = 0
    for row in chosen:
        ticks = [int(value) for value in row[1:]]
        busy += sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)
    return busy / os.sysconf("SC_CLK_TCK")


class CoreMonitor:
    """Cores other processes kept busy since the last reading."""

    def __init__(self) -> None:
        self._last = self._reading()

    @staticmethod
    def _reading() -> tuple[float, float | None, float]:
        return time.monotonic(), _machine_busy_seconds(), time.process_time()

    def free_cores(self, limit: int | None = None) -> int | None:
        """Cores left free by other processes since the previous reading, between 1 and ``limit`` (default: the
        usable cores); ``None`` where the machine's load cannot be read or too little time has passed (the
        interval then runs on to the next call)."""
        now = self._reading()
        (start, busy_start, own_start), (end, busy_end, own_end) = self._last, now
        if busy_start is None or busy_end is None or end - start < _MIN_INTERVAL_SECONDS:
            return None
        self._last = now
        limit = limit or usable_cores()
        others = max(0.0, (busy_end - busy_start) - (own_end - own_start)) / (end - start)
        return max(1, min(limit, round(usable_cores() - others)))


def free_cores_now(window: float = 0.2, limit: int | None = None) -> int | None:
    """Cores other processes leave free, measured over ``window`` seconds (this process idle meanwhile)."""
    monitor = CoreMonitor()
    time.sleep(window)
    return monitor.free_cores(limit)


class FollowFreeCores(pl.Callback):
    """Sets torch's thread count to the cores other processes leave free, at the start and every
    ``every_n_batches`` batches of training, validation, test and predict (module docstring); restores the
    count it found when the run ends.

    Args:
        every_n_batches: batches between two readings.
        max_threads: at most this many threads (default: this process's share of the usable cores: the
            cores divided by the processes a DDP run starts on this machine).
    """

    def __init__(self, every_n_batches: int = 10, max_threads: int | None = None) -> None:
        self.every_n_batches = every_n_batches
        self.max_threads = max_threads
        self._monitor: CoreMonitor | None = None
        self._batches = 0
        self._initial = torch.get_num_threads()

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._initial = torch.get_num_threads()
        if self.max_threads is None:
            local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", 0)) or max(1, trainer.num_devices)
            self.max_threads = max(1, usable_cores() // local_processes)
        self._set(free_cores_now(limit=self.max_threads))
        self._monitor = CoreMonitor()

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        torch.set_num_threads(self._initial)

    def _set(self, threads: int | None) -> None:
        if threads is not None and threads != torch.get_num_threads():
            torch.set_num_threads(threads)

    def _on_batch(self, *args: Any) -> None:
        self._batches += 1
        if self._monitor is not None and self._batches % self.every_n_batches == 0:
            self._set(self._monitor.free_cores(self.max_threads))

    on_train_batch_start = _on_batch
    on_validation_batch_start = _on_batch
    on_test_batch_start = _on_batch
    on_predict_batch_start = _on_batch
