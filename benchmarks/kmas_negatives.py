"""What KMAS hard negatives are, next to strict-uniform ones, under the released ULTRA 3g (no training).

    python benchmarks/kmas_negatives.py --datasets grail_fb237_v1 grail_wn18rr_v1 --positives 256

For training triples of each dataset, draws K hard negatives (KMAS, hard ratio 1, the defaults of
``configs/kmas/ultra_3g_finetune_grail.yaml``) and K strict-uniform negatives, and prints per kind:

* ``held-out``: share of negatives that are true facts the data root holds about the training graph beyond
  its training triples (its validation and test triples, the unused files of its folders, the graph it was
  cut from: :func:`lit_kgns.data.held_out.held_out_facts`): filtering cannot remove them, yet they are true
  (false negatives a loss pushes down);
* ``above positive``: share of negatives the model scores above their positive (how hard they are);
* ``distinct``: distinct entities per row, over K;
* ``caught``: share of the held-out true facts among them that are scored above their positive, i.e. that a
  semi-hard guard with margin 0 (``semi_hard_margin: 0``) takes out of the loss.

``--unique-hard``, ``--temperature`` and ``--top-k`` set the KMAS options of the same names.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from lit_kgns.backbones import Ultra
from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.held_out import held_out_facts
from lit_kgns.data.triple_index import TripleIndex
from lit_kgns.samplers import KMASSampler, NegativeSampler, StrictUniformSampler

REPO = Path(__file__).resolve().parents[1]


@torch.no_grad()
def describe(sampler: NegativeSampler, backbone: Ultra, positives: torch.Tensor, held_out: TripleIndex) -> dict:
    graph = sampler.graphs[0].graph
    negatives = sampler.sample(positives)
    queries = negatives.queries(positives, graph.num_direct_relations)
    mask = negatives.mask
    true = (
        held_out.contains(queries.anchors.unsqueeze(1), queries.query_relations.unsqueeze(1), negatives.entities) & mask
    )
    above = torch.zeros_like(mask)
    for part in torch.arange(len(positives)).split(32):
        candidates = torch.cat([queries.answers[part].unsqueeze(1), negatives.entities[part]], dim=1)
        relations = positives[part, 1]
        scores = backbone(
            graph, queries.anchors[part], relations, negatives.head_corrupted[part], candidates, positives[part]
        )
        above[part] = scores[:, 1:] > scores[:, :1]
    distinct = torch.tensor([len(set(row[m].tolist())) for row, m in zip(negatives.entities, mask, strict=True)])
    valid = mask.sum().clamp(min=1)
    return {
        "held-out": float(true.sum() / valid),
        "above positive": float((above & mask).sum() / valid),
        "distinct": float(distinct.float().mean()) / mask.shape[1],
        "caught": float((true & above).sum() / true.sum()) if true.any() else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["grail_fb237_v1", "grail_wn18rr_v1"])
    parser.add_argument("--positives", type=int, default=256)
    parser.add_argument("--negatives", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument("--top-k", type=int, default=16)
    parser.add_argument("--unique-hard", action="store_true")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    args = parser.parse_args()
    os.environ["LIT_KGNS_DATA"] = args.data_root  # where the ultra_3g checkpoint is found
    backbone = Ultra(checkpoint="ultra_3g").eval()
    print(f"{'dataset':<18}{'negatives':<16}{'held-out':>10}{'above positive':>16}{'distinct':>10}{'caught':>8}")
    for name in args.datasets:
        dataset = load_dataset(name, args.data_root)
        train = dataset.train
        facts = held_out_facts(dataset, args.data_root)
        print(f"{name}: {len(facts.triples)} held-out facts from {'; '.join(facts.sources) or 'nowhere'}")
        held_out = TripleIndex(facts.triples, train.graph.num_nodes, train.graph.num_direct_relations)
        generator = torch.Generator().manual_seed(0)
        positives = train.targets[torch.randperm(len(train.targets), generator=generator)[: args.positives]]
        options = {"temperature": args.temperature, "top_k": args.top_k, "unique_hard": args.unique_hard}
        options |= {"max_retries": 8} if args.unique_hard else {}  # as the leak-free script's kmas_unique arm
        kmas = KMASSampler(num_negatives=args.negatives, seed=0, **options)
        uniform = StrictUniformSampler(num_negatives=args.negatives, seed=0)
        for sampler in (kmas, uniform):
            sampler.attach([train])
        kmas.refresh(backbone)
        kmas.hard_ratio = 1.0
        for label, sampler in (("KMAS hard", kmas), ("strict uniform", uniform)):
            row = describe(sampler, backbone, positives, held_out)
            figures = (
                f"{row['held-out']:>10.4f}{row['above positive']:>16.4f}{row['distinct']:>10.3f}{row['caught']:>8.3f}"
            )
            print(f"{name:<18}{label:<16}{figures}")


if __name__ == "__main__":
    main()
