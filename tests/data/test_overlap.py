"""The leak check: a benchmark's test triples that another dataset already states, matched by labels."""

from pathlib import Path

from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.folders import load_folder
from lit_kgns.data.overlap import stated_triples, triples_under_test


def write_folder(folder: Path, files: dict[str, list[str]]) -> Path:
    folder.mkdir()
    for name, lines in files.items():
        (folder / f"{name}.txt").write_text("".join(f"{line}\n" for line in lines))
    return folder


def test_a_test_triple_counts_when_the_other_dataset_states_it_in_any_split_or_graph(tmp_path: Path) -> None:
    source = load_folder(
        write_folder(tmp_path / "source", {"train": ["a\tr\tb", "b\tr\tc"], "valid": ["c\ts\ta"], "test": ["a\ts\tc"]})
    )
    assert stated_triples(source) == {("a", "r", "b"), ("b", "r", "c"), ("c", "s", "a"), ("a", "s", "c")}
    benchmark = load_folder(
        write_folder(
            tmp_path / "benchmark",
            {"train": ["a\tr\tc", "c\tr\tb"], "valid": ["b\tr\tc"], "test": ["a\tr\tb", "b\tr\ta", "c\ts\ta"]},
        )
    )
    assert triples_under_test(benchmark) == {("a", "r", "b"), ("b", "r", "a"), ("c", "s", "a")}
    assert triples_under_test(benchmark) & stated_triples(source) == {("a", "r", "b"), ("c", "s", "a")}


def test_inductive_test_triples_carry_the_inference_graph_labels(tmp_path: Path) -> None:
    benchmark = load_folder(
        write_folder(
            tmp_path / "inductive",
            {
                "train": ["a\tr\tb", "b\tr\ta"],
                "inference": ["x\tr\ty", "y\tr\tz"],
                "inference_validation": ["z\tr\tx"],
                "inference_test": ["x\tr\tz"],
            },
        )
    )
    assert triples_under_test(benchmark) == {("x", "r", "z")}
    stated = stated_triples(benchmark)
    assert {("a", "r", "b"), ("x", "r", "y"), ("z", "r", "x"), ("x", "r", "z")} <= stated
    assert ("y", "r", "x") not in stated  # inverse edges are not facts of their own


def test_ilpc_2022_small_tests_facts_of_codex_m_and_grail_nell_none(shared_data: Path) -> None:
    # why the KMAS fine-tuning comparison reports its mean over graphs without ILPC 2022 small as well
    codex_m = stated_triples(load_dataset("codex-m", shared_data))
    ilpc = triples_under_test(load_dataset("ilpc2022_small", shared_data))
    assert len(ilpc) == 2902 and ilpc <= codex_m
    assert not triples_under_test(load_dataset("grail_nell_v1", shared_data)) & codex_m
