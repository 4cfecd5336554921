"""Named groups of datasets resolve to catalog names, wherever a list of datasets is accepted."""

from pathlib import Path

import pytest

from lit_kgns.data.catalog import available_datasets, get_entry
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.groups import expand_groups, group_members


def test_protocol_groups_partition_the_catalog() -> None:
    groups = [group_members(group) for group in ("transductive", "inductive_e", "inductive_er")]
    assert sorted(name for group in groups for name in group) == sorted(available_datasets())
    assert "umls" in groups[0] and "grail_nell_v1" in groups[1] and "ingram_nl_25" in groups[2]
    assert all(get_entry(name).setting == "inductive_e" for name in groups[1])
    assert group_members("all") == available_datasets()


def test_offline_is_what_the_data_root_holds(tmp_path: Path, shared_data: Path) -> None:
    bundled = group_members("offline", tmp_path)  # an empty root: only PyKEEN's bundled graphs
    assert bundled == ["nations", "kinship", "umls"]
    held = group_members("offline", shared_data)
    assert {"fb15k-237", "grail_nell_v1", "ilpc2022_small"} <= set(held)


def test_groups_expand_in_place_without_repeats() -> None:
    expanded = expand_groups(["umls", "transductive", "grail_nell_v1"])
    assert expanded[0] == "umls" and expanded.count("umls") == 1 and expanded[-1] == "grail_nell_v1"
    with pytest.raises(KeyError):
        group_members("nope")


def test_a_datamodule_takes_groups_per_stage() -> None:
    datamodule = KGDataModule(train_datasets=["umls"], test_datasets=["inductive_er"])
    assert datamodule.test_names == group_members("inductive_er")
    assert datamodule.train_names == ["umls"]
