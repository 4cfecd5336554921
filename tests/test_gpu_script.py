"""The GPU benchmark's driver (`benchmarks/gpu/kmas_gpu.py`) in its CPU dry run: both arms pretrain the tiny
ULTRA on the 3-graph recipe, test zero-shot and print the table, peak memory and steps per second."""

from __future__ import annotations

import csv
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu" / "kmas_gpu.py"
GRAPHS = ["grail_nell_v1", "ingram_nl_100"]
ARMS = ["strict_uniform", "kmas"]


@pytest.mark.slow
@pytest.mark.shared_data
def test_the_tiny_dry_run_tests_both_arms_on_every_graph(shared_data: Path, tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key not in ("OUT", "LIT_KGNS_DATA")}
    command = [sys.executable, str(SCRIPT), "--tiny", "--device", "cpu", "--data-root", str(shared_data)]
    command += ["--out", str(tmp_path), "--test-graphs", *GRAPHS]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment, cwd=REPO)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    output = result.stdout

    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in output.splitlines()]
    rows = {(row[0], row[1]): row for row in cells if len(row) == 7}
    for graph in [*GRAPHS, "**mean of 2 graphs**"]:
        for arm in ARMS:
            _, _, seeds, mrr, hits, delta_mrr, delta_hits = rows[(graph, arm)]
            assert seeds == "1"
            assert math.isfinite(float(mrr)) and 0 < float(mrr) <= 1, (graph, arm, mrr)
            assert 0 <= float(hits) <= 1, (graph, arm, hits)
            if arm == "kmas":  # the paired difference to the uniform arm, same seed
                assert math.isclose(float(delta_mrr), float(mrr) - float(rows[(graph, ARMS[0])][3]), abs_tol=2e-4)
                assert math.isfinite(float(delta_hits))

    for arm in ARMS:
        memory = re.search(
            rf"^peak memory \[{arm}, seed 1\]: training ([\d.]+) GiB, with the test ([\d.]+) GiB", output, re.M
        )
        assert memory and float(memory[2]) > 0, output
        speed = re.search(rf"^steps per second \[{arm}, seed 1\]: ([\d.]+) \((\d+) timed steps", output, re.M)
        assert speed and float(speed[1]) > 0 and int(speed[2]) > 0, output

    with (tmp_path / "results.csv").open() as handle:
        written = list(csv.DictReader(handle))
    assert sorted((row["dataset"], row["arm"]) for row in written) == sorted((g, a) for g in GRAPHS for a in ARMS)
    assert "| **mean of 2 graphs** | kmas |" in (tmp_path / "results.md").read_text()
