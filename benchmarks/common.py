"""Measurement helpers shared by the benchmark scripts (run them as ``python benchmarks/<script>.py``)."""

from __future__ import annotations

import csv
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import psutil


class PeakRSS:
    """Peak resident memory above the value at ``__enter__``, polled by a background thread."""

    def __init__(self, interval: float = 0.002) -> None:
        self.process, self.interval = psutil.Process(), interval
        self.peak = self.baseline = 0
        self._stop = threading.Event()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self.baseline = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def delta_mb(self) -> float:
        return (self.peak - self.baseline) / 2**20


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a results CSV (none if it does not exist yet): a sweep resumes from them."""
    return list(csv.DictReader(path.open())) if path.exists() else []


def append_rows(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    """Append result rows to a CSV, writing the header when the file is new."""
    new_file = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        if new_file:
            writer.writeheader()
        writer.writerows(rows)


def mean_std_table(rows: list[dict[str, str]], key: str, budget: str) -> str:
    """Markdown table of test MRR / Hits@10 (mean ± std over seeds) per ``(row[key], sampler, row[budget])``."""
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row[key], row["sampler"], row[budget]), []).append(row)
    lines = [
        f"| {key} | sampler | seeds | {budget} | test MRR | test Hits@10 |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for (name, sampler, _), group in sorted(groups.items()):
        cells = []
        for metric in ("test_mrr", "test_hits@10"):
            values = [float(row[metric]) for row in group]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.4f} ± {spread:.4f}")
        lines.append(f"| {name} | {sampler} | {len(group)} | {group[0][budget]} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)
