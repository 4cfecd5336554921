"""Rewrite the generated parts of the documentation: result tables and figures from the committed CSVs, the
dataset catalog from the code, and (with ``--cli``) the command-line reference from the commands' ``--help``.

    python docs/gen_pages.py              # results and catalog, into docs/
    python docs/gen_pages.py --cli        # the command-line reference as well (runs every --help, slower)
    python docs/gen_pages.py --check      # exit 1 naming every generated file that differs from its source
    python docs/gen_pages.py --out DIR    # write under DIR instead of docs/

Markdown is compared as text; a figure by the data it plots (a digest stored in the PNG), so that another
matplotlib version does not count as a change. Arms of a sweep still running (fewer seeds) show their ``n``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
RESULTS = REPO / "benchmarks" / "results"
ZERO_SHOT_CSV = RESULTS / "zero_shot_offline" / "results.csv"
# the order of --configs in the run-many command that wrote it (its results.md lists them so)
ZERO_SHOT_CONFIGS = ("ultra_3g", "ultra_4g", "trix", "motif", "semma")
KMAS_CSV = RESULTS / "kmas_leak_free" / "results.csv"
# the ablations of benchmarks/results/kmas_leak_free/ablations.md: the two screening graphs, 200 steps
KMAS_GRAPHS = ("grail_nell_v2", "ingram_nl_25")
KMAS_STEPS = 200
DIGEST_KEY = "lit_kgns data"  # PNG text chunk: sha256 of what the figure plots
FIGURE_STYLE = "2"  # bump when a figure's drawing changes, so that --check asks for new PNGs
MODEL_COLOURS = ("#1b6ca8", "#7fb3d5", "#d35400", "#27ae60", "#8e44ad", "#7f8c8d")
HELP_WIDTH = "100"  # COLUMNS for the --help texts of the command-line reference

Pages = dict[str, bytes]  # path relative to docs/ -> content


# ---------------------------------------------------------------------------------------------------------------
# zero-shot over the offline graphs


def zero_shot_pages(csv_path: Path = ZERO_SHOT_CSV) -> Pages:
    """The per-graph table (as ``results.md``), a per-graph figure and a group-means figure."""
    from lit_kgns.analysis.run_tables import comparison_table
    from lit_kgns.results_csv import read_rows

    rows = read_rows(csv_path)
    order = {config: index for index, config in enumerate(ZERO_SHOT_CONFIGS)}
    rows.sort(key=lambda row: order.get(row["config"], len(order)))
    data = zero_shot_data(rows)
    table = comparison_table(rows, "zero_shot")
    return {
        "generated/zero_shot_table.md": (table + "\n").encode(),
        "generated/zero_shot_means.md": (zero_shot_means_table(data) + "\n").encode(),
        "img/zero_shot_graphs.png": figure_png(draw_zero_shot_graphs, data),
        "img/zero_shot_means.png": figure_png(draw_zero_shot_means, data),
    }


def zero_shot_data(rows: list[dict[str, str]]) -> dict:
    """Per group: the graphs every config ran, each config's MRR on them, its unweighted mean over them (as
    ``comparison_table`` takes it) and the published mean over the whole benchmark group."""
    from lit_kgns.analysis.run_tables import BENCHMARK_SIZES, GROUP_ORDER, PUBLISHED, graph_means, group_of

    means = {key: mean for key, mean in graph_means(rows).items() if key[1] == "zero_shot"}
    configs = list(dict.fromkeys(config for config, _, _ in means))
    datasets = list(dict.fromkeys(dataset for _, _, dataset in means))
    groups = []
    for group in GROUP_ORDER:
        graphs = [d for d in datasets if group_of(d) == group and all((c, "zero_shot", d) in means for c in configs)]
        if not graphs:
            continue
        mrr = {c: [round(means[(c, "zero_shot", d)]["mrr"], 6) for d in graphs] for c in configs}
        published = {c: PUBLISHED.get(c, {}).get(group, (None, None))[0] for c in configs}
        groups.append(
            {
                "group": group,
                "size": BENCHMARK_SIZES.get(group),
                "graphs": graphs,
                "mrr": mrr,
                "mean": {c: round(statistics.mean(values), 6) for c, values in mrr.items()},
                "published": published,
            }
        )
    return {"configs": configs, "groups": groups}


def zero_shot_means_table(data: dict) -> str:
    """Markdown: per group and config, the MRR mean over the graphs run, the published mean and the gap."""
    lines = ["| group | graphs run | config | MRR, mean over them | published mean | difference |"]
    lines.append("| --- | ---: | --- | ---: | ---: | ---: |")
    for group in data["groups"]:
        size = f"{len(group['graphs'])} of {group['size']}" if group["size"] else str(len(group["graphs"]))
        for config in data["configs"]:
            mean, published = group["mean"][config], group["published"][config]
            known = f"{published:.3f}" if published is not None else "—"
            gap = f"{mean - published:+.3f}" if published is not None else "—"
            lines.append(f"| {group['group']} | {size} | {config} | {mean:.4f} | {known} | {gap} |")
    return "\n".join(lines)


def draw_zero_shot_graphs(data: dict):
    """Per graph, each config's MRR; under each group its mean over the graphs run and the published mean."""
    import matplotlib.pyplot as plt

    configs, groups = data["configs"], data["groups"]
    heights = [len(group["graphs"]) + 2 for group in groups]
    fig, axes = plt.subplots(
        len(groups), 1, figsize=(8.5, 0.24 * sum(heights) + 1.6), sharex=True, gridspec_kw={"height_ratios": heights}
    )
    axes = [axes] if len(groups) == 1 else list(axes)
    for ax, group in zip(axes, groups, strict=True):
        labels = [*group["graphs"], f"mean, {len(group['graphs'])} graphs", f"published mean, {group['size']} graphs"]
        positions = list(range(len(labels)))[::-1]
        for index, config in enumerate(configs):
            colour = MODEL_COLOURS[index % len(MODEL_COLOURS)]
            offset = (index - (len(configs) - 1) / 2) * 0.1
            ys = [y + offset for y in positions]
            values = [*group["mrr"][config], group["mean"][config]]
            ax.scatter(values, ys[: len(values)], s=18, color=colour, label=config, zorder=3)
            if group["published"][config] is not None:
                ax.scatter(group["published"][config], ys[-1], s=30, marker="D", facecolors="none", color=colour)
        ax.axhline(positions[-1] + 0.5 + 1, color="0.8", lw=0.8)
        ax.set_yticks(positions, labels, fontsize=8)
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.set_title(group["group"], fontsize=9, loc="left")
        ax.grid(axis="x", color="0.9", zorder=0)
    axes[0].scatter([], [], s=30, marker="D", facecolors="none", color="0.3", label="published mean")
    axes[-1].set_xlabel("test MRR (pessimistic ties), zero-shot")
    axes[0].legend(ncol=len(configs) + 1, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.08), frameon=False)
    fig.tight_layout()
    return fig


