"""``lit-kgns-run-many``: one or more model configs over a list or group of datasets and several seeds, each
run in its own process, into a resumable CSV and Markdown tables (:mod:`lit_kgns.run_tables`): per graph, group
means beside the published ones, and the configs side by side over the graphs they all ran.

    lit-kgns-run-many --configs configs/zero_shot/ultra_3g.yaml --datasets inductive_e inductive_er \\
        --mode zero_shot --out runs/run_many

``zero_shot`` runs ``lit-kgns test``; ``finetune`` runs ``lit-kgns fit --test_after_fit true`` with upstream
ULTRA's per-graph budgets (``script/run_many.py``: epochs and batches per epoch, :data:`FINETUNE_BUDGETS`);
``scratch`` trains from the config's initial weights with upstream's train-from-scratch budget (10 epochs of
at most 1,000 batches). Finished ``(config, mode, dataset, seed)`` rows are skipped on a rerun. Arguments after
``--`` go to every run (e.g. ``-- --trainer.accelerator gpu``); ``--table-only`` rewrites the tables of the
finished runs of the given configs and datasets without running anything.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

from tqdm import tqdm

from lit_kgns.data.groups import expand_groups
from lit_kgns.run_tables import METRICS, comparison_table, group_of, results_table

Mode = Literal["zero_shot", "finetune", "scratch"]
FIELDS = ["config", "mode", "dataset", "group", "seed", *METRICS, "seconds"]
# upstream ULTRA script/run_many.py fine-tuning budgets: (name pattern, epochs, batches per epoch or None: full)
FINETUNE_BUDGETS: tuple[tuple[str, int, int | None], ...] = (
    (r"grail_(fb237|wn18rr)_v\d", 1, None),
    (r"grail_nell_v\d", 3, None),
    (r"ilpc2022_small", 3, None),
    (r"ilpc2022_large", 1, 1000),
    (r"ingram_.*|mtdea_.*", 3, None),
    (r"codex-[sm]", 1, 4000),
    (r"fb15k-237|wn18rr", 1, None),
    (r"hm_.*", 1, 100),
)
SCRATCH_BUDGET = (10, 1000)


def budget(dataset: str, mode: Mode) -> tuple[int, int | None]:
    """``(epochs, batches per epoch or None)`` of a fine-tuning or from-scratch run on ``dataset``."""
    if mode == "scratch":
        return SCRATCH_BUDGET
    for pattern, epochs, batches in FINETUNE_BUDGETS:
        if re.fullmatch(pattern, dataset):
            return epochs, batches
    return 1, None


def run_arguments(config: str, mode: Mode, dataset: str, seed: int, out: Path, extra: list[str]) -> list[str]:
    """The ``lit-kgns`` command line of one run."""
    root = out / "runs" / f"{Path(config).stem}_{mode}_{dataset}_{seed}"
    common = ["-c", config, f"--data.dataset={dataset}", f"--seed_everything={seed}"]
    common += ["--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={root}"]
    if mode == "zero_shot":
        return ["test", *common, "--trainer.logger=false", *extra]
    epochs, batches = budget(dataset, mode)
    trained = [f"--trainer.max_epochs={epochs}", "--test_after_fit=true"]
    if batches is not None:
        trained.append(f"--data.batches_per_epoch={batches}")
    return ["fit", *common, *trained, *extra]


def append_rows(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    """Append result rows to a CSV, writing the header when the file is new (a sweep resumes from it)."""
    new_file = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        if new_file:
            writer.writeheader()
        writer.writerows(rows)


def report_result(result: dict[str, Any]) -> None:
    """Print a child run's result where :func:`run_in_processes` finds it."""
    print("RESULT " + json.dumps(result), flush=True)


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
    :func:`report_result`. A failed job is reported with its log and skipped."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    pending, running = list(jobs), []
    bar = tqdm(total=len(jobs), unit="run", disable=not progress)
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
            lines = [line for line in log_file(job).read_text().splitlines() if line.startswith("RESULT ")]
            if process.returncode != 0 or not lines:
                tqdm.write(f"FAILED {job}: see {log_file(job)}")
                continue
            on_result(job, json.loads(lines[-1][len("RESULT ") :]), round(time.perf_counter() - start, 1))
    bar.close()


def single_run(arguments: list[str]) -> None:
    """One run in this process; prints its test metrics for :func:`run_in_processes`."""
    from lit_kgns.cli import cli_main

    sys.argv = ["lit-kgns"]
    metrics = cli_main(arguments).trainer.callback_metrics
    report_result({key: float(metrics[f"test/{key}"]) if f"test/{key}" in metrics else None for key in METRICS})


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    if argv == ["--single"]:  # a child process: one run, the arguments after --
        single_run(extra)
        return
    parser = argparse.ArgumentParser(prog="lit-kgns-run-many", description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", required=True, help="model configs (e.g. configs/zero_shot/*.yaml)")
    parser.add_argument("--datasets", nargs="+", required=True, help="dataset names or groups (all, offline, ...)")
    parser.add_argument("--mode", choices=get_args(Mode), default="zero_shot")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1024])
    parser.add_argument("--data-root", default=None, help="data root (default: $LIT_KGNS_DATA, else the cache)")
    parser.add_argument("--out", type=Path, default=Path("runs/run_many"))
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side, one thread each")
    parser.add_argument("--table-only", action="store_true", help="write the tables of the finished runs only")
    args = parser.parse_args(argv)
    if args.data_root is not None:
        extra = [f"--data.root={args.data_root}", *extra]
    datasets = expand_groups(args.datasets, args.data_root)
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.csv"
    done = list(csv.DictReader(results.open())) if results.exists() else []
    finished = {(row["config"], row["mode"], row["dataset"], int(row["seed"])) for row in done}
    jobs = [
        (config, args.mode, dataset, seed)
        for seed in args.seeds
        for config in args.configs
        for dataset in datasets
        if (Path(config).stem, args.mode, dataset, seed) not in finished
    ]

    def command(job: tuple[str, Mode, str, int]) -> list[str]:
        return [sys.executable, "-m", "lit_kgns.run_many", "--single", "--", *run_arguments(*job, args.out, extra)]

    def log_file(job: tuple[str, Mode, str, int]) -> Path:
        return args.out / f"{Path(job[0]).stem}_{job[1]}_{job[2]}_{job[3]}.log"

    def record(job: tuple[str, Mode, str, int], metrics: dict[str, Any], seconds: float) -> None:
        config, mode, dataset, seed = job
        row = {"config": Path(config).stem, "mode": mode, "dataset": dataset, "group": group_of(dataset)}
        row |= {"seed": seed, **metrics, "seconds": seconds}
        append_rows(results, FIELDS, [row])
        done.append({key: str(value) for key, value in row.items()})

    if not args.table_only:
        run_in_processes(jobs, command, log_file, record, args.jobs, progress=True)
    stems = [Path(config).stem for config in args.configs]
    selected = [row for row in done if row["config"] in stems and row["dataset"] in datasets]
    selected.sort(key=lambda row: stems.index(row["config"]))  # the tables list configs in the order given
    tables = results_table(selected) + "\n\n" + comparison_table(selected, args.mode)
    (args.out / "results.md").write_text(tables + "\n")
    print(tables)


if __name__ == "__main__":
    main()
