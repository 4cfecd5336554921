"""ULTRA on GraIL FB15k-237 v1: zero-shot evaluation time, and the time and peak memory of a fine-tuning step.

    python benchmarks/ultra_fb237_v1.py [--data-root ../shared/data] [--steps 10] [--device cpu]

Evaluation: the released ultra_3g checkpoint on the 822 test queries (upstream protocol), eval batch 32.
Fine-tuning step: batch 16, 256 strict-uniform negatives, AdamW, the batch's edges hidden (upstream's
defaults); wall time per step after 2 warm-up steps, and peak memory of the first step above the memory
before it (resident memory on CPU, ``torch.cuda.max_memory_allocated`` on CUDA), run before the evaluation.
The metrics printed alongside check that the timed evaluation is the faithful one.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

from lit_kgns.backbones import Ultra
from lit_kgns.data.catalog import load_dataset
from lit_kgns.losses import self_adversarial_bce
from lit_kgns.metrics import RankingMetrics, filtered_ranks
from lit_kgns.samplers import StrictUniformSampler
from lit_kgns.scoring import score_candidates, score_targets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS


def zero_shot(model: Ultra, split, device: torch.device, batch_size: int = 32) -> tuple[float, dict[str, float]]:
    split = split.to(device)
    metric = RankingMetrics().to(device)
    start = time.perf_counter()
    with torch.no_grad():
        for triples in split.targets.split(batch_size):
            queries = score_targets(model, split, triples)
            metric.update(*filtered_ranks(queries.scores, queries.answers, queries.known))
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, {key: round(value.item(), 4) for key, value in metric.compute().items()}


def fine_tuning_steps(model: Ultra, split, device: torch.device, steps: int) -> tuple[list[float], float]:
    model.train()
    sampler = StrictUniformSampler(num_negatives=256, seed=0)
    sampler.attach([split], device)
    train = sampler.graphs[0]
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    generator = torch.Generator().manual_seed(0)
    times, peaks = [], []
    for step in range(steps + 2):
        positives = train.triples[torch.randint(len(train.triples), (16,), generator=generator).to(device)]
        sampler.reseed(0, step, device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        with PeakRSS() as rss:
            start = time.perf_counter()
            negatives = sampler.sample(positives)
            scores = score_candidates(model, train.graph, positives, negatives)
            loss = self_adversarial_bce(scores, negatives.mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - start
        # the first step's peak is the clean one on CPU: later steps reuse memory the allocator kept
        peaks.append((torch.cuda.max_memory_allocated() - before) / 2**20 if device.type == "cuda" else rss.delta_mb)
        if step >= 2:
            times.append(elapsed)
    return times, peaks[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dataset = load_dataset("grail_fb237_v1", args.data_root)
    model = Ultra(checkpoint=str(Path(args.data_root) / "ultra_ckpts" / "ultra_3g.pth")).to(device).eval()

    print(f"device {device} ({torch.get_num_threads()} threads), torch {torch.__version__}")
    # fine-tuning first (on a copy): its first step's peak is only clean before anything else ran
    times, peak = fine_tuning_steps(copy.deepcopy(model), dataset.train, device, args.steps)
    seconds, metrics = zero_shot(model, dataset.test, device)
    print(f"zero-shot ultra_3g, GraIL FB15k-237 v1, 822 queries: {seconds:.1f} s  {metrics}")
    print(
        f"fine-tuning step (batch 16, 256 negatives): {1000 * statistics.median(times):.0f} ms median "
        f"(min {1000 * min(times):.0f}, max {1000 * max(times):.0f}, {len(times)} steps), "
        f"peak memory of the first step {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