def draw_zero_shot_means(data: dict):
    """Per group, each config's mean MRR over the graphs run (bars) and the published mean (black mark)."""
    import matplotlib.pyplot as plt

    configs, groups = data["configs"], data["groups"]
    fig, ax = plt.subplots(figsize=(8.5, 3.4))
    width = 0.8 / len(configs)
    for index, config in enumerate(configs):
        xs = [g + (index - (len(configs) - 1) / 2) * width for g in range(len(groups))]
        colour = MODEL_COLOURS[index % len(MODEL_COLOURS)]
        ax.bar(xs, [group["mean"][config] for group in groups], width * 0.9, color=colour, label=config, zorder=2)
        for x, group in zip(xs, groups, strict=True):
            if group["published"][config] is not None:
                ax.plot([x - width * 0.45, x + width * 0.45], [group["published"][config]] * 2, color="k", lw=2)
    ax.plot([], [], color="k", lw=2, label="published mean")
    names = [f"{group['group']}\n{len(group['graphs'])} of {group['size']} graphs" for group in groups]
    ax.set_xticks(range(len(groups)), names, fontsize=8)
    ax.set_ylabel("mean test MRR")
    ax.grid(axis="y", color="0.9", zorder=0)
    ax.legend(ncol=3, fontsize=8, frameon=False, loc="upper right")
    ax.set_ylim(0, max(group["mean"][c] for group in groups for c in configs) * 1.35)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------------------------
# KMAS ablations, leak-free fine-tuning


