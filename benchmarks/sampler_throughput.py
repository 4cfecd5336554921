"""Negatives per second of each lit_kgns sampler against PyKEEN's samplers, in the same run, on CPU.

    PYTHONPATH=. python benchmarks/sampler_throughput.py --dataset fb15k-237 --batch-size 1024 --negatives 256

Ratios are lit_kgns / PyKEEN ``BasicNegativeSampler`` (unfiltered), and for filtered samplers also against
``BasicNegativeSampler`` with its Bloom filterer. Dynamic samplers use a random TransE (dim 200) as source.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from pykeen.sampling import BasicNegativeSampler, PseudoTypedNegativeSampler

from lit_kgns.backbones import TransE
from lit_kgns.data.catalog import load_dataset
from lit_kgns.samplers import (
    AdversarialSampler,
    BernoulliSampler,
    CorruptSampler,
    NearestNeighborSampler,
    RelationalSampler,
    StrictUniformSampler,
    UniformSampler,
)


def rate(step, batches: list[torch.Tensor], negatives: int) -> float:
    step(batches[0])  # warm-up (builds cached pools)
    start = time.perf_counter()
    for batch in batches[1:]:
        step(batch)
    return len(batches[1:]) * len(batches[0]) * negatives / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="fb15k-237")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--negatives", type=int, default=256)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument(
        "--root",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "data"),
        help="data root holding the dataset folder",
    )
    args = parser.parse_args()
    torch.manual_seed(0)
    split = load_dataset(args.dataset, args.root).train
    triples = split.targets
    batches = [triples[torch.randint(len(triples), (args.batch_size,))] for _ in range(args.batches + 1)]
    k, n = args.negatives, split.graph.num_nodes
    pykeen = {
        "pykeen basic": BasicNegativeSampler(mapped_triples=triples, num_entities=n, num_negs_per_pos=k),
        "pykeen pseudotyped": PseudoTypedNegativeSampler(mapped_triples=triples, num_negs_per_pos=k),
        "pykeen basic+bloom": BasicNegativeSampler(
            mapped_triples=triples, num_entities=n, num_negs_per_pos=k, filtered=True, filterer="bloom"
        ),
    }
    results = {name: rate(lambda b, s=s: s.sample(b), batches, k) for name, s in pykeen.items()}
    model = TransE(n, split.graph.num_direct_relations, 200)
    ours = {
        "uniform": UniformSampler(k),
        "bernoulli": BernoulliSampler(k),
        "strict uniform": StrictUniformSampler(k),
        "corrupt (filtered)": CorruptSampler(k),
        "relational (filtered)": RelationalSampler(k),
        "nearest neighbor (filtered)": NearestNeighborSampler(model=model, num_negatives=k),
        "adversarial (filtered)": AdversarialSampler(model=model, num_negatives=k),
    }
    for name, sampler in ours.items():
        sampler.attach([split])
        results[name] = rate(lambda b, s=sampler: s.sample(b), batches, k)
    basic, bloom = results["pykeen basic"], results["pykeen basic+bloom"]
    print(f"{args.dataset}: batch {args.batch_size}, K {k}, {torch.get_num_threads()} threads")
    print(f"{'sampler':<30}{'negatives/s':>14}{'/ basic':>10}{'/ basic+bloom':>15}")
    for name, value in results.items():
        print(f"{name:<30}{value:>14,.0f}{value / basic:>10.2f}{value / bloom:>15.2f}")


if __name__ == "__main__":
    main()
