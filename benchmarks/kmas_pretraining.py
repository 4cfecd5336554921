"""KMAS against strict uniform negatives when pretraining a small ULTRA from scratch at equal budget, tested
zero-shot on inductive graphs; several seeds; prints a mean ± std table per test graph.

    python benchmarks/kmas_pretraining.py --seeds 1 2 3 --epochs 2

Both arms run `configs/kmas/pretrain_small_mixture.yaml` (ULTRA 32 / 4+4 layers on Nations + Kinship + UMLS,
200 batches of 32 per epoch, 128 negatives); the uniform arm swaps the sampler for strict uniform with the
same number of negatives. Rows are appended to a CSV, so an interrupted sweep resumes where it stopped.
``--arms`` runs a subset, so the two arms can run side by side as two processes with their own ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import append_rows, mean_std_table, read_rows

from lit_kgns.cli import cli_main

REPO = Path(__file__).resolve().parents[1]
CONFIG = str(REPO / "configs/kmas/pretrain_small_mixture.yaml")
ARMS = {
    "strict_uniform": [
        "-c",
        CONFIG,
        "--sampler=lit_kgns.samplers.StrictUniformSampler",
        "--sampler.num_negatives=128",
    ],
    "kmas": ["-c", CONFIG],
}
FIELDS = ["graph", "sampler", "seed", "epochs", "test_mrr", "test_hits@10", "seconds"]


def run(arm: str, seed: int, epochs: int, data_root: str, out_dir: Path) -> dict[str, dict[str, float]]:
    """Test metrics per test graph of one pretraining run."""
    sys.argv = ["lit-kgns"]
    cli = cli_main(
        [
            "fit",
            *ARMS[arm],
            "--data.root",
            data_root,
            f"--seed_everything={seed}",
            f"--trainer.max_epochs={epochs}",
            "--trainer.enable_progress_bar=false",
            "--trainer.logger=false",
            f"--trainer.default_root_dir={out_dir / f'{arm}_{seed}'}",
        ]
    )
    metrics = cli.trainer.callback_metrics
    graphs = sorted({key.split("/")[1] for key in metrics if key.startswith("test/") and key.count("/") == 2})
    return {
        graph: {
            "test_mrr": float(metrics[f"test/{graph}/mrr"]),
            "test_hits@10": float(metrics[f"test/{graph}/hits@10"]),
        }
        for graph in graphs
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=2, help="epochs of 200 batches (equal for both arms)")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "kmas_pretraining")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS), help="arms to run")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.csv"
    done = read_rows(results)
    finished = {(row["sampler"], int(row["seed"]), int(row["epochs"])) for row in done}
    for seed in args.seeds:
        for arm in args.arms:
            if (arm, seed, args.epochs) in finished:
                continue
            start = time.perf_counter()
            per_graph = run(arm, seed, args.epochs, args.data_root, args.out)
            seconds = round(time.perf_counter() - start, 1)
            rows = [
                {"graph": graph, "sampler": arm, "seed": seed, "epochs": args.epochs, **metrics, "seconds": seconds}
                for graph, metrics in per_graph.items()
            ]
            append_rows(results, FIELDS, rows)
            for row in rows:
                done.append({key: str(value) for key, value in row.items()})
                print(row, flush=True)
    print(mean_std_table(done, "graph", "epochs"))


if __name__ == "__main__":
    main()
