"""The sha256 of every file the dataset builders read, shipped with the package (``SHA256SUMS``).

The table is in ``sha256sum`` form (``<digest>  <folder>/<file>``), computed from byte-identical copies of
the commit-pinned sources; a download is kept only if it matches.
"""

from __future__ import annotations

from importlib.resources import files


def parse_checksums(table: str) -> dict[str, str]:
    """``folder/file`` -> sha256 from ``sha256sum``-style lines."""
    pairs = (line.split() for line in table.strip().splitlines() if line.strip())
    return {path: digest for digest, path in pairs}


CHECKSUMS: dict[str, str] = parse_checksums(files("lit_kgns.data").joinpath("SHA256SUMS").read_text(encoding="utf-8"))
