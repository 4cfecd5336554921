"""Held-out facts of a training graph: every source the data root has, matched by labels."""

from pathlib import Path

import torch

from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.held_out import _triple_files, held_out_facts, related_datasets
from lit_kgns.data.triples import read_triples


def as_set(triples: torch.Tensor) -> set[tuple[int, int, int]]:
    return {tuple(row) for row in triples.tolist()}


def test_transductive_facts_are_validation_and_test_triples_not_in_training() -> None:
    dataset = load_dataset("umls")
    facts = held_out_facts(dataset, root="/nonexistent")  # the bundled copy: no folder files to read
    expected = (as_set(dataset.valid.targets) | as_set(dataset.test.targets)) - as_set(dataset.train.targets)
    assert as_set(facts.triples) == expected
    assert len(facts.triples) == len(expected)  # each fact once
    assert [source.split(" ")[0] for source in facts.sources] == ["umls/valid", "umls/test"]


def test_related_datasets_follow_the_source_graph() -> None:
    related = related_datasets("grail_fb237_v1")
    assert "fb15k-237" in related and {"grail_fb237_v2", "grail_fb237_v4"} <= set(related)
    assert "grail_fb237_v1" not in related and "wn18rr" not in related
    assert set(related_datasets("ingram_nl_25")) == {"ingram_nl_0", "ingram_nl_50", "ingram_nl_75", "ingram_nl_100"}
    assert related_datasets("umls") == []


def test_graphs_labelled_with_wikidata_ids_are_related() -> None:
    related = set(related_datasets("ilpc2022_small"))
    assert {"ilpc2022_large", "codex-s", "codex-m", "ingram_wk_25"} <= related
    assert "ilpc2022_small" not in related and "ingram_nl_25" not in related


def test_grail_facts_include_the_unused_test_file_and_fb15k_237(shared_data: Path) -> None:
    dataset = load_dataset("grail_fb237_v1", shared_data)
    facts = held_out_facts(dataset, shared_data)
    files = [source.split(" ")[0] for source in facts.sources]
    assert files[0] == "grail_fb237_v1/valid"
    assert str(shared_data / "grail_inductive/fb237_v1/test.txt") in files
    assert any("fb15k-237" in file for file in files)
    found = as_set(facts.triples)
    assert not found & as_set(dataset.train.targets)
    # every triple of the training folder's unused test file whose labels the graph knows is a fact
    entities = {label: i for i, label in enumerate(dataset.entity_labels)}
    relations = {label: i for i, label in enumerate(dataset.relation_labels)}
    unused = {
        (entities[h], relations[r], entities[t])
        for h, r, t in read_triples(shared_data / "grail_inductive/fb237_v1/test.txt")
        if h in entities and t in entities
    }
    assert unused and unused <= found
    # the counts in the sources add up to the facts
    assert sum(int(source.split("(")[1].split(" ")[0]) for source in facts.sources) == len(found)


def test_a_separate_training_graph_has_no_held_out_facts(shared_data: Path) -> None:
    facts = held_out_facts(load_dataset("ingram_nl_25", shared_data), shared_data)
    assert len(facts.triples) == 0 and facts.sources == []


def test_codex_verified_false_triples_are_never_facts_and_each_file_is_read_once(shared_data: Path) -> None:
    negatives_file = shared_data / "codex-s/valid_negatives.txt"
    assert negatives_file.is_file()
    files = _triple_files(["codex-s", *related_datasets("codex-s")], shared_data)
    assert len(files) == len(set(files)) and shared_data / "codex-m/train.txt" in files
    assert not [path for path in files if "negatives" in path.name]
    dataset = load_dataset("codex-s", shared_data)
    facts = as_set(held_out_facts(dataset, shared_data).triples)
    entities = {label: i for i, label in enumerate(dataset.entity_labels)}
    relations = {label: i for i, label in enumerate(dataset.relation_labels)}
    false = {(entities[h], relations[r], entities[t]) for h, r, t in read_triples(negatives_file)}
    assert false and not false & facts
