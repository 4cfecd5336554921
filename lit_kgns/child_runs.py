"""Runs in child processes, a few at a time, each reporting one JSON result line: the runner of
``lit-kgns-run-many`` and of the benchmark sweeps. Ctrl-C (or SIGTERM) stops the children with the parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

RESULT = "RESULT "


def report_result(result: dict[str, Any]) -> None:
    """Print a child run's result where :func:`run_in_processes` finds it."""
    print(RESULT + json.dumps(result), flush=True)


def run_in_processes(
    jobs: list[Any],
    command: Callable[[Any], list[str]],
    log_file: Callable[[Any], Path],
    on_result: Callable[[Any, dict[str, Any], float], None],
    parallel: int = 1,
    progress: bool = False,
) -> None:
    """Run each job's ``command`` in its own single-threaded process, ``parallel`` at a time, its output in
    ``log_file(job)``; ``on_result(job, result, seconds)`` receives what the child passed to
    :func:`report_result`. A failed job is reported with its log and skipped. On ``KeyboardInterrupt`` (Ctrl-C,
    or SIGTERM under :func:`terminate_as_interrupt`) the running children are stopped before it propagates, so
    that none goes on training with nobody to record its result."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    pending, running = list(jobs), []
    bar = tqdm(total=len(jobs), unit="run", disable=not progress)
    try:
        while pending or running:
            while pending and len(running) < parallel:
                job = pending.pop(0)
                with log_file(job).open("w") as log:
                    process = subprocess.Popen(command(job), stdout=log, stderr=subprocess.STDOUT, env=environment)
                running.append((process, job, time.perf_counter()))
            time.sleep(0.5)
            for entry in [entry for entry in running if entry[0].poll() is not None]:
                running.remove(entry)
                process, job, start = entry
                bar.update(1)
                lines = [line for line in log_file(job).read_text().splitlines() if line.startswith(RESULT)]
                if process.returncode != 0 or not lines:
                    tqdm.write(f"FAILED {job}: see {log_file(job)}")
                    continue
                on_result(job, json.loads(lines[-1][len(RESULT) :]), round(time.perf_counter() - start, 1))
    except KeyboardInterrupt:
        _stop([process for process, _, _ in running])
        raise
    finally:
        bar.close()


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (a scheduler's stop) raises ``KeyboardInterrupt`` as Ctrl-C does."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
