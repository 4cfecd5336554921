"""Relations every set of ranking metrics obeys, whatever the model: a test that states them can fail where a
bare range (``0 < mrr <= 1``) cannot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


def assert_ranking_metrics(metrics: Mapping[str, float], prefix: str, num_queries: int) -> None:
    """``num_queries`` ranked; Hits@k growing with k; ``Hits@1 <= MRR <= Hits@1 + (1 - Hits@1) / 2`` (a query
    not ranked first adds at most 1/2) and ``MRR <= Hits@10 + (1 - Hits@10) / 11``; MR at least 1."""
    value = {key: float(metrics[f"{prefix}/{key}"]) for key in ("mrr", "hits@1", "hits@3", "hits@10")}
    value["mr"] = float(metrics.get(f"{prefix}/mr", 1.0))  # run-many's CSV keeps no MR
    assert float(metrics[f"{prefix}/num_queries"]) == num_queries, metrics
    assert value["hits@1"] <= value["hits@3"] <= value["hits@10"] <= 1, value
    assert value["hits@1"] <= value["mrr"] <= value["hits@1"] + (1 - value["hits@1"]) / 2 + 1e-6, value
    assert value["mrr"] <= value["hits@10"] + (1 - value["hits@10"]) / 11 + 1e-6, value
    assert value["mr"] >= 1 and value["mrr"] > 0, value


def answers_of_first_queries(triples: Iterable[Sequence[int]], num_queries: int, tail_only: bool = False) -> int:
    """Rows evaluation ranks for the first ``num_queries`` distinct queries of ``triples`` (the order of
    ``EvaluationQueries``: tail queries, then head queries, each by relation, then anchor), counted here in plain
    Python: each triple asks ``(h, r, ?)`` and, unless ``tail_only``, ``(?, r, t)``."""
    asked = Counter()
    for head, relation, tail in triples:
        asked[(0, relation, head)] += 1
        if not tail_only:
            asked[(1, relation, tail)] += 1
    return sum(asked[query] for query in sorted(asked)[:num_queries])
