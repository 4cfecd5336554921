"""KMAS against strict uniform negatives at equal budget: fine-tune ULTRA 3g on GraIL splits, test zero-shot
on the inductive graph; several seeds; prints a mean ± std table.

This is the *leaked* protocol, kept as a do-no-harm check: ``ultra_3g`` was pretrained on FB15k-237 and WN18RR,
from which the GraIL FB / WN splits are drawn, so a sampler that leaves memorised facts alone is rewarded here.
Compare samplers with ``benchmarks/kmas_leak_free.py``.

    python benchmarks/kmas_vs_uniform.py --datasets grail_fb237_v1 grail_wn18rr_v1 --seeds 1 2 3 --steps 100

Both arms run `configs/kmas/ultra_3g_finetune_grail.yaml`; the uniform arm adds
`-c configs/samplers/strict_uniform.yaml`, so model, optimiser, batch size (16), negatives (256), steps and
evaluation are identical. Results are appended to a CSV (one row per run) so an interrupted sweep resumes
where it stopped; the table is printed from that file.

A KMAS variant is one more arm, named by ``--kmas-label`` and built from CLI overrides of the KMAS config:

    python benchmarks/kmas_vs_uniform.py --datasets grail_fb237_v1 --arms kmas --kmas-label kmas_tau1_top64 \
        --kmas-override sampler.init_args.temperature=1 sampler.init_args.top_k=64
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import append_rows, mean_std_table, read_rows

from lit_kgns.cli import cli_main

REPO = Path(__file__).resolve().parents[1]
ARMS = {
    "strict_uniform": [
        "-c",
        str(REPO / "configs/kmas/ultra_3g_finetune_grail.yaml"),
        "-c",
        str(REPO / "configs/samplers/strict_uniform.yaml"),
    ],
    "kmas": ["-c", str(REPO / "configs/kmas/ultra_3g_finetune_grail.yaml")],
}
FIELDS = ["dataset", "sampler", "seed", "steps", "test_mrr", "test_hits@10", "seconds"]


def run(
    dataset: str, arm: list[str], label: str, seed: int, steps: int, data_root: str, out_dir: Path
) -> dict[str, float]:
    sys.argv = ["lit-kgns"]
    cli = cli_main(
        [
            "fit",
            *arm,
            "--data.dataset",
            dataset,
            "--data.root",
            data_root,
            f"--seed_everything={seed}",
            f"--data.batches_per_epoch={steps}",
            "--trainer.enable_progress_bar=false",
            "--trainer.logger=false",
            f"--trainer.default_root_dir={out_dir / f'{dataset}_{label}_{seed}'}",
            "--trainer.limit_val_batches=4",
        ]
    )
    metrics = cli.trainer.callback_metrics
    return {"test_mrr": float(metrics["test/mrr"]), "test_hits@10": float(metrics["test/hits@10"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["grail_fb237_v1", "grail_wn18rr_v1"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=100, help="training batches (equal for both arms)")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "kmas_vs_uniform")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS), help="arms to run")
    parser.add_argument("--kmas-label", default="kmas", help="name of the KMAS arm in the results (sampler column)")
    parser.add_argument(
        "--kmas-override",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="CLI options added to the KMAS arm, without the leading dashes (sampler.init_args.top_k=64)",
    )
    args = parser.parse_args()
    if args.kmas_override and args.kmas_label == "kmas":
        parser.error("--kmas-override changes the KMAS arm: name the variant with --kmas-label")
    arms = {"strict_uniform": ARMS["strict_uniform"]} if "strict_uniform" in args.arms else {}
    if "kmas" in args.arms:
        arms[args.kmas_label] = ARMS["kmas"] + [f"--{option}" for option in args.kmas_override]
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.csv"
    done = read_rows(results)
    finished = {(row["dataset"], row["sampler"], int(row["seed"]), int(row["steps"])) for row in done}
    # Seeds outermost: an interrupted sweep still covers every dataset.
    for seed in args.seeds:
        for dataset in args.datasets:
            for label, arm in arms.items():
                if (dataset, label, seed, args.steps) in finished:
                    continue
                start = time.perf_counter()
                metrics = run(dataset, arm, label, seed, args.steps, args.data_root, args.out)
                row = {"dataset": dataset, "sampler": label, "seed": seed, "steps": args.steps, **metrics}
                row["seconds"] = round(time.perf_counter() - start, 1)
                append_rows(results, FIELDS, [row])
                done.append({key: str(value) for key, value in row.items()})
                print(row, flush=True)
    print(mean_std_table(done, "dataset", "steps"))


if __name__ == "__main__":
    main()
