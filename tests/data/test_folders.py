"""Own triple folders: both layouts load with their labels, train and test from the CLI, and every malformed
folder gets a clear error."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from lit_kgns.cli import cli_main
from lit_kgns.data.folders import load_folder
from lit_kgns.data.triples import TripleFileError
from lit_kgns.errors import DataNotFoundError

REPO = Path(__file__).resolve().parents[2]
TRIPLES = [(f"p{i}", "knows" if i % 2 else "likes", f"p{(i * 3 + 1) % 12}") for i in range(40)]


def write(folder: Path, name: str, rows: list[tuple[str, str, str]], header: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["head\trelation\ttail"] if header else []
    (folder / name).write_text("\n".join(lines + ["\t".join(row) for row in rows]) + "\n")


def transductive_folder(root: Path) -> Path:
    folder = root / "mine"
    write(folder, "train.tsv", TRIPLES[:30], header=True)
    write(folder, "valid.tsv", TRIPLES[30:35])
    write(folder, "test", TRIPLES[35:])  # no suffix is fine too
    return folder


def test_a_transductive_folder_keeps_its_labels(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="header line"):
        dataset = load_folder(transductive_folder(tmp_path))
    assert dataset.name == "mine" and dataset.setting == "transductive"
    assert dataset.relation_labels == ["knows", "likes"][:: -1 if TRIPLES[0][1] == "likes" else 1]
    head, relation, tail = dataset.test.targets[0].tolist()
    assert (dataset.entity_labels[head], dataset.relation_labels[relation], dataset.entity_labels[tail]) == TRIPLES[35]
    assert len(dataset.train.targets) == 30 and dataset.test.graph is dataset.train.graph


def test_relation_last_files(tmp_path: Path) -> None:
    folder = tmp_path / "last"
    for name, rows in (("train.txt", TRIPLES[:30]), ("valid.txt", TRIPLES[30:35]), ("test.txt", TRIPLES[35:])):
        write(folder, name, [(h, t, r) for h, r, t in rows])
    dataset = load_folder(folder, relation_position="last")
    assert sorted(dataset.relation_labels) == ["knows", "likes"]


def test_an_inductive_folder_with_new_relations_is_inductive_er(tmp_path: Path) -> None:
    folder = tmp_path / "ind"
    write(folder, "train.txt", TRIPLES[:30])
    inference = [(f"q{i}", "knows" if i % 3 else "admires", f"q{(i + 5) % 10}") for i in range(20)]
    write(folder, "inference.txt", inference)
    write(folder, "inference_validation.txt", [("q1", "knows", "q2")])
    write(folder, "inference_test.txt", [("q3", "admires", "q4"), ("q5", "knows", "q6")])
    dataset = load_folder(folder)
    assert dataset.setting == "inductive_er"
    assert dataset.test.graph.num_nodes == 20 and len(dataset.test.targets) == 2
    assert "admires" in dataset.test.graph.relation_labels and "admires" not in dataset.relation_labels


def test_a_folder_trains_and_tests_from_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["lit-kgns"])
    folder = transductive_folder(tmp_path)
    cli = cli_main(
        [
            "fit",
            "-c",
            str(REPO / "configs/quickstart.yaml"),
            f"--data.dataset={folder}",
            "--trainer.max_steps=2",
            "--trainer.limit_val_batches=1",
            "--trainer.enable_progress_bar=false",
            f"--trainer.default_root_dir={tmp_path / 'run'}",
            "--model.backbone.init_args.dim=8",
            "--sampler.init_args.num_negatives=4",
        ]
    )
    assert float(cli.trainer.callback_metrics["test/num_queries"]) == 2 * 5


def test_a_folder_without_a_layout_names_what_it_expected(tmp_path: Path) -> None:
    folder = tmp_path / "half"
    write(folder, "train.txt", TRIPLES[:30])
    write(folder, "valid.txt", TRIPLES[30:35])
    with pytest.raises(
        DataNotFoundError, match=r"expected triple files train, valid, test .* found train.txt, valid.txt"
    ):
        load_folder(folder)


def test_a_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    folder = transductive_folder(tmp_path)
    (folder / "valid.tsv").write_text("p1\tknows\tp2\np3\tknows\n")
    with pytest.raises(TripleFileError, match=r"valid.tsv:2: expected 3 fields"), pytest.warns(UserWarning):
        load_folder(folder)


def test_a_relation_column_of_entities_warns_naming_relation_position(tmp_path: Path) -> None:
    """Relation-last files read as relation-middle once trained on swapped columns, warning only about one
    validation relation."""
    rows = [(f"p{i}", f"p{(i * 7 + 3) % 200}", ("knows", "likes", "follows")[i % 3]) for i in range(400)]
    folder = tmp_path / "relation_last"
    for name, part in (("train.txt", rows[:360]), ("valid.txt", rows[360:380]), ("test.txt", rows[380:])):
        write(folder, name, part)
    with pytest.warns(UserWarning) as warned:
        load_folder(folder)
    messages = [str(warning.message) for warning in warned]
    expected = r"the middle column, read as the relation, holds \d+ distinct values for \d+ entities: .*"
    assert any(re.search(expected + r"pass --data\.relation_position last", message) for message in messages)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sorted(load_folder(folder, relation_position="last").relation_labels) == ["follows", "knows", "likes"]
