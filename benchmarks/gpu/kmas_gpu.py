"""KMAS against strict uniform negatives in upstream ULTRA's own pretraining setting, sized for one H100 and
about 9 minutes: pretrain ULTRA from scratch with the 3-graph recipe, once per arm, and test each model
zero-shot on the graphs none of the pretraining graphs was cut from.

Recipe: `configs/pretrain/ultra_3g.yaml` (FB15k-237 + WN18RR + CoDEx-M, ULTRA 64-d with 6 + 6 layers, 64
positives per batch from one graph drawn in proportion to its edges, AdamW 5e-4, self-adversarial BCE), cut
to ``--steps`` optimizer steps, no validation; the final weights are tested. Arms:

* ``strict_uniform``: `lit_kgns.samplers.StrictUniformSampler` with the recipe's number of negatives (512);
* ``kmas``: `configs/kmas/pretrain.yaml` composed as the second ``-c`` (KMASSampler with its own options and
  hard-ratio schedule, which follows the step budget), with the same number of negatives and its refresh and
  diagnostics periods scaled to the short budget (``--refresh-every``, ``--diagnostics-every``).

Both arms of a seed share it: it drives data order, negatives and initial weights. Test graphs: GraIL
NELL-995 v1-v4 and InGram NL-0/25/50/75/100 (``kmas_leak_free.LEAK_FREE`` without ILPC 2022 small, whose test
triples are CoDEx-M facts). Each arm runs in its own process (`lit_kgns.cli.cli_main`, as the other benchmark
scripts), so its peak of ``torch.cuda.max_memory_allocated`` is its own. The script prints one Markdown table
(per graph and arm MRR and Hits@10, the paired difference KMAS - uniform, the mean over graphs), then per arm
the peak memory and the training steps per second, and writes ``results.md``, ``results.csv`` and one log per
run into ``--out`` (default ``$OUT`` if set, else ``runs/gpu_kmas``).

On the GPU machine (one H100, 16 cores, Python 3.12, no network), through `benchmarks/gpu/kmas.sh`, with
``shared`` and ``.whl`` named in the device call's ``carry`` (both prepared as below) and a ``timeout_s`` of 600:

    bash benchmarks/gpu/kmas.sh --wheels .whl            # the defaults: 300 steps, seed 1, both arms
    bash benchmarks/gpu/kmas.sh --wheels .whl --steps 200 --max-train-seconds 150

CPU dry run (tiny ULTRA, a few steps, two small test graphs, capped evaluation; about 1-2 minutes on 2 cores):

    python benchmarks/gpu/kmas_gpu.py --tiny --device cpu

**Data.** Only the repository travels to the GPU machine, at most 64 MiB with what is carried. The files the
run reads (the catalog's own list for each graph, 49 files) are 41.3 MiB: FB15k-237 23.0, WN18RR 3.2, CoDEx-M
3.9, GraIL NELL-995 v1-v4 5.1 (training and inference folders), InGram NL-0..100 6.1. With the repository
(about 2 MiB) and the wheels (2.0 MiB) that is about 45 MiB, so everything fits as it is. Copy those files, and
nothing else, into an ignored ``shared/data`` folder of the repository, the last place ``--data-root`` looks:

    echo /shared/ >> .git/info/exclude
    python benchmarks/gpu/kmas_gpu.py --copy-data-to shared/data     # prints the size it copied

(Had they not fitted: the same 49 files packed with ``tar czf`` are 7.2 MiB; carried instead of ``shared``, they
would be unpacked into ``shared/data`` on the machine before ``kmas.sh``. No file can simply be left out: the
catalog treats a graph with a missing file as one to download, which fails offline.)

**Wheels.** The image has torch, pytorch-lightning, torch-geometric, torchmetrics, numpy, pandas, scipy,
PyYAML and psutil, but not the rest of what `lit_kgns` imports (jsonargparse and its signature extras,
platformdirs, and PyKEEN with the packages it imports on import). They are pure Python; download them here,
one version each (the ones these scripts were run with), into an ignored ``.whl`` folder:

    echo /.whl/ >> .git/info/exclude
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \\
        --platform manylinux_2_17_x86_64 -d .whl jsonargparse==4.53.0 docstring-parser==0.18.0 \\
        typeshed-client==2.15.0 platformdirs==4.14.9 pykeen==1.11.1 class-resolver==0.8.2 docdata==0.0.5 \\
        more-click==0.1.3 more-itertools==11.2.1 pystow==0.10.3 torch-max-mem==0.1.6 torch-ppr==0.0.8

`kmas.sh --wheels DIR` installs them with ``pip install --no-index --no-deps --target`` (never the network),
puts them and the repository on ``PYTHONPATH`` and checks that `lit_kgns` imports before the first run starts.

**Budget.** ``--steps 300`` by default. A 64 x 512 step of this recipe takes about 32 s on 2 CPU cores (README:
two steps in 65 s), nearly all of it the entity NBFNet's message passing: on FB15k-237, 6 layers of gather,
multiply and scatter over 544k edges x 64 queries x 64 dimensions, about 9 GB per message tensor, so roughly
1 TB of memory traffic per step with the recomputation in backward. At the 1.5-3 TB/s an H100 reaches on such
gathers and scatters that is 0.3-0.7 s per FB15k-237 step, and less on average (batches come from FB15k-237,
CoDEx-M and WN18RR with probabilities 0.50 / 0.34 / 0.16, the other two with fewer edges): 300 steps take
about 90-200 s per arm. Each arm adds about a minute: start-up, loading the three graphs (13 s on this CPU),
KMAS's tables and refreshes (one similarity refresh of FB15k-237 is 5.4 s on 2 CPU cores, well under a second
on a GPU; 10 per graph here), and the test on nine small graphs (about 16,000 queries). That makes about 5-7
minutes for both arms. ``--max-train-seconds`` (default 180) stops an arm's training if its steps are slower
than expected, which keeps the two arms within about 9 minutes at any speed; the output then says how many
steps each arm made (arms with different step counts are not a paired comparison any more), and the printed
steps per second give the ``--steps`` for a rerun. The output folder holds ``results.md``, ``results.csv`` and
two logs per seed: up to three seeds stay within the 8 files that come back from ``$OUT``.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from pytorch_lightning import Callback, LightningModule, Trainer

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))  # the helpers of the benchmark scripts beside this folder

from common import append_rows, report_result, run_in_processes, t_interval  # noqa: E402
from kmas_leak_free import LEAK_FREE, OVERLAPPING  # noqa: E402

RECIPE = REPO / "configs/pretrain/ultra_3g.yaml"
KMAS_CONFIG = REPO / "configs/kmas/pretrain.yaml"
BASELINE = "strict_uniform"
ARM_NAMES = (BASELINE, "kmas")
TEST_GRAPHS = [graph for graph in LEAK_FREE if graph not in OVERLAPPING]
TINY_TEST_GRAPHS = ["grail_nell_v1", "ingram_nl_100"]  # one small inference graph of each family
ACCELERATOR = {"auto": "auto", "cpu": "cpu", "cuda": "gpu"}  # --device -> trainer.accelerator
FIELDS = [
    "dataset",
    "arm",
    "seed",
    "steps",
    "steps_done",
    "batch_size",
    "negatives",
    "test_mrr",
    "test_hits@10",
    "test_hits@1",
    "steps_per_s",
    "peak_train_mib",
    "peak_mib",
    "memory_kind",
    "device",
    "seconds",
]


class StepTimer(Callback):
    """Training steps per second after ``warmup`` steps (the first ones pay CUDA start-up and the allocator's
    growth), and the peak device memory of training, read when training ends (before the test)."""

    def __init__(self, warmup: int = 5) -> None:
        self.warmup = warmup
        self.started: dict[int, float] = {}
        self.steps = 0
        self.seconds = 0.0
        self.peak_train_bytes: int | None = None

    @staticmethod
    def _now(pl_module: LightningModule) -> float:
        import torch

        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)  # kernels are asynchronous: time what they did
        return time.perf_counter()

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        if trainer.global_step in (0, self.warmup) and trainer.global_step not in self.started:
            self.started[trainer.global_step] = self._now(pl_module)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        import torch

        end = self._now(pl_module)
        # after the warm-up if training got past it (a time limit may stop it sooner), else from the start
        first = self.warmup if self.warmup in self.started and trainer.global_step > self.warmup else 0
        self.steps = trainer.global_step - first
        self.seconds = end - self.started.get(first, end)
        if pl_module.device.type == "cuda":
            self.peak_train_bytes = torch.cuda.max_memory_allocated(pl_module.device)
        else:  # the process's resident peak so far (ru_maxrss is in KiB on Linux)
            self.peak_train_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def recipe_value(*keys: str) -> Any:
    """A value of the 3-graph recipe's YAML, so that the arms follow the file rather than a copy of it."""
    value: Any = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    for key in keys:
        value = value[key]
    return value


