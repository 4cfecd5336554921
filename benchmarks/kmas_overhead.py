"""KMAS overhead: training-step time and peak memory against strict uniform negatives, and the cost of a
similarity-cache refresh and of sampling alone (every KMAS option against strict uniform, as ratios) on
FB15k-237, CoDEx-M and a synthetic graph (1M entities, 1k relations, 10M triples).

    PYTHONPATH=. python benchmarks/kmas_overhead.py [--data-root ../shared/data] [--steps 40]
        [--skip-steps] [--skip-synthetic]

Step figures come from two child processes (one per sampler) running the same config, so that peak
memory is measured from a clean process: peak RSS above the pre-fit baseline on CPU (sampled by a thread,
every 2 ms), ``torch.cuda.max_memory_allocated`` on CUDA. Targets: time ratio <= 1.03, memory <= 1.05;
sampling alone within 2x strict uniform's per batch with every option (log-q included) where the draw
table is built, at 64 positives (a KGFM's batch) and 1,024 (an embedding model's); refresh < 10 s and
< 2 GB on the synthetic graph.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from lit_kgns.backbones import KGBackbone, Ultra
from lit_kgns.data.graph import KGGraph, LinkPredictionSplit
from lit_kgns.samplers import KMASSampler, StrictUniformSampler
from lit_kgns.samplers.kmas import relation_tails

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS


class StepTimer(pl.Callback):
    """Wall time of every training batch (sampling, forward, backward, optimizer, refreshes included)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_batch_start(self, *args: Any) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, *args: Any) -> None:
        self.times.append(time.perf_counter() - self._start)


def step_benchmark(sampler_name: str, steps: int, data_root: str | None) -> dict[str, float]:
    """One fit of a small ULTRA on UMLS with the named sampler: ms/step (after 5 warm-up steps), peak MB."""
    from lit_kgns.data.datamodule import KGDataModule
    from lit_kgns.module import KGLinkPrediction

    pl.seed_everything(0)
    common = {"num_negatives": 64, "seed": 0}
    sampler = (
        StrictUniformSampler(**common)
        if sampler_name == "uniform"
        else KMASSampler(**common, top_k=8, refresh_every_n_steps=20, diagnostics_every_n_steps=None)
    )
    if isinstance(sampler, KMASSampler):
        sampler.schedule.warmup_end = 0.0  # hard negatives from the first step: the worst case for time
    timer = StepTimer()
    module = KGLinkPrediction(Ultra(dim=32, num_relation_layers=4, num_entity_layers=4))
    datamodule = KGDataModule(dataset="umls", root=data_root, batch_size=16, batches_per_epoch=steps)
    trainer = pl.Trainer(
        accelerator="auto",
        devices=1,
        max_epochs=1,
        limit_val_batches=0,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        callbacks=[sampler, timer],
    )
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with PeakRSS() as memory:
        trainer.fit(module, datamodule=datamodule)
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else memory.delta_mb
    times = timer.times[5:]
    return {"ms_per_step": 1000 * sum(times) / len(times), "peak_mb": peak}


def run_child(sampler_name: str, steps: int, data_root: str | None) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", sampler_name, "--steps", str(steps)]
    if data_root:
        command += ["--data-root", data_root]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


class RandomRelations(KGBackbone):
    """Query-free random relation embeddings: isolates cache build and sampling from the backbone."""

    def __init__(self, num_relations: int, dim: int = 64) -> None:
        super().__init__()
        self.table = torch.randn(num_relations, dim, generator=torch.Generator().manual_seed(0))

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        raise NotImplementedError

    def relation_representations(self, graph: KGGraph, query_relations: Tensor | None = None) -> Tensor:
        return self.table


def measure(label: str, work: Callable[[], Any]) -> Any:
    with PeakRSS() as memory:
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
    print(f"  {label:<44s} {seconds:8.3f} s   peak +{memory.delta_mb:8.1f} MB")
    return result


def refresh_benchmark(
    split: LinkPredictionSplit, backbone: KGBackbone, label: str, batch_sizes: tuple[int, ...] = (64, 1024)
) -> None:
    """Attach, refresh, then sampling alone: every KMAS option against strict uniform, same batch, same seed,
    at each batch size (64 positives: a KGFM step; 1024: an embedding model's)."""
    graph = split.graph
    print(
        f"{label}: {graph.num_nodes} entities, {graph.num_direct_relations} relations, {graph.num_edges // 2} triples"
    )
    sampler = KMASSampler(num_negatives=256, seed=0, diagnostics_every_n_steps=None)
    measure("attach (base: TripleIndex, Bernoulli stats)", lambda: sampler.attach([split]))
    measure("relation -> tails CSR (once per graph)", lambda: relation_tails(graph))
    measure("similarity cache + draw tables refresh", lambda: sampler.refresh(backbone))
    table = sampler.tables[0]
    if table is not None:
        print(f"  draw table: {len(table.keys)} entries, {table.nbytes() / 2**20:.1f} MB")
    for batch_size in batch_sizes:
        sampling_benchmark(split, sampler, batch_size)


