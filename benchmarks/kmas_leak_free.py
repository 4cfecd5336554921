"""KMAS against strict uniform negatives where no result can come from memorised facts.

Fine-tuning protocol: the released ``ultra_3g`` (pretrained on FB15k-237, WN18RR, CoDEx-M) is fine-tuned on
graphs outside that mixture (GraIL NELL-995 v1-v4, ILPC 2022 small, InGram NL-0/25/50/75/100) and tested on
each graph's inference graph. Budget: one epoch of 16 positives capped at 200 steps (every graph here has
more than 200 batches, so 200 steps), 256 negatives, AdamW 5e-4, no validation; the final weights are
tested. Every arm of a seed shares that seed, which drives data order, negatives and dropout alike.

    python benchmarks/kmas_leak_free.py --arms strict_uniform kmas --seeds 1 2 3 4 5 --jobs 2
    python benchmarks/kmas_leak_free.py --screen --ablation "loss weighting" --seeds 1 2 3 4 5 --jobs 2

``--ablation`` runs the arms of one mechanism (``kmas_arms.ablations``; ``all`` for every one) and writes
``ablations.md`` beside the CSV: per level, KMAS against the strict uniform arm that shares everything else.
Every run keeps its curves (loss, hard ratio, diagnostics of the negatives every 10 steps) as
``curves/<graph>_<arm>/seed<seed>/metrics.csv`` in the results folder (``kmas_curves.py`` draws them).

Arms are named in ``ARMS`` (CLI overrides of ``configs/kmas/ultra_3g_finetune.yaml``). Rows go to a CSV as
runs finish; finished ``(dataset, arm, seed)`` rows are skipped on rerun, so a sweep resumes across sessions.
``--jobs`` runs that many single-threaded runs side by side. The table gives per graph each arm's mean ± std
and the paired difference to ``strict_uniform`` with a 95 % t interval, then the mean over graphs, and the mean
over the graphs none of whose test triples the checkpoint was pretrained on: ``--check-overlap`` counts them,
none for GraIL NELL-995 and InGram NL, all for ILPC 2022 small (every one is a CoDEx-M triple).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import append_rows, means_without, paired_table, read_rows, report_result, run_in_processes
from kmas_arms import ablation_arms, ablation_report, ablations, arms_of, curve_options, kmas_variants, shown_path

REPO = Path(__file__).resolve().parents[1]
CONFIG = str(REPO / "configs/kmas/ultra_3g_finetune.yaml")
LEAK_FREE = [
    *(f"grail_nell_v{version}" for version in (1, 2, 3, 4)),
    "ilpc2022_small",
    *(f"ingram_nl_{level}" for level in (0, 25, 50, 75, 100)),
]
SCREEN = ["grail_nell_v2", "ilpc2022_small", "ingram_nl_25"]
PRETRAINED_ON = ["fb15k-237", "wn18rr", "codex-m"]  # ultra_3g's pretraining graphs
OVERLAPPING = {"ilpc2022_small"}  # its test triples are all CoDEx-M triples (--check-overlap)
NUM_NEGATIVES = 256
# the first comparisons' arms ran with hard negatives from the first step, peaking there
FIRST_SCHEDULE = ["--sampler.init_args.schedule.warmup_end=0.0", "--sampler.init_args.schedule.peak_at=0.0"]
ARMS: dict[str, list[str]] = {
    "strict_uniform": ["--sampler=lit_kgns.samplers.StrictUniformSampler", f"--sampler.num_negatives={NUM_NEGATIVES}"],
    **kmas_variants(narrow_top_k=16, schedule=FIRST_SCHEDULE),
    **ablation_arms(NUM_NEGATIVES),
}
ABLATIONS = ablations(NUM_NEGATIVES)
FIELDS = ["dataset", "arm", "seed", "steps", "test_mrr", "test_hits@10", "test_hits@1", "seconds"]


def run_one(dataset: str, arm: str, seed: int, steps: int, data_root: str, out_dir: Path) -> dict[str, float]:
    """One fine-tuning run in this process; the test metrics."""
    from lit_kgns.cli import cli_main

    sys.argv = ["lit-kgns"]
    cli = cli_main(
        [
            "fit",
            "-c",
            CONFIG,
            *ARMS[arm],
            f"--data.dataset={dataset}",
            f"--data.root={data_root}",
            f"--seed_everything={seed}",
            f"--data.batches_per_epoch={steps}",
            "--trainer.limit_val_batches=0",
            "--trainer.enable_checkpointing=false",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            *curve_options(out_dir / "curves", f"{dataset}_{arm}", seed, ARMS[arm]),
            f"--trainer.default_root_dir={out_dir / f'{dataset}_{arm}_{seed}'}",
        ]
    )
    metrics = cli.trainer.callback_metrics
    return {key: float(metrics[f"test/{key[5:]}"]) for key in ("test_mrr", "test_hits@10", "test_hits@1")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=LEAK_FREE, help="graphs (default: all leak-free ones)")
    parser.add_argument("--screen", action="store_true", help=f"the screening graphs {SCREEN} instead")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=["strict_uniform", "kmas"])
    parser.add_argument(
        "--ablation", nargs="+", choices=[*ABLATIONS, "all"], help="the arms of these mechanisms instead of --arms"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument("--steps", type=int, default=200, help="cap on the one epoch of training")
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side, one thread each")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "kmas_leak_free")
    parser.add_argument("--table-only", action="store_true", help="print the table of the CSV and stop")
    parser.add_argument(
        "--check-overlap", action="store_true", help=f"count test triples {PRETRAINED_ON} state, and stop"
    )
    parser.add_argument("--single", nargs=3, metavar=("DATASET", "ARM", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ablation:
        args.arms = arms_of(ABLATIONS, args.ablation)
    if args.single:
        dataset, arm, seed = args.single
        metrics = run_one(dataset, arm, int(seed), args.steps, args.data_root, args.out)
        report_result(metrics)
        return
    datasets = SCREEN if args.screen else args.datasets
    if args.check_overlap:
        print(overlap_table(datasets, args.data_root))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.csv"
    done = read_rows(results)
    finished = {(row["dataset"], row["arm"], int(row["seed"]), int(row["steps"])) for row in done}
    # seeds outermost: an interrupted sweep still covers every graph and arm for the first seeds
    pending = [
        (dataset, arm, seed)
        for seed in args.seeds
        for dataset in datasets
        for arm in args.arms
        if (dataset, arm, seed, args.steps) not in finished
    ]
    if not args.table_only:
        run_pending(pending, args, results, done)
    if args.ablation:
        rows = [row for row in done if row["dataset"] in datasets and int(row["steps"]) == args.steps]
        command = f"python benchmarks/kmas_leak_free.py --datasets {' '.join(datasets)} --ablation all --table-only "
        command += f"--out {shown_path(args.out)}"
        report = ablation_report(rows, ABLATIONS, "KMAS ablations, leak-free fine-tuning of ultra_3g", command)
        (args.out / "ablations.md").write_text(report + "\n")
        print(report)
        return
    rows = [row for row in done if row["dataset"] in datasets and row["arm"] in args.arms]
    print(paired_table(rows, baseline="strict_uniform"))
    print(means_without(rows, OVERLAPPING, baseline="strict_uniform", why="test triples seen in pretraining"))


def overlap_table(datasets: list[str], data_root: str) -> str:
    """Per graph, how many of its test triples each of the checkpoint's pretraining graphs states."""
    from lit_kgns.data.catalog import load_dataset
    from lit_kgns.data.overlap import stated_triples, triples_under_test

    stated = {name: stated_triples(load_dataset(name, data_root)) for name in PRETRAINED_ON}
    lines = [f"| graph | test triples | {' | '.join(PRETRAINED_ON)} |", "| --- |" + " ---: |" * (1 + len(stated))]
    for dataset in datasets:
        tested = triples_under_test(load_dataset(dataset, data_root))
        counts = " | ".join(str(len(tested & facts)) for facts in stated.values())
        lines.append(f"| {dataset} | {len(tested)} | {counts} |")
    return "\n".join(lines)


def run_pending(pending: list[tuple[str, str, int]], args: argparse.Namespace, results: Path, done: list) -> None:
    """Run ``pending`` jobs, ``args.jobs`` at a time, each in its own single-threaded process."""

    def command(job: tuple[str, str, int]) -> list[str]:
        dataset, arm, seed = job
        options = ["--steps", str(args.steps), "--data-root", args.data_root, "--out", str(args.out)]
        return [sys.executable, __file__, "--single", dataset, arm, str(seed), *options]

    def record(job: tuple[str, str, int], metrics: dict[str, float], seconds: float) -> None:
        dataset, arm, seed = job
        row = {"dataset": dataset, "arm": arm, "seed": seed, "steps": args.steps, **metrics, "seconds": seconds}
        append_rows(results, FIELDS, [row])
        done.append({key: str(value) for key, value in row.items()})
        print(row, flush=True)

    def log_file(job: tuple[str, str, int]) -> Path:
        return args.out / "{}_{}_{}.log".format(*job)

    run_in_processes(pending, command, log_file, record, args.jobs)


if __name__ == "__main__":
    main()