def default_data_root() -> Path:
    """``$LIT_KGNS_DATA``, else ``../shared/data`` beside the repository, else ``shared/data`` inside it (where
    the data travels to the GPU machine)."""
    if os.environ.get("LIT_KGNS_DATA"):
        return Path(os.environ["LIT_KGNS_DATA"])
    beside = REPO.parent / "shared" / "data"
    return beside if beside.is_dir() else REPO / "shared" / "data"


def needed_files(graphs: list[str]) -> list[Path]:
    """The files under the data root that the catalog builds ``graphs`` from, relative to the root."""
    from lit_kgns.data.catalog import get_entry

    entries = [get_entry(graph) for graph in graphs]
    return sorted({Path(entry.folder) / file.local for entry in entries for file in entry.files})


def check_data(root: Path, graphs: list[str]) -> None:
    """Every file the run reads is under ``root``: offline, a missing one would be a failed download later."""
    if not root.is_dir():
        raise SystemExit(f"--data-root {root}: no such folder (see the docstring, 'Data', for what it needs)")
    missing = [str(path) for path in needed_files(graphs) if not (root / path).is_file()]
    if missing:
        raise SystemExit(
            f"--data-root {root}: missing {', '.join(missing)} (--copy-data-to copies them from a full root)"
        )


def copy_data(source: Path, target: Path, graphs: list[str]) -> None:
    """Copy the files of ``graphs`` (and nothing else) from ``source`` to ``target``; print their size."""
    check_data(source, graphs)
    files = needed_files(graphs)
    for path in files:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / path, target / path)
    total = sum((target / path).stat().st_size for path in files)
    print(f"copied {len(files)} files, {total / 2**20:.1f} MiB, from {source} to {target}")
    if total > 56 * 2**20:
        print("warning: with the repository and the wheels this may exceed the 64 MiB that travels")


