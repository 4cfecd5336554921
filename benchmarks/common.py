"""Measurement helpers shared by the benchmark scripts (run them as ``python benchmarks/<script>.py``)."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import psutil

from lit_kgns.child_runs import report_result, run_in_processes  # noqa: F401 (the scripts' runner)
from lit_kgns.results_csv import append_rows, read_rows  # noqa: F401 (their CSVs)


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


def t_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its Student-t confidence interval."""
    from scipy import stats

    mean = statistics.mean(values)
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
    return mean, mean - half, mean + half


def seed_list(seeds: tuple[int, ...]) -> str:
    """``seeds 1-5`` for three or more consecutive seeds, ``seeds 1, 2, 4`` otherwise."""
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[-1] + 1)):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return f"seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}"


def means_without(rows: list[dict[str, str]], excluded: set[str], baseline: str, why: str) -> str:
    """The mean rows of :func:`paired_table` over the graphs of ``rows`` not in ``excluded``, under a line
    naming what was left out and ``why``; empty when ``rows`` has no excluded graph or nothing else."""
    kept = [row for row in rows if row["dataset"] not in excluded]
    if not kept or len(kept) == len(rows):
        return ""
    left_out = sorted({row["dataset"] for row in rows} & excluded)
    table = paired_table(kept, baseline).splitlines()
    return "\n".join(
        [f"\nWithout {', '.join(left_out)} ({why}):\n", *table[:2], *(r for r in table if r.startswith("| **mean"))]
    )


def paired_table(rows: list[dict[str, str]], baseline: str, metric: str = "test_mrr") -> str:
    """Markdown table per graph and arm: ``metric`` mean ± std over seeds, and the paired difference to the
    ``baseline`` arm (same graph, same seed) with its 95 % t interval; last, per arm, the mean over the graphs
    it shares with the baseline, whose difference is paired per seed (the mean over those graphs of each seed's
    differences; seeds that finished every one of them in both arms only). Arms sharing the same graphs and
    seeds share one block of mean rows, led by the baseline's over the same graphs and seeds; a block short of
    some graphs names them, one short of the baseline's seeds names its own."""
    values: dict[tuple[str, str], dict[int, float]] = {}
    for row in rows:
        values.setdefault((row["dataset"], row["arm"]), {})[int(row["seed"])] = float(row[metric])
    graphs = sorted({graph for graph, _ in values})
    arms = sorted({arm for _, arm in values}, key=lambda arm: (arm != baseline, arm))
    lines = [
        f"| graph | arm | seeds | {metric} | Δ vs {baseline} [95 % CI] |",
        "| --- | --- | ---: | --- | --- |",
    ]

    def describe(by_seed: dict[int, float], reference: dict[int, float], arm: str) -> list[str]:
        scores = list(by_seed.values())
        spread = f" ± {statistics.stdev(scores):.4f}" if len(scores) > 1 else ""
        cell = f"{statistics.mean(scores):.4f}{spread}"
        shared = sorted(set(by_seed) & set(reference))
        if arm == baseline or not shared:
            return [str(len(scores)), cell, ""]
        mean, low, high = t_interval([by_seed[seed] - reference[seed] for seed in shared])
        interval = f" [{low:+.4f}, {high:+.4f}]" if len(shared) > 1 else ""
        return [str(len(scores)), cell, f"{mean:+.4f}{interval} (n={len(shared)})"]

    def table_row(*cells: str) -> str:
        return "| " + " | ".join(cells) + " |"

    def mean_over(block: tuple[str, ...], arm: str) -> dict[int, float]:
        """Per seed that finished every graph of ``block`` in ``arm`` and the baseline, the mean over them."""
        seeds = set.intersection(*(set(values[(g, arm)]) & set(values[(g, baseline)]) for g in block))
        return {seed: statistics.mean(values[(g, arm)][seed] for g in block) for seed in sorted(seeds)}

    for graph in graphs:
        reference = values.get((graph, baseline), {})
        for arm in arms:
            if (graph, arm) in values:
                lines.append(table_row(graph, arm, *describe(values[(graph, arm)], reference, arm)))
    # each arm is averaged over the graphs it shares with the baseline, paired over the seeds that finished
    # them all in both; arms sharing graphs and seeds share a block led by the baseline over the same runs
    blocks: dict[tuple[tuple[str, ...], tuple[int, ...]], dict[str, dict[int, float]]] = {}
    for arm in (arm for arm in arms if arm != baseline):
        graphs_shared = tuple(g for g in graphs if (g, arm) in values and (g, baseline) in values)
        by_seed = mean_over(graphs_shared, arm) if graphs_shared else {}
        if by_seed:
            blocks.setdefault((graphs_shared, tuple(by_seed)), {})[arm] = by_seed
    if arms == [baseline]:
        blocks[(tuple(graphs), tuple(mean_over(tuple(graphs), baseline)))] = {}
    for (block, seeds), by_arm in sorted(blocks.items(), key=lambda item: (-len(item[0][0]), -len(item[0][1]))):
        missing = [g for g in graphs if g not in block]
        label = f"**mean of {len(block)} graph{'s' * (len(block) > 1)}**"
        label += f" (not {', '.join(missing)})" if missing else ""
        reference = mean_over(block, baseline)
        if len(seeds) < len(reference):
            label += f" ({seed_list(seeds)})"
            reference = {seed: reference[seed] for seed in seeds}
        if reference:
            lines.append(table_row(label, baseline, *describe(reference, {}, baseline)))
        for arm, by_seed in by_arm.items():
            lines.append(table_row(label, arm, *describe(by_seed, reference, arm)))
    return "\n".join(lines)