REFERENCE = "every mechanism's reference"
DELTA = re.compile(r"([+-]\d+\.\d+)(?: \[([+-]\d+\.\d+), ([+-]\d+\.\d+)\])? \(n=(\d+)\)")


def kmas_pages(csv_path: Path = KMAS_CSV) -> Pages:
    """The ablation tables as ``ablations.md`` has them, a summary of the paired intervals, and their figure."""
    if str(REPO / "benchmarks") not in sys.path:
        sys.path.insert(0, str(REPO / "benchmarks"))
    from kmas_arms import ablation_report
    from kmas_leak_free import ABLATIONS

    from lit_kgns.results_csv import read_rows

    rows = [row for row in read_rows(csv_path) if row["dataset"] in KMAS_GRAPHS and int(row["steps"]) == KMAS_STEPS]
    report = ablation_report(rows, ABLATIONS, "", "")
    body = report[report.index("\n## ") + 1 :]  # the per-mechanism sections, without the title and command
    body = re.sub(r"^(#+) ", lambda match: "#" + match.group(1) + " ", body, flags=re.MULTILINE)
    data = kmas_data(rows, ABLATIONS)
    return {
        "generated/kmas_ablations.md": (body.rstrip() + "\n").encode(),
        "generated/kmas_summary.md": (kmas_summary_table(data) + "\n").encode(),
        "img/kmas_ablations.png": figure_png(draw_kmas_forest, data),
    }


def kmas_data(rows: list[dict[str, str]], mechanisms: dict[str, list[tuple[str, str, str]]]) -> dict:
    """Per distinct ``(strict uniform arm, KMAS arm)`` pair, in the ablations' order: its mechanism and level,
    and the paired difference KMAS − strict uniform (mean, 95 % interval, seeds) per graph and on the mean over
    graphs, read from :func:`paired_table` (so the numbers are those of ``ablations.md``)."""
    from common import paired_table

    where: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for mechanism, levels in mechanisms.items():
        for level, uniform, kmas in levels:
            where.setdefault((uniform, kmas), []).append((mechanism, level))
    pairs = []
    for (uniform, kmas), places in where.items():
        if len(places) > 1:  # the reference arm of several mechanisms
            mechanism, level = REFERENCE, "; ".join(level for _, level in places)
        else:
            ((mechanism, level),) = places
        pair_rows = [row for row in rows if row["arm"] in (uniform, kmas)]
        entry = {"mechanism": mechanism, "level": level, "uniform": uniform, "kmas": kmas, "graphs": {}}
        entry["mean"] = None
        if {row["arm"] for row in pair_rows} == {uniform, kmas}:
            for line in paired_table(pair_rows, baseline=uniform).splitlines()[2:]:
                cells = [cell.strip() for cell in line.strip("|").split("|")]
                match = DELTA.fullmatch(cells[4]) if cells[1] == kmas else None
                if not match:
                    continue
                delta = [float(value) if value else None for value in match.groups()[:3]] + [int(match[4])]
                if cells[0].startswith("**mean"):
                    if entry["mean"] is None:  # the block over the most graphs and seeds comes first
                        entry["mean"] = {"label": cells[0].replace("**", ""), "delta": delta}
                else:
                    entry["graphs"][cells[0]] = delta
        pairs.append(entry)
    return {"graphs": list(KMAS_GRAPHS), "pairs": pairs}


def _interval(delta: list | None) -> str:
    if delta is None:
        return "not run yet"
    mean, low, high, _ = delta
    interval = f" [{low:+.4f}, {high:+.4f}]" if low is not None else ""
    return f"{mean:+.4f}{interval}"


