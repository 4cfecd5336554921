"""Zero-shot evaluation, each distinct query scored once against every target triple scoring its own queries.

    python benchmarks/grouped_evaluation.py [--data-root ../shared/data] [--queries 600] [--device cpu]

The released ultra_3g checkpoint, side by side in one run, per graph: *per triple* (upstream's protocol: 32
triples a batch, their tail and head queries, 64 rows) and *grouped* (:mod:`lit_kgns.data.evaluation_queries`:
64 distinct queries a batch, every target triple asking one of them ranked against its scores). GraIL FB15k-237
v1 is timed whole; on FB15k-237 and CoDEx-M (hours on a CPU) ``--queries`` distinct test queries drawn with a
fixed seed and every triple asking them, in both modes. Printed per graph: forward rows and seconds of each mode, their
ratios, and whether every rank is the same (it must be).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from lit_kgns.backbones import Ultra
from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.evaluation_queries import EvaluationBatch, EvaluationQueries
from lit_kgns.metrics import filtered_ranks
from lit_kgns.scoring import score_answers


def ranked(model: Ultra, split, batches: list[EvaluationBatch]) -> tuple[float, int, torch.Tensor]:
    """Seconds, forward rows and the ranks (in the order of ``(query row, answer)`` keys) of ``batches``."""
    ranks, keys, rows = [], [], 0
    start = time.perf_counter()
    with torch.no_grad():
        for batch in batches:
            scored = score_answers(model, split, batch)
            ranks.append(filtered_ranks(scored.scores, scored.answers, scored.known)[0])
            direction = batch.head_queries[batch.answer_query].long()
            keys.append(torch.cat([batch.triples, direction.unsqueeze(1)], dim=1))
            rows += len(batch.anchors)
    seconds = time.perf_counter() - start
    keys_all, ranks_all = torch.cat(keys), torch.cat(ranks)
    order = torch.unique(keys_all, dim=0, return_inverse=True)[1].argsort(stable=True)
    return seconds, rows, ranks_all[order]


def compare(model: Ultra, split, num_queries: int | None) -> dict[str, float]:
    queries = EvaluationQueries(split.targets, split.tail_only)
    chosen = list(range(len(queries)))
    if num_queries is not None and num_queries < len(queries):  # a seeded sample, in the loader's order
        sample = torch.randperm(len(queries), generator=torch.Generator().manual_seed(0))[:num_queries]
        chosen = sample.sort().values.tolist()
    grouped = [queries.collate(chosen[i : i + 64]) for i in range(0, len(chosen), 64)]
    asked = queries.collate(chosen)
    # per triple: the same answer rows, each with its own query, 64 rows a batch
    per_triple = [
        EvaluationBatch(
            asked.anchors[asked.answer_query[i : i + 64]],
            asked.relations[asked.answer_query[i : i + 64]],
            asked.head_queries[asked.answer_query[i : i + 64]],
            asked.answers[i : i + 64],
            torch.arange(len(asked.answers[i : i + 64])),
            asked.triples[i : i + 64],
        )
        for i in range(0, len(asked), 64)
    ]
    triple_seconds, triple_rows, triple_ranks = ranked(model, split, per_triple)
    group_seconds, group_rows, group_ranks = ranked(model, split, grouped)
    return {
        "answers": len(asked),
        "per_triple_rows": triple_rows,
        "per_triple_s": triple_seconds,
        "grouped_rows": group_rows,
        "grouped_s": group_seconds,
        "same_ranks": bool(torch.equal(triple_ranks, group_ranks)),
        "whole_split_rows": (2 - split.tail_only) * len(split.targets),
        "whole_split_distinct": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--queries", type=int, default=600, help="distinct queries timed on the large graphs")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--datasets", nargs="+", default=["grail_fb237_v1", "fb15k-237", "codex-m"])
    args = parser.parse_args()
    device = torch.device(args.device)
    model = Ultra(checkpoint=str(Path(args.data_root) / "ultra_ckpts" / "ultra_3g.pth")).to(device).eval()
    print(f"device {device} ({torch.get_num_threads()} threads), torch {torch.__version__}")
    header = (
        "| graph | answers | per-triple rows | grouped rows | per-triple s | grouped s | time ratio | ranks equal |"
    )
    print(header + " whole split: rows / distinct |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for name in args.datasets:
        split = load_dataset(name, args.data_root).test.to(device)
        whole = name.startswith("grail_")
        row = compare(model, split, None if whole else args.queries)
        ratio = row["grouped_s"] / row["per_triple_s"]
        rows = f"{row['whole_split_rows']:,} / {row['whole_split_distinct']:,}"
        print(
            f"| {name}{'' if whole else f' ({args.queries} queries)'} | {row['answers']:,} | "
            f"{row['per_triple_rows']:,} | {row['grouped_rows']:,} | {row['per_triple_s']:.1f} | "
            f"{row['grouped_s']:.1f} | {ratio:.2f} | {row['same_ranks']} | {rows} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
