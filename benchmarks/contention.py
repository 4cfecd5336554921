"""Speed on a shared machine: a training step and a zero-shot pass, idle and with a busy core beside them, at
torch's fixed thread count and with ``--threads auto`` (:mod:`lit_kgns.threads`); and start-up time.

    python benchmarks/contention.py [--data-root ../shared/data] [--steps 4] [--skip-startup]

Step: released ULTRA 3g on FB15k-237's training graph, 4 positives, 256 strict-uniform negatives, backward
(median of ``--steps`` after one warm-up). Zero-shot: the same checkpoint on GraIL FB15k-237 v1's test split,
each distinct query once. "Busy" runs a Python loop (``while True: pass``) in another process throughout.
``auto`` re-reads the free cores before every step and every eight evaluation batches, as the Callback does
every ten batches. Targets: busy / idle at most 2 for the step and the zero-shot pass with ``auto``. Start-up:
``lit-kgns --help`` against ``python -c "import torch"``, medians of 3.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import torch

from lit_kgns.backbones import Ultra
from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.evaluation_queries import EvaluationQueries
from lit_kgns.losses import self_adversarial_bce
from lit_kgns.metrics import filtered_ranks
from lit_kgns.samplers import StrictUniformSampler
from lit_kgns.scoring import score_answers, score_candidates
from lit_kgns.threads import CoreMonitor, free_cores_now


@contextmanager
def busy_core(on: bool):
    """A busy Python loop in another process while the block runs (nothing if not ``on``)."""
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        time.sleep(1.0 if on else 0.0)
        yield
    finally:
        if loop is not None:
            loop.kill()
            loop.wait()


def threads_for(mode: str) -> Callable[[], None]:
    """What runs before each step: nothing at a fixed count, a new reading of the free cores with ``auto``."""
    if mode != "auto":
        torch.set_num_threads(int(mode))
        return lambda: None
    torch.set_num_threads(free_cores_now() or torch.get_num_threads())
    monitor = CoreMonitor()

    def follow() -> None:
        free = monitor.free_cores()
        if free is not None:
            torch.set_num_threads(free)

    return follow


def step_seconds(model: Ultra, sampler: StrictUniformSampler, steps: int, before: Callable[[], None]) -> float:
    generator = torch.Generator().manual_seed(0)
    graph = sampler.graphs[0]
    times = []
    for _ in range(steps + 1):
        before()
        start = time.perf_counter()
        positives = graph.triples[torch.randint(len(graph.triples), (4,), generator=generator)]
        negatives = sampler.sample(positives)
        loss = self_adversarial_bce(score_candidates(model, graph.graph, positives, negatives), negatives.mask)
        loss.backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def zero_shot_seconds(model: Ultra, split, before: Callable[[], None]) -> tuple[float, float]:
    queries = EvaluationQueries(split.targets, split.tail_only)
    start, ranks = time.perf_counter(), []
    with torch.no_grad():
        for index, first in enumerate(range(0, len(queries), 64)):
            if index % 8 == 0:
                before()
            scored = score_answers(model, split, queries.collate(list(range(first, min(first + 64, len(queries))))))
            ranks.append(filtered_ranks(scored.scores, scored.answers, scored.known)[0])
    return time.perf_counter() - start, float((1 / torch.cat(ranks)).mean())


def startup_seconds(command: list[str]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--skip-startup", action="store_true")
    args = parser.parse_args()
    initial = torch.get_num_threads()
    model = Ultra(checkpoint=str(Path(args.data_root) / "ultra_ckpts" / "ultra_3g.pth"))
    sampler = StrictUniformSampler(num_negatives=256, seed=0)
    sampler.attach([load_dataset("fb15k-237", args.data_root).train])
    test = load_dataset("grail_fb237_v1", args.data_root).test
    print(f"torch {torch.__version__}, {initial} threads by default")
    print("| threads | step idle s | step busy s | ratio | zero-shot idle s | zero-shot busy s | ratio | MRR |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode in (str(initial), "auto"):
        seconds, mrrs = {}, set()
        for busy in (False, True):
            with busy_core(busy):
                seconds["step", busy] = step_seconds(model, sampler, args.steps, threads_for(mode))
                seconds["zero", busy], mrr = zero_shot_seconds(model, test, threads_for(mode))
                mrrs.add(round(mrr, 6))
        step_ratio = seconds["step", True] / seconds["step", False]
        zero_ratio = seconds["zero", True] / seconds["zero", False]
        print(
            f"| {mode} | {seconds['step', False]:.2f} | {seconds['step', True]:.2f} | {step_ratio:.2f} | "
            f"{seconds['zero', False]:.1f} | {seconds['zero', True]:.1f} | {zero_ratio:.2f} | "
            f"{' / '.join(f'{value:.4f}' for value in sorted(mrrs))} |",
            flush=True,
        )
    torch.set_num_threads(initial)
    if not args.skip_startup:
        bare = startup_seconds([sys.executable, "-c", "import torch"])
        help_ = startup_seconds([sys.executable, "-m", "lit_kgns", "--help"])
        print(f"start-up: import torch {bare:.2f} s, lit-kgns --help {help_:.2f} s (+{help_ - bare:.2f} s)")


if __name__ == "__main__":
    main()