def kmas_summary_table(data: dict) -> str:
    """Markdown: per pair, the paired difference on the mean over graphs and per graph, with the seeds paired."""
    graphs = data["graphs"]
    lines = [
        "| mechanism | level | KMAS arm | strict uniform arm | Δ MRR, mean of graphs [95 % CI] | seeds | "
        + " | ".join(f"Δ {graph}" for graph in graphs)
        + " |",
        "| --- | --- | --- | --- | --- | ---: |" + " --- |" * len(graphs),
    ]
    for pair in data["pairs"]:
        mean = pair["mean"]["delta"] if pair["mean"] else None
        shown = _interval(mean)
        if mean and pair["mean"]["label"] != f"mean of {len(graphs)} graphs":  # fewer graphs or seeds
            shown += f" ({pair['mean']['label']})"
        per_graph = []
        for graph in graphs:
            delta = pair["graphs"].get(graph)
            cell = _interval(delta) if mean else "—"
            per_graph.append(cell + (f" (n={delta[3]})" if delta and delta[3] != mean[3] else ""))
        seeds = str(mean[3]) if mean else "—"
        lines.append(
            f"| {pair['mechanism']} | {pair['level']} | `{pair['kmas']}` | `{pair['uniform']}` | {shown} "
            f"| {seeds} | " + " | ".join(per_graph) + " |"
        )
    return "\n".join(lines)


def draw_kmas_forest(data: dict):
    """Forest plot: per pair, the paired difference with its 95 % interval on each graph and on their mean."""
    import matplotlib.pyplot as plt

    pairs, graphs = data["pairs"], data["graphs"]
    fig, ax = plt.subplots(figsize=(8.5, 0.62 * len(pairs) + 1.4))
    positions = list(range(len(pairs)))[::-1]
    markers = [("o", MODEL_COLOURS[1]), ("s", MODEL_COLOURS[2]), ("^", MODEL_COLOURS[3]), ("v", MODEL_COLOURS[4])]
    series = [(graph, *markers[index % len(markers)], 0.2 - 0.14 * index) for index, graph in enumerate(graphs)]
    for graph, marker, colour, offset in [("mean of graphs", "D", "k", -0.2 - 0.14 * (len(graphs) - 2)), *series]:
        xs, ys, errors = [], [], [[], []]
        for y, pair in zip(positions, pairs, strict=True):
            delta = (pair["mean"] or {}).get("delta") if graph == "mean of graphs" else pair["graphs"].get(graph)
            if delta is None:
                continue
            mean, low, high, _ = delta
            xs.append(mean)
            ys.append(y + offset)
            errors[0].append(mean - low if low is not None else 0)
            errors[1].append(high - mean if high is not None else 0)
        size = 6 if graph == "mean of graphs" else 4
        ax.errorbar(xs, ys, xerr=errors, fmt=marker, color=colour, ms=size, capsize=2, lw=1, label=graph)
    labels = []
    for pair in pairs:
        seeds = f"n = {pair['mean']['delta'][3]}" if pair["mean"] else "not run yet"
        if pair["mean"] and pair["mean"]["label"] != f"mean of {len(graphs)} graphs":
            seeds += f", {pair['mean']['label']}"
        level = "the method as published" if pair["mechanism"] == REFERENCE else pair["level"]
        labels.append(f"{pair['kmas']} − {pair['uniform']}\n{level} ({seeds})")
    ax.axvline(0, color="0.4", lw=0.8)
    low, high = ax.get_xlim()
    ax.set_xlim(low, max(high, 0.0) + 0.1 * (high - low))
    ax.set_yticks(positions, labels, fontsize=7.5)
    ax.set_ylim(-0.7, len(pairs) - 0.3)
    ax.set_xlabel("Δ test MRR, KMAS − strict uniform (paired by seed, 95 % t interval)")
    ax.grid(axis="x", color="0.9", zorder=0)
    ax.legend(fontsize=8, frameon=False, ncol=len(graphs) + 1, loc="lower left", bbox_to_anchor=(0, 1.0))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------------------------
# the dataset catalog


def catalog_pages() -> Pages:
    """Markdown: every catalog dataset with its protocol, description and the upstream spellings it accepts."""
    from lit_kgns.analysis.run_tables import GROUP_ORDER
    from lit_kgns.data import catalog

    aliases: dict[str, list[str]] = {}
    for alias, name in getattr(catalog, "ALIASES", {}).items():
        aliases.setdefault(name, []).append(f"`{alias}`")
    lines = ["| name | protocol | in the 57-graph benchmark | description | also accepted as |"]
    lines.append("| --- | --- | --- | --- | --- |")
    entries = [catalog.get_entry(name) for name in catalog.available_datasets()]
    entries.sort(key=lambda entry: GROUP_ORDER.index(entry.setting))
    for entry in entries:
        notes = "yes" if entry.in_benchmark else "no"
        if entry.embedded is not None:
            notes += " (bundled with PyKEEN)"
        description = entry.description.replace("|", "\\|")
        known = ", ".join(aliases.get(entry.name, []))
        lines.append(f"| `{entry.name}` | {entry.setting} | {notes} | {description} | {known} |")
    return {"generated/catalog.md": ("\n".join(lines) + "\n").encode()}


