"""Training curves of the KMAS comparisons, arms overlaid: loss, hard ratio, the share of hard and of uniform
negatives scored above their positive, and the share that are held-out true facts (false negatives).

    python benchmarks/kmas_curves.py benchmarks/results/kmas_leak_free --arms strict_uniform_t0 kmas_paper
    python benchmarks/kmas_curves.py benchmarks/results/kmas_pretraining_medium --arms strict_uniform kmas_paper

Reads the CSV logs the comparison scripts keep (``<results>/curves/<graph>_<arm>/seed<seed>/metrics.csv`` for
fine-tuning, ``<results>/curves/<arm>/seed<seed>/metrics.csv`` for pretraining), averages each metric per
arm and step over the seeds (and graphs) that logged it, and writes ``<results>/curves.png`` (``--out``).
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections import defaultdict
from pathlib import Path

#: (panel title, [(metric, line label)]): what each panel overlays per arm.
PANELS = [
    ("training loss", [("train/loss", "")]),
    ("hard-negative ratio", [("train/hard_ratio", "")]),
    (
        "negatives scored above the positive",
        [("kmas/hard_above_positive", "hard"), ("kmas/random_above_positive", "uniform")],
    ),
    (
        "negatives that are held-out true facts",
        [("kmas/false_negative_rate", "hard"), ("kmas/random_false_negative_rate", "uniform")],
    ),
]


def arm_of(run_name: str, arms: list[str]) -> str | None:
    """The arm a curves folder belongs to: the longest of ``arms`` its name is or ends with (``_<arm>``)."""
    matches = [arm for arm in arms if run_name == arm or run_name.endswith(f"_{arm}")]
    return max(matches, key=len) if matches else None


def read_curves(
    results: Path, arms: list[str], graphs: list[str] | None
) -> dict[str, dict[str, dict[int, list[float]]]]:
    """``curves[arm][metric][step]``: the values every run of ``arm`` logged at ``step``."""
    curves: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for path in sorted((results / "curves").glob("*/seed*/metrics.csv")):
        run = path.parent.parent.name
        arm = arm_of(run, arms)
        if arm is None or (graphs and not any(run.startswith(f"{graph}_") for graph in graphs)):
            continue
        with path.open() as handle:
            for row in csv.DictReader(handle):
                for metric, value in row.items():
                    if value and metric not in ("epoch", "step") and not metric.startswith("test/"):
                        curves[arm][metric][int(row["step"])].append(float(value))
    return curves


def draw(curves: dict[str, dict[str, dict[int, list[float]]]], arms: list[str], title: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, (panel, metrics) in zip(axes, PANELS, strict=True):
        for colour, arm in zip(colours, arms, strict=False):
            for (metric, label), style in zip(metrics, ("-", "--"), strict=False):
                by_step = curves.get(arm, {}).get(metric, {})
                if not by_step:
                    continue
                steps = sorted(by_step)
                means = [statistics.mean(by_step[step]) for step in steps]
                name = f"{arm} ({label})" if label else arm
                axis.plot(steps, means, style, color=colour, label=name, linewidth=1.4)
        axis.set_title(panel, fontsize=10)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        if axis.lines:
            axis.legend(fontsize=7)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="a results folder of kmas_leak_free.py or kmas_pretraining.py")
    parser.add_argument("--arms", nargs="+", required=True, help="the arms to overlay")
    parser.add_argument("--graphs", nargs="+", help="only the runs of these graphs (fine-tuning)")
    parser.add_argument("--title", default=None)
    parser.add_argument("--out", type=Path, default=None, help="the figure (default: <results>/curves.png)")
    args = parser.parse_args()
    if not (args.results / "curves").is_dir():
        parser.error(
            f"{args.results / 'curves'}: no such folder (runs of the comparison scripts keep their curves there)"
        )
    curves = read_curves(args.results, args.arms, args.graphs)
    missing = [arm for arm in args.arms if arm not in curves]
    if missing:
        parser.error(f"--arms: no curves of {', '.join(missing)} under {args.results / 'curves'}")
    runs = {arm: max(len(values) for values in curves[arm]["train/loss"].values()) for arm in args.arms}
    title = args.title or f"{args.results.name}: " + ", ".join(f"{arm} ({n} runs)" for arm, n in runs.items())
    out = args.out or args.results / "curves.png"
    draw(curves, args.arms, title, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
