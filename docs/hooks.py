"""MkDocs hook: the benchmark pages and figures that live beside the scripts join the site under ``benchmarks/``,
so that the documentation links to them as they are instead of copying them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

REPO = Path(__file__).resolve().parents[1]
# what the pages link to, by path in the repository (each Markdown page is in the nav of mkdocs.yml)
INCLUDED = (
    "benchmarks/README.md",
    "benchmarks/results/kmas_first_comparisons.md",
    "benchmarks/results/kmas_leak_free/ablations.md",
    "benchmarks/results/kmas_leak_free/curves.png",
    "benchmarks/results/kmas_pretraining_medium/ablations.md",
    "benchmarks/results/zero_shot_offline/results.md",
)


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    """Add the files of :data:`INCLUDED` at their repository paths."""
    for path in INCLUDED:
        files.append(File.generated(config, path, abs_src_path=str(REPO / path)))
    return files
