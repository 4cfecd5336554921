"""Parsing triple files and building splits from small hand-written folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lit_kgns.data.splits import (
    INGRAM_FILES,
    grail_inductive,
    hm_inductive,
    inference_graph_inductive,
    mtdea_inductive,
    transductive,
)
from lit_kgns.data.triples import TripleFileError, Vocabulary, encode_triples, read_triples

ABC = [("a", "r", "b"), ("b", "s", "c")]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def write_triples(folder: Path, name: str, triples: list[tuple[str, str, str]]) -> Path:
    return write(folder / name, "".join(f"{h}\t{r}\t{t}\n" for h, r, t in triples))


# --- read_triples -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "a\tr\tb\nb\ts\tc\n",  # tab
        "a r b\nb  s\tc\n".replace("\t", " "),  # single and repeated spaces
        "a\tr\tb\r\nb\ts\tc\r\n",  # CRLF
        "a\tr\tb\nb\ts\tc",  # no final newline
        "\na\tr\tb\n\n  \nb\ts\tc\n\n",  # blank and whitespace-only lines
    ],
    ids=["tab", "whitespace", "crlf", "no-final-newline", "blank-lines"],
)
def test_read_triples_accepts_common_layouts(tmp_path: Path, content: str) -> None:
    assert read_triples(write(tmp_path / "t.txt", content)) == ABC


def test_read_triples_keeps_spaces_inside_tab_separated_labels(tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", "New York\tlocated in\tUSA\n")
    assert read_triples(path) == [("New York", "located in", "USA")]


def test_read_triples_keeps_leading_zeros(tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", "00001740\t_hypernym\t00002137\n")
    assert read_triples(path) == [("00001740", "_hypernym", "00002137")]


@pytest.mark.parametrize(
    ("content", "line", "count"),
    [
        ("a\tr\tb\nb\ts\n", 2, 2),  # too few fields
        ("a\tr\tb\n\nb\ts\tc\td\n", 3, 4),  # too many fields, after a blank line
        ("a r b c\n", 1, 4),  # whitespace-separated, too many
    ],
)
def test_wrong_column_count_names_file_line_and_expectation(
    tmp_path: Path, content: str, line: int, count: int
) -> None:
    path = write(tmp_path / "bad.txt", content)
    with pytest.raises(TripleFileError) as error:
        read_triples(path)
    message = str(error.value)
    assert f"{path}:{line}:" in message
    assert "expected 3 fields" in message
    assert f"got {count}" in message


@pytest.mark.parametrize("content", ["", "\n\n  \r\n"], ids=["empty", "only-blank-lines"])
def test_empty_file_is_an_error(tmp_path: Path, content: str) -> None:
    path = write(tmp_path / "empty.txt", content)
    with pytest.raises(TripleFileError, match="empty triple file") as error:
        read_triples(path)
    assert str(path) in str(error.value)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "train.txt"
    with pytest.raises(TripleFileError, match="not found") as error:
        read_triples(path)
    assert str(path) in str(error.value)


def test_invalid_utf8_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.txt", "a\tr\tb\ncaf\xe9\tr\tb\n".encode("latin-1"))
    with pytest.raises(TripleFileError, match="not UTF-8") as error:
        read_triples(path)
    assert f"{path}:2:" in str(error.value)


# --- Vocabulary and encode_triples ---------------------------------------------------------------------


def test_encoding_numbers_entities_by_first_appearance_head_then_tail() -> None:
    entities, relations = Vocabulary(), Vocabulary()
    ids = encode_triples([("x", "p", "y"), ("z", "q", "x"), ("y", "p", "w")], entities, relations)
    assert entities.labels == ["x", "y", "z", "w"]
    assert relations.labels == ["p", "q"]
    assert ids.tolist() == [[0, 0, 1], [2, 1, 0], [1, 0, 3]]
    assert ids.dtype == torch.long


def test_encoding_continues_an_existing_vocabulary() -> None:
    entities, relations = Vocabulary(["b"]), Vocabulary(["s"])
    ids = encode_triples(ABC, entities, relations)
    assert entities.labels == ["b", "a", "c"]
    assert ids.tolist() == [[1, 1, 0], [0, 0, 2]]


def test_encoding_an_empty_list_gives_an_empty_tensor() -> None:
    assert encode_triples([], Vocabulary(), Vocabulary()).shape == (0, 3)


@pytest.mark.parametrize(
    ("triples", "grow", "kind", "label", "row"),
    [
        ([("a", "r", "b"), ("a", "r", "zz")], {"grow_entities": False}, "entity", "zz", 2),
        ([("a", "q", "b")], {"grow_relations": False}, "relation", "q", 1),
    ],
)
def test_unknown_label_without_growing_names_source_triple_and_kind(
    triples: list[tuple[str, str, str]], grow: dict[str, bool], kind: str, label: str, row: int
) -> None:
    entities, relations = Vocabulary(["a", "b"]), Vocabulary(["r"])
    with pytest.raises(TripleFileError) as error:
        encode_triples(triples, entities, relations, source="valid.txt", **grow)
    message = str(error.value)
    assert message.startswith(f"valid.txt: triple {row} ")
    assert f"has the {kind} {label!r}" in message
    # nothing was added on failure
    assert len(entities) == 2
    assert len(relations) == 1


# --- splits from small folders ---------------------------------------------------------------------------


def test_transductive_numbers_evaluation_only_entities_as_isolated_nodes(tmp_path: Path) -> None:
    write_triples(tmp_path, "train.txt", ABC)
    write_triples(tmp_path, "valid.txt", [("a", "r", "new")])
    write_triples(tmp_path, "test.txt", [("c", "s", "a")])
    dataset = transductive("toy", tmp_path)
    assert dataset.train.graph.num_nodes == 4
    assert dataset.entity_labels == ["a", "b", "c", "new"]
    assert dataset.valid.targets.tolist() == [[0, 0, 3]]
    assert len(dataset.test.filter_triples) == 4


def test_strict_transductive_rejects_an_unknown_evaluation_entity(tmp_path: Path) -> None:
    write_triples(tmp_path, "train.txt", ABC)
    write_triples(tmp_path, "valid.txt", [("a", "r", "b")])
    valid = write_triples(tmp_path, "test.txt", [("a", "r", "c"), ("a", "r", "new")])
    with pytest.raises(TripleFileError) as error:
        transductive("toy", tmp_path, strict=True)
    assert str(error.value).startswith(f"{valid}: triple 2 (a, r, new) has the entity 'new'")


def test_strict_transductive_rejects_an_unknown_evaluation_relation(tmp_path: Path) -> None:
    write_triples(tmp_path, "train.txt", ABC)
    valid = write_triples(tmp_path, "valid.txt", [("a", "unseen", "b")])
    write_triples(tmp_path, "test.txt", ABC)
    with pytest.raises(TripleFileError, match="has the relation 'unseen'") as error:
        transductive("toy", tmp_path, strict=True)
    assert str(valid) in str(error.value)


def test_missing_split_file_names_the_missing_path(tmp_path: Path) -> None:
    write_triples(tmp_path, "train.txt", ABC)
    write_triples(tmp_path, "valid.txt", ABC)
    with pytest.raises(TripleFileError, match="not found") as error:
        transductive("toy", tmp_path)
    assert str(tmp_path / "test.txt") in str(error.value)


def test_grail_rejects_a_relation_unknown_to_the_training_graph(tmp_path: Path) -> None:
    train, inference = tmp_path / "x_v1", tmp_path / "x_v1_ind"
    write_triples(train, "train.txt", ABC)
    write_triples(train, "valid.txt", [("a", "s", "c")])
    write_triples(inference, "train.txt", [("u", "r", "v")])
    write_triples(inference, "valid.txt", [("u", "r", "w")])
    bad = write_triples(inference, "test.txt", [("v", "r", "u"), ("v", "brand_new", "u")])
    with pytest.raises(TripleFileError) as error:
        grail_inductive("toy", train, inference)
    assert str(error.value).startswith(f"{bad}: triple 2 (v, brand_new, u) has the relation 'brand_new'")


def test_grail_merges_inductive_valid_and_test_and_shares_relations(tmp_path: Path) -> None:
    train, inference = tmp_path / "x_v1", tmp_path / "x_v1_ind"
    write_triples(train, "train.txt", ABC)
    write_triples(train, "valid.txt", [("a", "s", "c")])
    write_triples(inference, "train.txt", [("u", "s", "v")])
    write_triples(inference, "valid.txt", [("u", "r", "w")])
    write_triples(inference, "test.txt", [("w", "s", "u")])
    dataset = grail_inductive("toy", train, inference)
    assert dataset.setting == "inductive_e"
    assert dataset.test.targets.tolist() == [[0, 0, 2], [2, 1, 0]]
    assert dataset.test.graph.num_nodes == 3  # w only occurs in the queries
    assert dataset.test.graph.num_direct_relations == 2
    assert len(dataset.test.filter_triples) == 3
    assert len(dataset.valid.filter_triples) == 3


def _inductive_folder(folder: Path, names: tuple[str, str, str, str], valid: list, test: list) -> Path:
    train_name, inference_name, valid_name, test_name = names
    write_triples(folder, train_name, ABC)
    write_triples(folder, inference_name, [("u", "p", "v"), ("v", "r", "w")])
    write_triples(folder, valid_name, valid)
    write_triples(folder, test_name, test)
    return folder


def test_inference_graph_family_grows_the_inference_vocabulary_with_queries(tmp_path: Path) -> None:
    names = (INGRAM_FILES.train, INGRAM_FILES.inference, INGRAM_FILES.valid, INGRAM_FILES.test)
    folder = _inductive_folder(tmp_path, names, [("u", "p", "x")], [("y", "new", "u")])
    dataset = inference_graph_inductive("toy", folder, INGRAM_FILES, "inductive_er")
    assert dataset.train.graph.num_nodes == 3
    assert dataset.train.graph.num_direct_relations == 2
    # inference vocabulary: u, v, w from the graph, then x (valid), then y (test); relations p, r, new
    assert dataset.test_entity_labels == ["u", "v", "w", "x", "y"]
    assert dataset.test.graph.num_nodes == 5
    assert dataset.test.graph.num_direct_relations == 3
    assert dataset.valid.graph is dataset.test.graph
    assert dataset.valid.targets.tolist() == [[0, 0, 3]]
    assert dataset.test.targets.tolist() == [[4, 2, 0]]
    # one filter for validation and test: inference graph + valid + test
    assert torch.equal(dataset.valid.filter_triples, dataset.test.filter_triples)
    assert len(dataset.test.filter_triples) == 4


def test_mtdea_drops_validation_triples_outside_the_training_vocabulary(tmp_path: Path) -> None:
    names = ("transductive_train.txt", "inference_graph.txt", "transductive_valid.txt", "inf_test.txt")
    valid = [("a", "s", "c"), ("a", "r", "unseen"), ("c", "unseen_relation", "a"), ("unseen", "r", "a")]
    folder = _inductive_folder(tmp_path, names, valid, [("u", "r", "z")])
    dataset = mtdea_inductive("toy", folder)
    assert dataset.valid.targets.tolist() == [[0, 1, 2]]
    assert dataset.valid.graph is dataset.train.graph
    assert dataset.test.graph.num_nodes == 4  # z appended as an isolated node
    assert len(dataset.valid.filter_triples) == 3
    assert len(dataset.test.filter_triples) == 3


def test_hm_appends_validation_entities_to_the_training_vocabulary(tmp_path: Path) -> None:
    names = ("train.txt", "test-graph.txt", "valid.txt", "test-fact.txt")
    folder = _inductive_folder(tmp_path, names, [("a", "r", "ookb")], [("w", "p", "u")])
    write(folder / "train.txt", "a\tr\tb\nb\ts\tc\na\tr\tb")  # a duplicate line, no final newline
    dataset = hm_inductive("toy", folder)
    assert len(dataset.train.targets) == 3  # duplicates kept
    assert dataset.train.graph.num_nodes == 3
    assert dataset.valid.graph.num_nodes == 4
    assert torch.equal(dataset.valid.graph.edge_index, dataset.train.graph.edge_index)
    assert dataset.valid.targets.tolist() == [[0, 0, 3]]
    assert dataset.entity_labels == ["a", "b", "c", "ookb"]


def test_an_empty_field_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.txt", "a\tr\tb\nc\t\td\n")
    with pytest.raises(TripleFileError, match=r"bad.txt:2: empty relation field"):
        read_triples(path)


def test_a_byte_order_mark_is_not_part_of_the_first_label(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffa\tr\tb\n".encode())
    assert read_triples(path) == [("a", "r", "b")]


@pytest.mark.parametrize("header", ["head\trelation\ttail", "subject predicate object", "h\tr\tt", "#head\trel\ttail"])
def test_a_header_line_is_skipped_with_a_warning(tmp_path: Path, header: str) -> None:
    path = write(tmp_path / "header.txt", f"{header}\na\tr\tb\n")
    with pytest.warns(UserWarning, match="header.txt:1: header line"):
        assert read_triples(path) == [("a", "r", "b")]


def test_a_header_like_line_after_the_first_triple_is_data(tmp_path: Path) -> None:
    path = write(tmp_path / "data.txt", "a\tr\tb\nhead\trelation\ttail\n")
    assert read_triples(path) == [("a", "r", "b"), ("head", "relation", "tail")]
