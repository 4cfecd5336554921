"""Model × sampler grid on a small dataset: filtered MRR / Hits@10 (pessimistic ties) on the test split.

    PYTHONPATH=. python benchmarks/sampler_grid.py --dataset nations --epochs 30

Plain training loop (no Trainer) so the grid stays fast on CPU: Adam, batch 256, K negatives, the loss of
each model (margin for translational models, NSSA otherwise), filtered ranking against train ∪ valid ∪ test.
"""

from __future__ import annotations

import argparse

import torch

from lit_kgns.backbones.kge import KGE_MODELS
from lit_kgns.data.catalog import load_dataset
from lit_kgns.losses import margin_ranking, nssa
from lit_kgns.metrics import filtered_ranks
from lit_kgns.samplers import (
    AdversarialSampler,
    BernoulliSampler,
    CorruptSampler,
    NearestNeighborSampler,
    RelationalSampler,
    StrictUniformSampler,
    UniformSampler,
)
from lit_kgns.scoring import score_candidates

SAMPLERS = {
    "uniform": lambda k, m: UniformSampler(k),
    "bernoulli": lambda k, m: BernoulliSampler(k),
    "strict": lambda k, m: StrictUniformSampler(k),
    "corrupt": lambda k, m: CorruptSampler(k),
    "relational": lambda k, m: RelationalSampler(k),
    "nn": lambda k, m: NearestNeighborSampler(num_query_results=32, num_negatives=k),
    "adversarial": lambda k, m: AdversarialSampler(num_query_results=32, num_negatives=k),
}


def evaluate(model, split) -> tuple[float, float]:
    triples = split.targets
    heads, relations, tails = triples.t()
    anchors, query = torch.cat([heads, tails]), torch.cat([relations, relations])
    head_queries = torch.arange(2 * len(triples)) >= len(triples)
    with torch.no_grad():
        scores = model(split.graph, anchors, query, head_queries)
    known = split.known_answers.answer_mask(anchors, query + head_queries.long() * split.graph.num_direct_relations)
    ranks, _ = filtered_ranks(scores, torch.cat([tails, heads]), known, "pessimistic")
    ranks = ranks.float()
    return float((1 / ranks).mean()), float((ranks <= 10).float().mean())


def train(name: str, sampler_name: str, data, epochs: int, k: int, dim: int, seed: int) -> tuple[float, float]:
    train_split = data.train
    num_nodes, num_relations = train_split.graph.num_nodes, train_split.graph.num_direct_relations
    torch.manual_seed(seed)
    model = KGE_MODELS[name](num_nodes, num_relations, dim)
    # Dynamic samplers: a frozen copy of the trained model is their source, refreshed every epoch.
    sampler = SAMPLERS[sampler_name](k, model)
    sampler.seed = seed
    sampler.attach([train_split])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    translational = name in ("transe", "transh", "transr")
    for epoch in range(epochs):
        if hasattr(sampler, "set_model"):
            sampler.set_model(model)
        order = torch.randperm(len(train_split.targets), generator=torch.Generator().manual_seed(seed + epoch))
        for index, begin in enumerate(range(0, len(order), 256)):
            sampler.reseed(epoch, index)
            positives = train_split.targets[order[begin : begin + 256]]
            negatives = sampler.sample(positives)
            scores = score_candidates(model, train_split.graph, positives, negatives, hide_batch=False)
            loss = (
                margin_ranking(scores, negatives.mask, 1.0) if translational else nssa(scores, negatives.mask, 6.0, 1.0)
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return evaluate(model.eval(), data.test)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="nations")
    parser.add_argument("--root", default=None)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--negatives", type=int, default=32)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="*", default=sorted(KGE_MODELS))
    parser.add_argument("--samplers", nargs="*", default=list(SAMPLERS))
    args = parser.parse_args()
    data = load_dataset(args.dataset, args.root)
    print(f"{args.dataset}: test MRR / Hits@10 (filtered, pessimistic), {args.epochs} epochs, K {args.negatives}")
    print(f"{'model':<10}" + "".join(f"{s:>18}" for s in args.samplers))
    for name in args.models:
        cells = []
        for sampler_name in args.samplers:
            mrr, hits = train(name, sampler_name, data, args.epochs, args.negatives, args.dim, args.seed)
            cells.append(f"{mrr:.3f} / {hits:.3f}")
        print(f"{name:<10}" + "".join(f"{c:>18}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