def sampling_benchmark(split: LinkPredictionSplit, sampler: KMASSampler, batch_size: int) -> None:
    """Sampling alone, every KMAS option against strict uniform, interleaved rounds; median ms per batch."""
    positives = split.targets[
        torch.randperm(len(split.targets), generator=torch.Generator().manual_seed(0))[:batch_size]
    ]
    uniform = StrictUniformSampler(num_negatives=256, seed=0)
    uniform.graphs = sampler.graphs
    options = {"strict uniform": (uniform, {}), "KMAS (default)": (sampler, {"log_q_correction": 0.0})}
    options["KMAS, log-q 1"] = (sampler, {"log_q_correction": 1.0})
    options["KMAS, relation then tail (no table)"] = (sampler, {"log_q_correction": 0.0, "tables": [None]})
    options["KMAS, relation then tail, log-q 1"] = (sampler, {"log_q_correction": 1.0, "tables": [None]})
    sampler.hard_ratio = 0.5
    tables = sampler.tables
    repeats = max(2, 20 * 64 // batch_size)
    print(
        f"  sampling alone, {batch_size} x 256 negatives, hard ratio 0.5 (median of 9 interleaved rounds of {repeats}):"
    )
    seconds: dict[str, list[float]] = {name: [] for name in options}
    peaks: dict[str, float] = dict.fromkeys(options, 0.0)
    for _ in range(9):  # interleaved, so that a change of the machine's load reaches every option alike
        for name, (candidate, settings) in options.items():
            for key, value in {"tables": tables, **settings}.items():
                setattr(candidate, key, value)
            candidate.reseed(0, 0)
            candidate.sample(positives)  # warm-up
            with PeakRSS() as memory:
                start = time.perf_counter()
                for _ in range(repeats):
                    candidate.sample(positives)
                seconds[name].append((time.perf_counter() - start) / repeats)
            peaks[name] = max(peaks[name], memory.delta_mb)
    baseline = statistics.median(seconds["strict uniform"])
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"    {name:<38s} {1000 * median:7.3f} ms/batch  x{median / baseline:5.2f}  peak +{peaks[name]:7.1f} MB")
    sampler.tables = tables


def synthetic_split(num_entities: int, num_relations: int, num_triples: int) -> LinkPredictionSplit:
    generator = torch.Generator().manual_seed(0)
    triples = torch.stack(
        [
            torch.randint(num_entities, (num_triples,), generator=generator),
            torch.randint(num_relations, (num_triples,), generator=generator),
            torch.randint(num_entities, (num_triples,), generator=generator),
        ],
        dim=1,
    )
    graph = KGGraph.from_triples(triples, num_entities, num_relations, "synthetic")
    return LinkPredictionSplit("synthetic", graph, triples, triples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--child", choices=["uniform", "kmas"], default=None)
    parser.add_argument("--skip-steps", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    default_root = Path(__file__).resolve().parents[2] / "shared" / "data"
    data_root = (
        args.data_root or os.environ.get("LIT_KGNS_DATA") or (str(default_root) if default_root.is_dir() else None)
    )
    if args.child:
        print(json.dumps(step_benchmark(args.child, args.steps, data_root)))
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, data root {data_root}")
    if not args.skip_steps:
        uniform = run_child("uniform", args.steps, data_root)
        kmas = run_child("kmas", args.steps, data_root)
        print(f"UMLS, ULTRA dim 32 / 4+4 layers, batch 16, 64 negatives, {args.steps} steps (KMAS: refresh every 20):")
        for name, row in (("strict uniform", uniform), ("KMAS", kmas)):
            print(f"  {name:<16s} {row['ms_per_step']:8.1f} ms/step   peak +{row['peak_mb']:8.1f} MB")
        print(
            f"  ratio KMAS / uniform: time {kmas['ms_per_step'] / uniform['ms_per_step']:.3f} "
            "(target <= 1.03), "
            f"memory {kmas['peak_mb'] / max(uniform['peak_mb'], 1e-9):.3f} (target <= 1.05)"
        )
    from lit_kgns.data.catalog import load_dataset

    for name, label in (("fb15k-237", "FB15k-237"), ("codex-m", "CoDEx-M")):
        try:
            dataset = load_dataset(name, data_root)
        except Exception as error:  # the benchmark data may be absent offline
            print(f"{label} skipped: {type(error).__name__}: {error}")
            continue
        torch.manual_seed(0)
        refresh_benchmark(
            dataset.train, Ultra(dim=64, num_relation_layers=6, num_entity_layers=6), f"{label}, ULTRA 64/6"
        )
    if not args.skip_synthetic:
        split = measure("build synthetic graph (not KMAS)", lambda: synthetic_split(1_000_000, 1_000, 10_000_000))
        refresh_benchmark(split, RandomRelations(2_000), "synthetic, random relation embeddings")


if __name__ == "__main__":
    main()