# ---------------------------------------------------------------------------------------------------------------
# the command-line reference

COMMANDS = {
    "lit-kgns fit": "Train (and, with `--test_after_fit true`, test the best checkpoint).",
    "lit-kgns validate": "One pass over the validation graphs.",
    "lit-kgns test": "One pass over the test graphs.",
    "lit-kgns predict": "Answer questions (a file of `head<TAB>relation<TAB>?` lines, or the test queries).",
    "lit-kgns-run-many": "Configs × datasets × seeds, each run in its own process, into a resumable CSV.",
    "lit-kgns-tune": "An Optuna study over config keys, pruned on a validation metric, stored in SQLite.",
    "lit-kgns-export": "An embedding model's entity and relation tables as `.pt` / `.npy` with label files.",
}
OPTION = re.compile(r"^  (-\S.*?|[a-z_]+)(?:\s{2,}(\S.*))?$")  # an option, or a positional argument
KNOWN_SUBCLASSES = re.compile(r",? known subclasses: [^)]*")
HELP_OPTION = re.compile(r"--\S+\.help\b")
ROLE = re.compile(r":(?:class|func|mod|meth|attr):`~?([^`]+)`")


def cli_pages() -> Pages:
    """``reference/cli.md``: per command, its options and their help as ``--help`` prints them (for ``validate``,
    ``test`` and ``predict``, where they differ from ``fit``'s)."""
    out = [
        "# Command-line reference",
        "",
        "Every option below is what the command's `--help` prints. `python -m lit_kgns` is the same command as",
        "`lit-kgns`. Every `lit-kgns` subcommand also takes every `Trainer` argument as `--trainer.<name>`",
        "(`--trainer.devices`, `--trainer.max_steps`, ...; see Lightning's `Trainer` documentation), and any",
        "backbone, optimizer, loss, sampler or scheduler argument through its `init_args`",
        "(`--model.backbone.init_args.dim 64`, `--sampler.init_args.num_negatives 128`). `--<key>.help <class>`",
        "prints the options of one class, e.g. `lit-kgns fit --model.backbone.help Ultra`.",
        "",
        "```bash",
        "lit-kgns --help",
        "```",
        "",
        "```text",
        run_help(["lit-kgns", "--help"]).rstrip(),
        "```",
        "",
    ]
    fit: dict[str, str] = {}
    for command, summary in COMMANDS.items():
        text = run_help([*command.split(), "--help"])
        lightning = command.startswith("lit-kgns ")
        options = dict(help_options(text, lightning))
        out += [f"## `{command}`", "", summary, ""]
        if not lightning or command == "lit-kgns fit":  # the others: fit's options, but for a few
            out += ["```bash", f"{command} --help", "```", ""]
        if not lightning:
            out += ["```text", text.split("\n\n", 1)[0].rstrip(), "```", ""]
        if command == "lit-kgns fit":
            fit = options
        elif lightning:
            lacks = [option for option in fit if option not in options]
            options = {option: text for option, text in options.items() if fit.get(option) != text}
            same = f"`{command} --help` prints the options of `lit-kgns fit`"
            out += [same + (", except:" if options else "."), ""]
            if lacks:
                out += ["Not taken: " + ", ".join(f"`{_cell(option)}`" for option in lacks) + ".", ""]
        if options:
            out += ["| option | help |", "| --- | --- |"]
            out += [f"| `{_cell(option)}` | {_prose(_cell(text))} |" for option, text in options.items()]
            out.append("")
    return {"reference/cli.md": ("\n".join(out).rstrip() + "\n").encode()}


def run_help(command: list[str]) -> str:
    """The help text of ``command``, at the width the reference is written at."""
    environment = {**os.environ, "COLUMNS": HELP_WIDTH}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=REPO, check=True)
    return result.stdout


