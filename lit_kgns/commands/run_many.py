"""``lit-kgns-run-many``: one or more model configs over a list or group of datasets and several seeds, each
run in its own process, into a resumable CSV and Markdown tables (:mod:`lit_kgns.analysis.run_tables`): per graph, group
means beside the published ones, and the configs side by side over the graphs they all ran.

    lit-kgns-run-many --configs configs/zero_shot/ultra_3g.yaml --datasets inductive_e inductive_er \\
        --mode zero_shot --out runs/run_many

``zero_shot`` runs ``lit-kgns test``; ``finetune`` runs ``lit-kgns fit --test_after_fit true`` with upstream
ULTRA's per-graph budgets (``script/run_many.py``: epochs and batches per epoch, :data:`FINETUNE_BUDGETS`);
``scratch`` trains from the config's initial weights with upstream's train-from-scratch budget (10 epochs of
at most 1,000 batches). Finished ``(config, mode, dataset, seed)`` rows are skipped on a rerun (a damaged
CSV line is skipped with a warning, and its run done again); Ctrl-C stops the runs under way. Arguments after
``--`` go to every run (e.g. ``-- --trainer.accelerator gpu``) but cannot set the dataset, seed, folder or
budget of a run; each row records the dataset, seed and run folder the run itself resolved. ``--table-only``
rewrites the tables of the finished runs of the given configs and datasets without running anything.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Literal, get_args

from tqdm import tqdm

from lit_kgns.analysis.run_tables import METRICS, comparison_table, group_of, results_table
from lit_kgns.child_runs import report_result, run_in_processes, terminate_as_interrupt
from lit_kgns.data.groups import expand_groups
from lit_kgns.errors import ConfigError
from lit_kgns.results_csv import append_rows, read_rows

Mode = Literal["zero_shot", "finetune", "scratch"]
FIELDS = ["config", "mode", "dataset", "group", "seed", *METRICS, "seconds", "run_dir"]
# options run-many sets for every run (the CSV records them), and for trained runs the budget
OWNED = ("--data.dataset", "--seed_everything", "--trainer.default_root_dir")
TRAINED_OWNED = ("--trainer.max_epochs", "--data.batches_per_epoch", "--test_after_fit")
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


def check_extra(extra: list[str], mode: Mode) -> None:
    """Arguments after ``--`` may not set what run-many sets for each run (and records in its CSV)."""
    owned = [*OWNED, *(TRAINED_OWNED if mode != "zero_shot" else ())]
    given = {argument.split("=", 1)[0] for argument in extra if argument.startswith("--")}
    clash = [option for option in owned if option in given]
    if clash:
        raise ConfigError(
            f"{clash[0]} after --: run-many sets it for each run ({', '.join(owned)}); use its own --datasets, "
            "--seeds, --out or --mode instead"
        )


def run_arguments(config: str, mode: Mode, dataset: str, seed: int, out: Path, extra: list[str]) -> list[str]:
    """The ``lit-kgns`` command line of one run. ``extra`` (what follows ``--``) comes before the run's own
    options, so that a ``-c`` file in it cannot replace the dataset, seed or folder the CSV records."""
    check_extra(extra, mode)
    common = ["--trainer.enable_progress_bar=false"]
    own = [
        f"--data.dataset={dataset}",
        f"--seed_everything={seed}",
        f"--trainer.default_root_dir={run_folder(out, config, mode, dataset, seed)}",
    ]
    if mode == "zero_shot":
        return ["test", "-c", config, *common, "--trainer.logger=false", *extra, *own]
    epochs, batches = budget(dataset, mode)
    own += [f"--trainer.max_epochs={epochs}", "--test_after_fit=true"]
    if batches is not None:
        own.append(f"--data.batches_per_epoch={batches}")
    return ["fit", "-c", config, *common, *extra, *own]


def run_name(config: str, mode: Mode, dataset: str, seed: int) -> str:
    """A file name for one run: a dataset given as a folder path becomes one name (``examples_family``)."""
    return f"{Path(config).stem}_{mode}_{re.sub(r'[^A-Za-z0-9_.-]+', '_', dataset).strip('_')}_{seed}"


def run_folder(out: Path, config: str, mode: Mode, dataset: str, seed: int) -> Path:
    return out / "runs" / run_name(config, mode, dataset, seed)


def single_run(arguments: list[str]) -> None:
    """One run in this process; prints its test metrics and what it ran (dataset, seed and folder, as the run
    resolved them) for :func:`run_in_processes`."""
    from lit_kgns.cli import cli_main

    sys.argv = ["lit-kgns"]
    cli = cli_main(arguments)
    metrics, config = cli.trainer.callback_metrics, cli.config[cli.subcommand]
    result = {key: float(metrics[f"test/{key}"]) if f"test/{key}" in metrics else None for key in METRICS}
    dataset = config.data.dataset
    ran = {"dataset": dataset if isinstance(dataset, str) else "+".join(dataset), "seed": config.seed_everything}
    report_result({**result, "ran": {**ran, "run_dir": cli.trainer.log_dir}})


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    if argv == ["--single"]:  # a child process: one run, the arguments after --
        single_run(extra)
        return
    try:
        with terminate_as_interrupt():
            run_many(argv, extra)
    except KeyboardInterrupt:
        sys.stderr.write(
            "lit-kgns-run-many: interrupted; the runs under way were stopped, finished ones are in "
            "the CSV: the same command resumes\n"
        )
        raise SystemExit(130) from None
    except ConfigError as error:
        sys.stderr.write(f"lit-kgns-run-many: error: {error.message()}\n")
        raise SystemExit(1) from None


def run_many(argv: list[str], extra: list[str]) -> None:
    """Parse run-many's own options (``argv``), run what the CSV lacks and write the tables."""
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
    check_extra(extra, args.mode)
    if args.data_root is not None:
        extra = [f"--data.root={args.data_root}", *extra]
    datasets = expand_groups(args.datasets, args.data_root)
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.csv"
    done = read_rows(results, required=("config", "mode", "dataset", "seed", "mrr"))
    finished = {(row["config"], row["mode"], row["dataset"], int(row["seed"])) for row in done}
    jobs = [
        (config, args.mode, dataset, seed)
        for seed in args.seeds
        for config in args.configs
        for dataset in datasets
        if (Path(config).stem, args.mode, dataset, seed) not in finished
    ]

    def command(job: tuple[str, Mode, str, int]) -> list[str]:
        return [
            sys.executable,
            "-m",
            "lit_kgns.commands.run_many",
            "--single",
            "--",
            *run_arguments(*job, args.out, extra),
        ]

    def log_file(job: tuple[str, Mode, str, int]) -> Path:
        return args.out / f"{run_name(*job)}.log"

    def record(job: tuple[str, Mode, str, int], result: dict[str, Any], seconds: float) -> None:
        config, mode, dataset, seed = job
        ran = result.pop("ran")
        if (ran["dataset"], ran["seed"]) != (dataset, seed):  # never recorded under another run's name
            tqdm.write(
                f"FAILED {job}: the run resolved dataset {ran['dataset']}, seed {ran['seed']}: see {log_file(job)}"
            )
            return
        row = {"config": Path(config).stem, "mode": mode, "dataset": dataset, "group": group_of(dataset)}
        row |= {"seed": seed, **result, "seconds": seconds, "run_dir": ran["run_dir"]}
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