def arm_options(arm: str, options: argparse.Namespace) -> list[str]:
    """The CLI options that make ``arm`` out of the recipe: the sampler, with the same negatives in both arms."""
    sampler = "--sampler.init_args."
    if arm == BASELINE:
        return ["--sampler=lit_kgns.samplers.StrictUniformSampler", f"{sampler}num_negatives={options.negatives}"]
    return [
        "-c",
        str(KMAS_CONFIG),
        f"{sampler}num_negatives={options.negatives}",
        # the file's periods are for 800,000 steps: scaled so that a short run refreshes and checks a few times
        f"{sampler}refresh_every_n_steps={options.refresh_every}",
        f"{sampler}diagnostics_every_n_steps={options.diagnostics_every}",
    ]


def fit_arguments(arm: str, seed: int, options: argparse.Namespace, root_dir: str) -> list[str]:
    """The ``fit`` command of one run: the recipe cut to ``options.steps``, no validation, then the test graphs."""
    timer = {"class_path": "kmas_gpu.StepTimer", "init_args": {"warmup": min(10, options.steps // 5)}}
    arguments = [
        "fit",
        "-c",
        str(RECIPE),
        *arm_options(arm, options),
        f"--data.root={options.data_root}",
        f"--data.test_datasets=[{','.join(options.test_graphs)}]",
        f"--data.batch_size={options.batch_size}",
        f"--data.eval_batch_size={options.eval_batch_size}",
        # one epoch of exactly --steps batches: the KMAS schedule spans the run (trainer.estimated_stepping_batches)
        f"--data.batches_per_epoch={options.steps}",
        "--trainer.max_epochs=1",
        f"--trainer.max_steps={options.steps}",
        f"--trainer.accelerator={ACCELERATOR[options.device]}",
        f"--seed_everything={seed}",
        "--test_after_fit=true",
        "--trainer.limit_val_batches=0",
        f"--trainer.callbacks=[{yaml.safe_dump(timer, default_flow_style=True).strip()}]",
        "--trainer.enable_checkpointing=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        "--trainer.logger=false",
        f"--trainer.default_root_dir={root_dir}",
    ]
    if options.max_train_seconds:
        minutes, seconds = divmod(options.max_train_seconds, 60)
        hours, minutes = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        arguments.append(f"--trainer.max_time={days:02d}:{hours:02d}:{minutes:02d}:{seconds:02d}")
    if options.tiny:
        backbone = "--model.backbone.init_args."
        arguments += [f"{backbone}dim=16", f"{backbone}num_relation_layers=2", f"{backbone}num_entity_layers=2"]
        arguments.append("--trainer.limit_test_batches=4")  # 4 batches of 8 triples: 64 queries per graph
    return arguments


def run_arm(arm: str, seed: int, options: argparse.Namespace) -> dict[str, Any]:
    """One pretraining run and its zero-shot test, in this process: metrics per test graph, speed, memory."""
    import torch

    from lit_kgns.cli import cli_main

    torch.set_num_threads(options.threads)  # run_in_processes starts children single-threaded
    # the StepTimer that the callbacks name is this module's, not a second copy of it
    sys.modules.setdefault("kmas_gpu", sys.modules[__name__])
    sys.argv = ["lit-kgns"]
    with tempfile.TemporaryDirectory() as root_dir:  # the run writes only its config there: results go to --out
        cli = cli_main(fit_arguments(arm, seed, options, root_dir))
    print("sampler:", cli.config.fit.sampler.as_dict(), flush=True)  # the options the arm ran with, in its log
    timer = next(callback for callback in cli.trainer.callbacks if isinstance(callback, StepTimer))
    metrics = cli.trainer.callback_metrics
    graphs: dict[str, dict[str, float]] = {}
    for graph in options.test_graphs:
        # several test graphs are logged per graph; a single one only as test/<metric>
        prefix = f"test/{graph}/" if len(options.test_graphs) > 1 else "test/"
        graphs[graph] = {
            name: float(metrics[f"{prefix}{name[5:]}"]) for name in ("test_mrr", "test_hits@10", "test_hits@1")
        }
    cuda = cli.model.device.type == "cuda"
    return {
        "graphs": graphs,
        "steps_done": cli.trainer.global_step,
        "timed_steps": timer.steps,
        "train_seconds": timer.seconds,
        "peak_train_bytes": timer.peak_train_bytes,
        # the whole process, test included; without a GPU the resident set (ru_maxrss is in KiB on Linux)
        "peak_bytes": torch.cuda.max_memory_allocated(cli.model.device)
        if cuda
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "memory_kind": "cuda max_memory_allocated" if cuda else "process peak RSS",
        "device": torch.cuda.get_device_name(cli.model.device) if cuda else "cpu",
    }


def cell(values: list[float]) -> str:
    """Mean ± std over seeds (the mean alone for one seed)."""
    spread = f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.4f}{spread}"


def difference(arm: dict[int, float], baseline: dict[int, float]) -> str:
    """Paired difference arm - baseline over the seeds both finished, with a 95 % t interval for two or more."""
    seeds = sorted(set(arm) & set(baseline))
    if not seeds:
        return ""
    mean, low, high = t_interval([arm[seed] - baseline[seed] for seed in seeds])
    interval = f" [{low:+.4f}, {high:+.4f}]" if len(seeds) > 1 else ""
    return f"{mean:+.4f}{interval}"


def results_table(rows: list[dict[str, Any]], arms: list[str], graphs: list[str]) -> str:
    """Markdown table per graph and arm: MRR and Hits@10 (mean ± std over seeds), and each arm's paired
    difference to the baseline; last, per arm, the mean over the graphs (paired per seed)."""
    metrics = ("test_mrr", "test_hits@10")
    values: dict[tuple[str, str, str], dict[int, float]] = {}
    for row in rows:
        for metric in metrics:
            values.setdefault((row["dataset"], row["arm"], metric), {})[int(row["seed"])] = float(row[metric])
    # the mean over graphs is taken per seed over the seeds that finished every graph
    for arm in arms:
        for metric in metrics:
            per_graph = [values.get((graph, arm, metric), {}) for graph in graphs]
            seeds = set.intersection(*(set(scores) for scores in per_graph)) if per_graph else set()
            means = {seed: statistics.mean(scores[seed] for scores in per_graph) for seed in seeds}
            values[(f"**mean of {len(graphs)} graphs**", arm, metric)] = means
    lines = [
        f"| graph | arm | seeds | MRR | Hits@10 | Δ MRR vs {BASELINE} | Δ Hits@10 vs {BASELINE} |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for graph in [*graphs, f"**mean of {len(graphs)} graphs**"]:
        for arm in arms:
            mrr, hits = values.get((graph, arm, "test_mrr"), {}), values.get((graph, arm, "test_hits@10"), {})
            if not mrr:
                continue
            deltas = ["", ""]
            if arm != BASELINE:
                deltas = [difference(values[(graph, arm, m)], values.get((graph, BASELINE, m), {})) for m in metrics]
            cells = [graph, arm, str(len(mrr)), cell(list(mrr.values())), cell(list(hits.values())), *deltas]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure_lines(runs: dict[tuple[str, int], dict[str, Any]], steps: int) -> list[str]:
    """Per run: peak memory, and training steps per second."""
    lines = []
    for (arm, seed), run in runs.items():
        gib = lambda size: "n/a" if size is None else f"{size / 2**30:.2f} GiB"  # noqa: E731
        lines.append(
            f"peak memory [{arm}, seed {seed}]: training {gib(run['peak_train_bytes'])}, with the test "
            f"{gib(run['peak_bytes'])} ({run['memory_kind']}, {run['device']})"
        )
        rate = run["timed_steps"] / run["train_seconds"] if run["train_seconds"] > 0 else float("nan")
        stopped = "" if run["steps_done"] == steps else f"; stopped by --max-train-seconds after {run['steps_done']}"
        lines.append(
            f"steps per second [{arm}, seed {seed}]: {rate:.3f} ({run['timed_steps']} timed steps in "
            f"{run['train_seconds']:.1f} s, of {steps}{stopped}; run {run['seconds']:.0f} s with start-up and test)"
        )
    return lines


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, help="optimizer steps per arm (default 300; --tiny: 6)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1], help="each seed runs every arm (default 1)")
    parser.add_argument("--arms", nargs="+", default=list(ARM_NAMES), help=f"of {', '.join(ARM_NAMES)} (default both)")
    parser.add_argument("--batch-size", type=int, help="positives per batch (default: the recipe's 64; --tiny: 2)")
    parser.add_argument("--negatives", type=int, help="negatives per positive in every arm (default: the recipe's)")
    parser.add_argument("--eval-batch-size", type=int, help="test triples per batch (default 64; --tiny: 8)")
    parser.add_argument("--test-graphs", nargs="+", help="catalog names (default: the nine leak-free graphs)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto: cuda if there is one)")
    parser.add_argument("--data-root", type=Path, help="folder of the graphs (default: see the docstring)")
    parser.add_argument("--out", type=Path, help="results folder (default: $OUT if set, else runs/gpu_kmas)")
    parser.add_argument(
        "--refresh-every", type=int, help="KMAS similarity refresh period in steps (default steps/10, >= 3)"
    )
    parser.add_argument(
        "--diagnostics-every", type=int, help="KMAS diagnostics period in steps (default steps/4, >= 3)"
    )
    parser.add_argument(
        "--max-train-seconds", type=int, help="stop an arm's training after this; 0: never (default 180; --tiny: 0)"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads per run (default: up to 8; --tiny: 1)")
    parser.add_argument("--tiny", action="store_true", help="CPU dry run: ULTRA 16-d 2+2 layers, few steps")
    parser.add_argument("--copy-data-to", type=Path, help="copy the files the run reads there, then stop")
    parser.add_argument("--single", nargs=2, metavar=("ARM", "SEED"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    fill_defaults(options)
    check_options(options)
    return options


def fill_defaults(options: argparse.Namespace) -> None:
    """The defaults that depend on ``--tiny``, the recipe and the step budget."""
    tiny = options.tiny
    given = lambda name, default: default if getattr(options, name) is None else getattr(options, name)  # noqa: E731
    options.steps = given("steps", 6 if tiny else 300)
    options.batch_size = given("batch_size", 2 if tiny else recipe_value("data", "batch_size"))
    options.negatives = given("negatives", 16 if tiny else recipe_value("sampler", "init_args", "num_negatives"))
    options.eval_batch_size = given("eval_batch_size", 8 if tiny else 64)
    options.test_graphs = given("test_graphs", TINY_TEST_GRAPHS if tiny else TEST_GRAPHS)
    # a handful of refreshes and checks per run (the file's 1,000 steps are for 800,000), at least 3 apart
    options.refresh_every = given("refresh_every", max(3, options.steps // 10))
    options.diagnostics_every = given("diagnostics_every", max(3, options.steps // 4))
    options.max_train_seconds = given("max_train_seconds", 0 if tiny else 180)
    options.threads = given("threads", 1 if tiny else min(8, os.cpu_count() or 1))
    options.data_root = (options.data_root or default_data_root()).resolve()
    if options.out is None:
        options.out = Path(os.environ["OUT"]) if os.environ.get("OUT") else REPO / "runs" / "gpu_kmas"


def check_options(options: argparse.Namespace) -> None:
    """Bad input stops here, naming the option, before minutes of start-up are spent."""
    from lit_kgns.data.catalog import get_entry
    from lit_kgns.errors import UnknownDatasetError

    for name in ("steps", "batch_size", "negatives", "eval_batch_size", "refresh_every", "diagnostics_every"):
        if getattr(options, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(options, name)}")
    if options.threads < 1:
        raise SystemExit(f"--threads must be a positive integer, got {options.threads}")
    if options.max_train_seconds < 0:
        raise SystemExit(f"--max-train-seconds must be 0 (no limit) or positive, got {options.max_train_seconds}")
    if unknown := [arm for arm in options.arms if arm not in ARM_NAMES]:
        raise SystemExit(f"--arms: unknown {', '.join(unknown)}; choose from {', '.join(ARM_NAMES)}")
    if options.device not in ACCELERATOR:
        raise SystemExit(f"--device must be auto, cpu or cuda, got {options.device!r}")
    try:
        options.test_graphs = [get_entry(graph).name for graph in options.test_graphs]
    except UnknownDatasetError as error:
        raise SystemExit(f"--test-graphs: {error.message()}") from None
    if options.single is None and options.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: torch sees no CUDA device (torch.cuda.is_available() is False)")


def child_options(options: argparse.Namespace) -> list[str]:
    """The options a child run needs, every default already resolved in the parent."""
    values = {
        "--steps": options.steps,
        "--batch-size": options.batch_size,
        "--negatives": options.negatives,
        "--eval-batch-size": options.eval_batch_size,
        "--device": options.device,
        "--data-root": options.data_root,
        "--out": options.out,
        "--refresh-every": options.refresh_every,
        "--diagnostics-every": options.diagnostics_every,
        "--max-train-seconds": options.max_train_seconds,
        "--threads": options.threads,
    }
    arguments = [str(item) for option, value in values.items() for item in (option, value)]
    return [*arguments, "--test-graphs", *options.test_graphs, *(["--tiny"] if options.tiny else [])]


def main() -> None:
    options = parse_arguments()
    training = recipe_value("data", "train_datasets")
    if options.copy_data_to is not None:
        copy_data(options.data_root, options.copy_data_to, [*training, *options.test_graphs])
        return
    check_data(options.data_root, [*training, *options.test_graphs])
    if options.single:
        arm, seed = options.single
        report_result(run_arm(arm, int(seed), options))
        return
    options.out.mkdir(parents=True, exist_ok=True)
    results = options.out / "results.csv"
    results.unlink(missing_ok=True)  # one run, one table: rows are appended as each arm finishes
    jobs = [(arm, seed) for seed in options.seeds for arm in options.arms]
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []

    def command(job: tuple[str, int]) -> list[str]:
        return [sys.executable, __file__, "--single", job[0], str(job[1]), *child_options(options)]

    def log_file(job: tuple[str, int]) -> Path:
        return options.out / f"{job[0]}_{job[1]}.log"

    def record(job: tuple[str, int], run: dict[str, Any], seconds: float) -> None:
        arm, seed = job
        runs[job] = {**run, "seconds": seconds}
        mib = lambda size: "" if size is None else round(size / 2**20, 1)  # noqa: E731
        speed = run["timed_steps"] / run["train_seconds"] if run["train_seconds"] > 0 else math.nan
        shared = {
            "arm": arm,
            "seed": seed,
            "steps": options.steps,
            "steps_done": run["steps_done"],
            "batch_size": options.batch_size,
            "negatives": options.negatives,
            "steps_per_s": round(speed, 4),
            "peak_train_mib": mib(run["peak_train_bytes"]),
            "peak_mib": mib(run["peak_bytes"]),
            "memory_kind": run["memory_kind"],
            "device": run["device"],
            "seconds": seconds,
        }
        new = [{"dataset": graph, **shared, **metrics} for graph, metrics in run["graphs"].items()]
        append_rows(results, FIELDS, new)
        rows.extend(new)
        print(f"{arm} seed {seed}: {seconds:.0f} s", flush=True)

    started = time.perf_counter()
    print(f"{len(jobs)} runs of {options.steps} steps, device {options.device}, logs in {options.out}", flush=True)
    run_in_processes(jobs, command, log_file, record)
    failed = [job for job in jobs if job not in runs]
    for job in failed:  # on the GPU machine the output's tail may be all that comes back: show why
        tail = log_file(job).read_text(errors="replace").splitlines()[-30:]
        print(f"--- last lines of {log_file(job)} ---", *tail, sep="\n")
    table = results_table(rows, [arm for arm in ARM_NAMES if arm in options.arms], options.test_graphs)
    figures = figure_lines(runs, options.steps)
    print("", table, "", *figures, sep="\n")
    header = f"ULTRA 3-graph recipe, {options.steps} steps, batch {options.batch_size} x {options.negatives} negatives"
    (options.out / "results.md").write_text("\n".join([header, "", table, "", *figures, ""]), encoding="utf-8")
    print(f"\nwall time {time.perf_counter() - started:.0f} s; results.md and results.csv in {options.out}")
    if failed:
        raise SystemExit(f"{len(failed)} of {len(jobs)} runs failed: {', '.join(f'{a} seed {s}' for a, s in failed)}")


if __name__ == "__main__":
    main()