def help_options(text: str, lightning: bool = False) -> list[tuple[str, str]]:
    """``(option, help)`` per option of a ``--help`` text, each help joined onto one line; for a ``lit-kgns``
    subcommand without the ``--trainer.*`` options, the ``--<key>.help`` ones and the lists of known subclasses."""
    entries: list[list[str]] = []
    for line in text.splitlines():
        match = OPTION.match(line)
        if match:
            entries.append([match[1].strip(), match[2] or ""])
        elif entries and line.startswith(" " * 6) and line.strip():
            entries[-1][1] += " " + line.strip()
        elif not line.startswith(" "):
            entries.append(["", ""])  # a section heading ends the entry before it
    options = []
    for option, help_text in entries:
        if not option or option == "-h, --help":
            continue
        if lightning and (option.startswith("--trainer.") or HELP_OPTION.match(option)):
            continue
        help_text = ROLE.sub(r"`\1`", KNOWN_SUBCLASSES.sub("", " ".join(help_text.split())))
        options.append((option, help_text))
    return options


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _prose(text: str) -> str:
    """``<`` outside code spans as ``&lt;``, so that ``<class 'X'>`` is not read as an HTML tag."""
    parts = re.split(r"(``.*?``|`[^`]*`)", text)
    return "".join(part if index % 2 else part.replace("<", "&lt;") for index, part in enumerate(parts))


# ---------------------------------------------------------------------------------------------------------------
# figures, writing and checking


def figure_png(draw: Callable[[dict], object], data: dict) -> bytes:
    """The figure ``draw`` makes of ``data`` as PNG bytes, with the digest of ``data`` in a text chunk."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw(data)
    buffer = io.BytesIO()
    metadata = {"Software": None, DIGEST_KEY: data_digest(draw, data)}
    fig.savefig(buffer, format="png", dpi=110, metadata=metadata, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def data_digest(draw: Callable[[dict], object], data: dict) -> str:
    text = json.dumps({"figure": draw.__name__, "style": FIGURE_STYLE, "data": data}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def png_digest(content: bytes) -> str | None:
    """The digest a generated PNG carries (``None`` for any other file)."""
    position = 8
    while position + 8 <= len(content):
        length, kind = struct.unpack(">I4s", content[position : position + 8])
        chunk = content[position + 8 : position + 8 + length]
        if kind == b"tEXt" and chunk.startswith(DIGEST_KEY.encode() + b"\0"):
            return chunk.split(b"\0", 1)[1].decode("latin-1")
        if kind == b"zTXt" and chunk.startswith(DIGEST_KEY.encode() + b"\0"):
            return zlib.decompress(chunk.split(b"\0", 1)[1][1:]).decode("latin-1")
        position += 12 + length
    return None


def same(path: str, expected: bytes, actual: bytes) -> bool:
    """Whether a generated file is up to date: PNGs by their data digest, everything else byte for byte."""
    if path.endswith(".png"):
        return png_digest(expected) is not None and png_digest(expected) == png_digest(actual)
    return expected == actual


def generate(cli: bool = False) -> Pages:
    """Every generated file, by its path under ``docs/``."""
    pages = {**zero_shot_pages(), **kmas_pages(), **catalog_pages()}
    if cli:
        pages.update(cli_pages())
    return pages


def stale(pages: Pages, docs: Path = DOCS) -> list[str]:
    """The paths of ``pages`` whose file under ``docs`` is missing or differs."""
    return [
        path
        for path, content in pages.items()
        if not (docs / path).is_file() or not same(path, content, (docs / path).read_bytes())
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the files in docs/, write nothing")
    parser.add_argument("--cli", action="store_true", help="the command-line reference too (runs every --help)")
    parser.add_argument("--out", type=Path, default=DOCS, help="folder to write into (default: docs/)")
    args = parser.parse_args(argv)
    pages = generate(cli=args.cli)
    if args.check:
        differing = stale(pages, args.out)
        for path in differing:
            print(f"docs/{path} differs from what its source gives: run python docs/gen_pages.py", file=sys.stderr)
        return 1 if differing else 0
    for path, content in pages.items():
        target = args.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or not same(path, content, target.read_bytes()):
            target.write_bytes(content)
            print(f"wrote {target.relative_to(args.out.parent) if args.out == DOCS else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
