"""KMAS against strict uniform negatives in the paper's own setting: pretrain a small ULTRA from scratch,
test zero-shot on unseen graphs; several seeds, paired differences with confidence intervals.

    python benchmarks/kmas_pretraining.py --seeds 1 2 3 4 5 --epochs 2 --jobs 2

Every arm runs `configs/kmas/pretrain_small_mixture.yaml` (ULTRA 32 / 4+4 layers on Nations + Kinship + UMLS +
CoDEx-S, 200 batches of 32 per epoch, 128 negatives; zero-shot on GraIL NELL-995 v1-v4, ILPC 2022 small and
InGram NL-0..100, none of which the mixture was cut from), or with ``--mixture medium``
`configs/kmas/pretrain_medium_mixture.yaml` on top of it (the same with FB15k-237-10 % and WD-singer added, so that most
batches come from graphs of 2,000-11,500 entities, where hard negatives can differ from uniform ones); the
uniform arm swaps the sampler for strict uniform with the same number of negatives, the ``kmas_*`` arms set the
options of one KMAS variant (``kmas_arms.kmas_variants``, as in the fine-tuning script); a seed drives data order,
negatives and initial weights in every arm.
No validation; the final weights are tested. Rows go to a CSV as runs finish (one per test graph, naming the
mixture) and finished ``(arm, seed, epochs, mixture)`` runs are skipped on rerun. ``--jobs`` runs single-threaded
runs side by side. ``--ablation`` runs the arms of one mechanism (``kmas_arms.ablations``) and writes
``ablations.md`` beside the CSV; every run keeps its curves as ``curves/<arm>/seed<seed>/metrics.csv``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import append_rows, means_without, paired_table, read_rows, report_result, run_in_processes
from kmas_arms import ablation_arms, ablation_report, ablations, arms_of, curve_options, kmas_variants, shown_path

REPO = Path(__file__).resolve().parents[1]
MIXTURES = ("small", "medium")
PARTLY_SEEN = {"ilpc2022_small"}  # 553 of its 2,902 test triples are CoDEx-S facts, 20 WD-singer ones
NUM_NEGATIVES = 128
ARMS = {
    "strict_uniform": ["--sampler=lit_kgns.samplers.StrictUniformSampler", f"--sampler.num_negatives={NUM_NEGATIVES}"],
    **kmas_variants(narrow_top_k=8),
    **ablation_arms(NUM_NEGATIVES),
}
ABLATIONS = ablations(NUM_NEGATIVES)
FIELDS = ["dataset", "arm", "seed", "epochs", "mixture", "test_mrr", "test_hits@10", "test_hits@1", "seconds"]


def config_of(mixture: str) -> list[str]:
    """The ``-c`` options of ``mixture``: the medium one is added on top of the small one."""
    mixtures = ["small"] if mixture == "small" else ["small", mixture]
    return [option for name in mixtures for option in ("-c", str(REPO / f"configs/kmas/pretrain_{name}_mixture.yaml"))]


def rows_of_mixture(rows: list[dict[str, str]], mixture: str, path: Path) -> list[dict[str, str]]:
    """The rows of ``path`` pretrained on ``mixture``, so that one results folder never mixes two mixtures."""
    for line, row in enumerate(rows, start=2):
        if row.get("mixture") not in MIXTURES:
            raise ValueError(
                f"{path}, line {line}: mixture is {row.get('mixture')!r}, expected one of {', '.join(MIXTURES)} "
                "(the pretraining graphs of the run; CSVs written before the column existed need it added)"
            )
    return [row for row in rows if row["mixture"] == mixture]


def run_one(
    mixture: str, arm: str, seed: int, epochs: int, data_root: str, out_dir: Path
) -> dict[str, dict[str, float]]:
    """Test metrics per test graph of one pretraining run, in this process."""
    from lit_kgns.cli import cli_main

    sys.argv = ["lit-kgns"]
    cli = cli_main(
        [
            "fit",
            *config_of(mixture),
            *ARMS[arm],
            f"--data.root={data_root}",
            f"--seed_everything={seed}",
            f"--trainer.max_epochs={epochs}",
            "--trainer.limit_val_batches=0",
            "--trainer.callbacks=[]",
            "--trainer.enable_checkpointing=false",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            *curve_options(out_dir / "curves", arm, seed, ARMS[arm]),
            f"--trainer.default_root_dir={out_dir / f'{arm}_{seed}'}",
        ]
    )
    metrics = cli.trainer.callback_metrics
    graphs = sorted({key.split("/")[1] for key in metrics if key.startswith("test/") and key.count("/") == 2})
    return {
        graph: {
            name: float(metrics[f"test/{graph}/{name[5:]}"]) for name in ("test_mrr", "test_hits@10", "test_hits@1")
        }
        for graph in graphs
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument("--epochs", type=int, default=2, help="epochs of 200 batches (the same in every arm)")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=["strict_uniform", "kmas"])
    parser.add_argument(
        "--ablation", nargs="+", choices=[*ABLATIONS, "all"], help="the arms of these mechanisms instead of --arms"
    )
    parser.add_argument("--mixture", choices=MIXTURES, default="small", help="the pretraining graphs (see above)")
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side, one thread each")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path, help="results folder (default: runs/kmas_pretraining[_medium])")
    parser.add_argument("--table-only", action="store_true", help="print the table of the CSV and stop")
    parser.add_argument("--single", nargs=2, metavar=("ARM", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ablation:
        args.arms = arms_of(ABLATIONS, args.ablation)
    if args.out is None:
        args.out = REPO / "runs" / ("kmas_pretraining" + ("" if args.mixture == "small" else f"_{args.mixture}"))
    if args.single:
        arm, seed = args.single
        report_result(run_one(args.mixture, arm, int(seed), args.epochs, args.data_root, args.out))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.csv"
    done = rows_of_mixture(read_rows(results), args.mixture, results)
    finished = {(row["arm"], int(row["seed"]), int(row["epochs"])) for row in done}
    pending = [(arm, seed) for seed in args.seeds for arm in args.arms if (arm, seed, args.epochs) not in finished]

    def command(job: tuple[str, int]) -> list[str]:
        options = ["--epochs", str(args.epochs), "--mixture", args.mixture, "--data-root", args.data_root]
        options += ["--out", str(args.out)]
        return [sys.executable, __file__, "--single", job[0], str(job[1]), *options]

    def record(job: tuple[str, int], per_graph: dict[str, dict[str, float]], seconds: float) -> None:
        arm, seed = job
        run = {"arm": arm, "seed": seed, "epochs": args.epochs, "mixture": args.mixture}
        rows = [{"dataset": graph, **run, **metrics, "seconds": seconds} for graph, metrics in per_graph.items()]
        append_rows(results, FIELDS, rows)
        done.extend({key: str(value) for key, value in row.items()} for row in rows)
        print(f"{arm} seed {seed}: {seconds} s", flush=True)

    if not args.table_only:
        log_file = lambda job: args.out / f"{job[0]}_{job[1]}.log"  # noqa: E731
        run_in_processes(pending, command, log_file, record, args.jobs)
    shown = [row for row in done if int(row["epochs"]) == args.epochs and row["arm"] in args.arms]
    if args.ablation:
        command = f"python benchmarks/kmas_pretraining.py --mixture {args.mixture} --epochs {args.epochs} "
        command += f"--ablation all --table-only --out {shown_path(args.out)}"
        title = f"KMAS ablations, pretraining on the {args.mixture} mixture for {args.epochs} epochs, zero-shot"
        every_arm = [row for row in done if int(row["epochs"]) == args.epochs]
        report = ablation_report(every_arm, ABLATIONS, title, command)
        (args.out / "ablations.md").write_text(report + "\n")
        print(report)
        return
    print(paired_table(shown, baseline="strict_uniform"))
    print(means_without(shown, PARTLY_SEEN, baseline="strict_uniform", why="test triples partly CoDEx-S facts"))


if __name__ == "__main__":
    main()
