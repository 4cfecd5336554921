"""Results CSVs that sweeps resume from: damaged lines are skipped and dropped, rows are written whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from lit_kgns.results_csv import append_rows, read_rows

FIELDS = ["dataset", "seed", "mrr"]


def test_a_line_cut_short_is_skipped_then_dropped_before_the_next_row(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    append_rows(path, FIELDS, [{"dataset": "umls", "seed": 1, "mrr": 0.5}])
    with path.open("a") as handle:
        handle.write("umls,2,0.4")  # killed before the line end: the value may be cut too (0.4 of 0.45)
    with pytest.warns(UserWarning, match=r"results\.csv:3: damaged row skipped .*'umls,2,0\.4'"):
        assert read_rows(path) == [{"dataset": "umls", "seed": "1", "mrr": "0.5"}]
    with pytest.warns(UserWarning, match="damaged row skipped"):
        append_rows(path, FIELDS, [{"dataset": "umls", "seed": 2, "mrr": 0.45}])
    assert path.read_text() == "dataset,seed,mrr\numls,1,0.5\numls,2,0.45\n"


def test_rows_with_missing_fields_or_empty_required_values_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("dataset,seed,mrr\numls,1\nnations,2,0.3,extra\nkinship,,0.2\ncountries,4,0.1\n")
    with pytest.warns(UserWarning) as warned:
        rows = read_rows(path, required=("seed",))
    assert [row["dataset"] for row in rows] == ["countries"]
    assert [str(warning.message).split(": ")[0] for warning in warned] == [f"{path}:{line}" for line in (2, 3, 4)]


def test_a_file_of_an_older_version_gains_the_new_columns_and_keeps_its_own(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("dataset,seed,note\numls,1,first\n")
    append_rows(path, FIELDS, [{"dataset": "umls", "seed": 2, "mrr": 0.5}])
    assert read_rows(path) == [
        {"dataset": "umls", "seed": "1", "note": "first", "mrr": ""},
        {"dataset": "umls", "seed": "2", "note": "", "mrr": "0.5"},
    ]
    assert not (tmp_path / "results.csv.tmp").exists()
