"""Results CSVs that sweeps resume from: each row written whole, damaged lines skipped (and so rerun).

A sweep killed while appending can leave half a line at the end of its CSV; read back as a row, it would
count as a finished run with missing numbers. :func:`read_rows` skips such lines with a warning naming the
file and line, and :func:`append_rows` writes rows in one flushed write that starts on a fresh line.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def read_rows(path: Path, required: Sequence[str] = ()) -> list[dict[str, str]]:
    """The complete rows of a results CSV (none if it does not exist yet). A row is skipped, with a warning,
    when it has more or fewer fields than the header, leaves a ``required`` field empty, or is the file's last
    line without its line end (a write cut short)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for row in reader:
        line = reader.line_num
        cut_short = line == len(lines) and not lines[-1].endswith("\n")
        incomplete = None in row or None in row.values() or any(not row.get(key) for key in required)
        if cut_short or incomplete:
            warnings.warn(
                f"{path}:{line}: damaged row skipped (its run will run again): {lines[line - 1]!r}", stacklevel=2
            )
            continue
        rows.append(row)
    return rows


def append_rows(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` to the CSV at ``path`` in one flushed write, with the header ``fields`` when the file is
    new. A file that lacks some of ``fields`` (an older version's) first gains them as empty columns, and one
    whose last line was cut short loses that line; both are rewritten through a temporary file, so that nothing
    is left half written, and keep the columns only they have."""
    columns = _header(path) if path.exists() else []
    missing = [field for field in fields if field not in columns]
    if columns and (missing or not _ends_a_line(path)):
        # a line cut short is dropped here, before rows follow it and it could pass for a complete one
        old, columns = read_rows(path), columns + missing
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(_csv_text(columns, old, header=True), encoding="utf-8")
        os.replace(temporary, path)
    text = _csv_text(columns or fields, rows, header=not columns)
    with path.open("ab") as handle:
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def _ends_a_line(path: Path) -> bool:
    """Whether the file's last byte ends a line (the rest of the file is not read)."""
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def _csv_text(fields: list[str], rows: list[dict[str, Any]], header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
