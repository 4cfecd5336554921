"""Pool statistics of a sampler on a training split (the both-sides definition of the samplers notes).

Query combos are the unique ``(h, r)`` pairs of the training triples (tail corruption) and the unique
``(t, r)`` pairs (head corruption); a sampler whose pool depends on the replaced entity (NearestNeighbor)
is measured per triple and side instead. For each combo:

* pool size = number of pool entries that are not known positives of the combo (multiset: duplicates count;
  ``unique``: distinct entities);
* ``avg_pool`` = mean pool size over combos; ``no_pool`` = % of combos with an empty pool;
  ``pool_lt_k`` = % of combos with pool size ``< k`` (strict, on both sides), ``k`` in ``{2, 10, 40, 100}``;
* ``no_pool_original`` = the extension's bucket 0 (only empty *tail* pools, over all combos).

Samplers without pools (uniform) count every entity as pool. Run
``python -m lit_kgns.commands.pool_statistics --dataset umls --sampler corrupt`` for the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import Tensor

from lit_kgns.data.graph import LinkPredictionSplit
from lit_kgns.samplers.base import NegativeSampler
from lit_kgns.samplers.pools import PoolSampler

THRESHOLDS = (0, 2, 10, 40, 100)
SIDES = ("both", "tail", "head")


def query_combos(sampler: NegativeSampler, split: LinkPredictionSplit) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(anchors, query_relations, answers, head_side)`` of the combos to measure (tail side first)."""
    triples = split.targets.to(sampler.graphs[0].graph.device if sampler.graphs else "cpu")
    heads, relations, tails = triples.t()
    num_direct = split.graph.num_direct_relations
    if getattr(sampler, "pool_depends_on_answer", False):
        tail = torch.stack([heads, relations, tails], 1)
        head = torch.stack([tails, relations + num_direct, heads], 1)
    else:
        # Unique (anchor, relation) pairs; the answer is irrelevant to the pool (any true one stands in).
        tail = torch.unique(torch.stack([heads, relations], 1), dim=0)
        head = torch.unique(torch.stack([tails, relations + num_direct], 1), dim=0)
        tail = torch.cat([tail, tail[:, :1]], 1)
        head = torch.cat([head, head[:, :1]], 1)
    combos = torch.cat([tail, head])
    head_side = torch.arange(len(combos), device=combos.device) >= len(tail)
    return combos[:, 0], combos[:, 1], combos[:, 2], head_side


@torch.no_grad()
def pool_sizes(sampler: NegativeSampler, split: LinkPredictionSplit, chunk: int = 1024) -> dict[str, Tensor]:
    """Per combo: ``multiset`` and ``unique`` pool size (known positives removed), and ``head_side``.

    Counted from the pool entries themselves (``O(pool entries)``, never a ``(combos, num_nodes)`` table), so
    large graphs with small pools stay cheap; samplers without pools count every entity that is not a known
    answer."""
    if not sampler.graphs:
        sampler.attach([split])
    device = sampler.graphs[0].graph.device
    known = split.known_answers.to(device)
    anchors, relations, answers, head_side = query_combos(sampler, split)
    if not isinstance(sampler, PoolSampler):
        start, end = known.answer_ranges(anchors, relations)
        size = split.graph.num_nodes - (end - start)
        return {"multiset": size, "unique": size.clone(), "head_side": head_side}
    multiset, unique = [], []
    for begin in range(0, len(anchors), chunk):
        part = slice(begin, begin + chunk)
        num_rows, num_nodes = len(anchors[part]), split.graph.num_nodes
        rows, entities = sampler.pool_ranges(anchors[part], relations[part], answers[part], 0).members()
        negative = ~known.contains(anchors[part][rows], relations[part][rows], entities)
        rows, entities = rows[negative], entities[negative]
        multiset.append(torch.bincount(rows, minlength=num_rows))
        distinct = torch.unique(rows * num_nodes + entities)
        unique.append(torch.bincount(distinct // num_nodes, minlength=num_rows))
    return {"multiset": torch.cat(multiset), "unique": torch.cat(unique), "head_side": head_side}


def summarise(sizes: Tensor, head_side: Tensor, thresholds: tuple[int, ...] = THRESHOLDS) -> dict[str, float]:
    """Average pool, % no pool, % pool < k per side (``both``, ``tail``, ``head``)."""
    result: dict[str, float] = {}
    for side in SIDES:
        keep = torch.ones_like(head_side) if side == "both" else head_side == (side == "head")
        values = sizes[keep].double()
        result[f"{side}/combos"] = float(len(values))
        result[f"{side}/avg_pool"] = float(values.mean()) if len(values) else 0.0
        for k in thresholds:
            name = "no_pool" if k == 0 else f"pool_lt_{k}"
            hit = values == 0 if k == 0 else values < k
            result[f"{side}/{name}"] = 100 * float(hit.double().mean()) if len(values) else 0.0
    result["both/no_pool_original"] = 100 * float(((sizes == 0) & ~head_side).double().mean())
    return result


def pool_statistics(
    sampler: NegativeSampler, split: LinkPredictionSplit, thresholds: tuple[int, ...] = THRESHOLDS
) -> dict[str, float]:
    """Pool statistics of ``sampler`` on ``split`` (both-sides definition); keys ``<side>/<statistic>``
    for the multiset pools and ``unique/<side>/<statistic>`` for the deduplicated ones."""
    sizes = pool_sizes(sampler, split)
    result = summarise(sizes["multiset"], sizes["head_side"], thresholds)
    result.update(
        {f"unique/{key}": value for key, value in summarise(sizes["unique"], sizes["head_side"], thresholds).items()}
    )
    return result


def format_table(statistics: dict[str, float], thresholds: tuple[int, ...] = THRESHOLDS) -> str:
    columns = ["combos", "avg_pool", "no_pool"] + [f"pool_lt_{k}" for k in thresholds if k]
    lines = [f"{'pools':<16}" + "".join(f"{column:>12}" for column in columns)]
    for prefix in ("", "unique/"):
        for side in SIDES:
            label = f"{prefix or 'multiset/'}{side}"
            lines.append(f"{label:<16}" + "".join(f"{statistics[f'{prefix}{side}/{c}']:>12.2f}" for c in columns))
    lines.append(f"no pool, original bucket 0 (tail pools only): {statistics['both/no_pool_original']:.2f} %")
    return "\n".join(lines)


def build_sampler(name: str) -> NegativeSampler:
    from lit_kgns import samplers

    registry = {
        "random": samplers.UniformSampler,
        "uniform": samplers.UniformSampler,
        "corrupt": samplers.CorruptSampler,
        "pseudotyped": samplers.CorruptSampler,
        "relational": samplers.RelationalSampler,
    }
    if name not in registry:
        raise SystemExit(f"unknown sampler {name!r}; choose from {sorted(registry)}")
    return registry[name]()


def load_training_split(name: str, root: str | None) -> LinkPredictionSplit:
    from lit_kgns.data.catalog import load_dataset

    return load_dataset(name, Path(root) if root else None).train


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Pool statistics of a negative sampler on a training split")
    parser.add_argument("--dataset", default="umls")
    parser.add_argument("--sampler", default="corrupt")
    parser.add_argument("--root", default=None, help="data root (default: the catalog's)")
    args = parser.parse_args(argv)
    split = load_training_split(args.dataset, args.root)
    sampler = build_sampler(args.sampler)
    sampler.attach([split])
    print(f"{args.dataset} / {args.sampler}: {len(split.targets)} training triples")
    print(format_table(pool_statistics(sampler, split)))


if __name__ == "__main__":
    main()
