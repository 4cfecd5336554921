"""Named groups of datasets resolve to catalog names, wherever a list of datasets is accepted."""

from pathlib import Path

import pytest

from lit_kgns.analysis.run_tables import group_of
from lit_kgns.data.catalog import available_datasets, get_entry
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.groups import expand_groups, group_members

CLASSICS = ["nations", "kinship", "umls", "countries_s1", "countries_s2", "countries_s3"]


def test_protocol_groups_are_the_57_benchmark_graphs() -> None:
    groups = [group_members(group) for group in ("transductive", "inductive_e", "inductive_er")]
    assert [len(group) for group in groups] == [16, 18, 23]  # as the KGFM papers count them
    benchmark = [name for group in groups for name in group]
    assert len(set(benchmark)) == 57
    # the small classics are in the catalog (and "all") but not in the benchmark's means
    assert sorted(available_datasets()) == sorted(benchmark + CLASSICS)
    assert "codex-s" in groups[0] and "grail_nell_v1" in groups[1] and "ingram_nl_25" in groups[2]
    assert all(get_entry(name).setting == "inductive_e" for name in groups[1])
    assert group_members("all") == available_datasets()
    assert [group_of(name) for name in ("umls", "codex-s", "hm_1k")] == ["other", "transductive", "inductive_e"]


def test_offline_is_what_the_data_root_holds(tmp_path: Path, shared_data: Path) -> None:
    bundled = group_members("offline", tmp_path)  # an empty root: only PyKEEN's bundled graphs
    assert bundled == ["nations", "kinship", "umls"]
    held = group_members("offline", shared_data)
    assert {"fb15k-237", "grail_nell_v1", "ilpc2022_small"} <= set(held)


def test_groups_expand_in_place_without_repeats() -> None:
    expanded = expand_groups(["codex-s", "transductive", "grail_nell_v1"])
    assert expanded[0] == "codex-s" and expanded.count("codex-s") == 1 and expanded[-1] == "grail_nell_v1"
    with pytest.raises(KeyError):
        group_members("nope")


def test_a_datamodule_takes_groups_per_stage() -> None:
    datamodule = KGDataModule(train_datasets=["umls"], test_datasets=["inductive_er"])
    assert datamodule.test_names == group_members("inductive_er")
    assert datamodule.train_names == ["umls"]
