"""Relations every set of ranking metrics obeys, whatever the model: a test that states them can fail where a
bare range (``0 < mrr <= 1``) cannot."""

from __future__ import annotations

from collections.abc import Mapping


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
