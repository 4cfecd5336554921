"""Tables of ``lit-kgns-run-many`` results: per graph and config, group means beside the published ones, and
configs side by side over the graphs every one of them ran."""

from __future__ import annotations

import statistics

from lit_kgns.data.groups import benchmark_group

METRICS = ("mrr", "hits@1", "hits@3", "hits@10", "hits@10_50", "num_queries")
GROUP_ORDER = ("inductive_e", "inductive_er", "transductive", "other")
# graphs per group in the standard 57-graph benchmark the published means average over
BENCHMARK_SIZES = {"inductive_e": 18, "inductive_er": 23, "transductive": 16}

# published zero-shot group means, MRR / Hits@10 (unweighted over graphs), by config file stem
PUBLISHED: dict[str, dict[str, tuple[float, float]]] = {
    "ultra_3g": {"inductive_e": (0.420, 0.562), "inductive_er": (0.344, 0.511), "transductive": (0.329, 0.479)},
    "ultra_4g": {"inductive_e": (0.444, 0.588), "inductive_er": (0.344, 0.513)},
    "ultra_50g": {"inductive_e": (0.444, 0.580), "inductive_er": (0.395, 0.554), "transductive": (0.389, 0.549)},
    "trix": {"inductive_e": (0.455, 0.592), "inductive_er": (0.368, 0.540)},
    "motif": {"inductive_e": (0.436, 0.577), "inductive_er": (0.349, 0.525)},
    "semma": {"inductive_e": (0.447, 0.584), "inductive_er": (0.350, 0.514)},
}


def graph_means(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], dict[str, float]]:
    """Per ``(config, mode, dataset)``: each metric and the seconds averaged over seeds, and the seed count."""
    runs: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in rows:
        runs.setdefault((row["config"], row["mode"], row["dataset"]), []).append(row)
    return {
        key: {name: _mean([row[name] for row in runs[key]]) for name in (*METRICS, "seconds")}
        | {"seeds": len(runs[key])}
        for key in runs
    }


def results_table(rows: list[dict[str, str]]) -> str:
    """Markdown: per graph and config MRR / Hits@1/3/10 / Hits@10 vs 50 / seconds (mean over seeds), then the
    group means (unweighted over graphs, as published) beside the published ones."""
    lines = ["| config | mode | dataset | group | seeds | MRR | Hits@1 | Hits@3 | Hits@10 | Hits@10 (50) | s |"]
    lines.append("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    means = graph_means(rows)
    for (config, mode, dataset), mean in means.items():
        cells = " | ".join(_cell(mean[key]) for key in METRICS[:5])
        group = group_of(dataset)
        lines.append(f"| {config} | {mode} | {dataset} | {group} | {mean['seeds']} | {cells} | {mean['seconds']:.0f} |")
    lines += ["", "| config | mode | group | graphs | MRR | Hits@10 | published MRR | published Hits@10 |"]
    lines.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for config, mode in dict.fromkeys((config, mode) for config, mode, _ in means):
        for group in BENCHMARK_SIZES:
            members = [m for (c, md, d), m in means.items() if c == config and md == mode and group_of(d) == group]
            if not members:
                continue
            published = PUBLISHED.get(config, {}).get(group) if mode == "zero_shot" else None
            known = f"{published[0]:.3f} | {published[1]:.3f}" if published else "— | —"
            mrr, hits = _mrr_and_hits(members)
            lines.append(f"| {config} | {mode} | {group} | {len(members)} | {mrr:.4f} | {hits:.4f} | {known} |")
    return "\n".join(lines)


def comparison_table(rows: list[dict[str, str]], mode: str = "zero_shot") -> str:
    """Markdown: one row per graph, one column per config (MRR / Hits@10, mean over seeds); then per group the
    mean over the graphs that every config ran (so configs compare on equal terms), the published mean over
    the whole benchmark group, and each config's time for one seed over its graphs."""
    means = {key: mean for key, mean in graph_means(rows).items() if key[1] == mode}
    configs = list(dict.fromkeys(config for config, _, _ in means))
    datasets = list(dict.fromkeys(dataset for _, _, dataset in means))
    lines = ["| graph | group | " + " | ".join(configs) + " |", "| --- | --- |" + " ---: |" * len(configs)]
    for dataset in sorted(datasets, key=lambda name: GROUP_ORDER.index(group_of(name))):
        cells = [means.get((config, mode, dataset)) for config in configs]
        shown = [f"{m['mrr']:.4f} / {m['hits@10']:.4f}" if m else "—" for m in cells]
        lines.append(f"| {dataset} | {group_of(dataset)} | " + " | ".join(shown) + " |")
    for group in BENCHMARK_SIZES:
        common = [d for d in datasets if group_of(d) == group and all((c, mode, d) in means for c in configs)]
        if not common:
            continue
        cells = []
        for config in configs:
            mrr, hits = _mrr_and_hits([means[(config, mode, dataset)] for dataset in common])
            cells.append(f"{mrr:.4f} / {hits:.4f}")
        size = BENCHMARK_SIZES[group]
        lines.append(f"| **mean, {len(common)} of {size} graphs** | {group} | " + " | ".join(cells) + " |")
        published = [PUBLISHED.get(config, {}).get(group) for config in configs]
        shown = [f"{p[0]:.3f} / {p[1]:.3f}" if p and mode == "zero_shot" else "—" for p in published]
        lines.append(f"| published mean, {size} graphs | {group} | " + " | ".join(shown) + " |")
    seconds = [sum(m["seconds"] for (c, _, _), m in means.items() if c == config) for config in configs]
    lines.append("| time, one seed | | " + " | ".join(f"{value / 60:.0f} min" for value in seconds) + " |")
    return "\n".join(lines)


def _mrr_and_hits(members: list[dict[str, float]]) -> tuple[float, float]:
    """Unweighted means over graphs of MRR and Hits@10, as the published group means are taken."""
    return statistics.mean(m["mrr"] for m in members), statistics.mean(m["hits@10"] for m in members)


def _cell(value: float) -> str:
    return f"{value:.4f}" if value == value else "—"


def _mean(values: list[str]) -> float:
    numbers = [float(value) for value in values if value not in ("", "None")]
    return statistics.mean(numbers) if numbers else float("nan")


def group_of(dataset: str) -> str:
    """The benchmark group of ``dataset`` (its protocol), or ``other`` for graphs outside the standard 57."""
    return benchmark_group(dataset) or "other"
