"""The dataset catalog: names, counts of every offline benchmark, the bundled default and downloads."""

from __future__ import annotations

import dataclasses
import io
import shutil
import tarfile
from pathlib import Path

import pytest

from lit_kgns.data import catalog
from lit_kgns.data.catalog import DatasetNotFoundError, available_datasets, get_entry, load_dataset
from lit_kgns.data.download import DownloadError, sha256_of
from lit_kgns.data.graph import KGDataset, LinkPredictionSplit

# name: training graph (nodes, relations, edges), #valid, #test, inference graph (nodes, relations, edges)
# (None: the training graph). Sources: /work/shared/data/README.md tables and each PROVENANCE.md's
# "What ULTRA's loader yields"; GraIL test = valid + test of the _ind folder (merge_valid_test).
EXPECTED: dict[str, tuple[tuple[int, int, int], int, int, tuple[int, int, int] | None]] = {
    "nations": ((14, 55, 1_592), 199, 201, None),
    "kinship": ((104, 25, 8_544), 1_068, 1_074, None),
    "umls": ((135, 46, 5_216), 652, 661, None),
    "wn18rr": ((40_943, 11, 86_835), 3_034, 3_134, None),
    "fb15k-237": ((14_541, 237, 272_115), 17_535, 20_466, None),
    "countries_s1": ((271, 2, 1_111), 24, 24, None),
    "countries_s2": ((271, 2, 1_063), 24, 24, None),
    "countries_s3": ((271, 2, 985), 24, 24, None),
    "codex-s": ((2_034, 42, 32_888), 1_827, 1_828, None),
    "codex-m": ((17_050, 51, 185_584), 10_310, 10_311, None),
    "grail_fb237_v1": ((1_594, 180, 4_245), 489, 206 + 205, (1_093, 180, 1_993)),
    "grail_fb237_v2": ((2_608, 200, 9_739), 1_166, 469 + 478, (1_660, 200, 4_145)),
    "grail_fb237_v3": ((3_668, 215, 17_986), 2_194, 866 + 865, (2_501, 215, 7_406)),
    "grail_fb237_v4": ((4_707, 219, 27_203), 3_352, 1_416 + 1_424, (3_051, 219, 11_714)),
    "grail_wn18rr_v1": ((2_746, 9, 5_410), 630, 185 + 188, (922, 9, 1_618)),
    "grail_wn18rr_v2": ((6_954, 10, 15_262), 1_838, 411 + 441, (2_757, 10, 4_011)),
    "grail_wn18rr_v3": ((12_078, 11, 25_901), 3_097, 538 + 605, (5_084, 11, 6_327)),
    "grail_wn18rr_v4": ((3_861, 9, 7_940), 934, 1_394 + 1_429, (7_084, 9, 12_334)),
    "grail_nell_v1": ((3_103, 14, 4_687), 414, 101 + 100, (225, 14, 833)),
    "grail_nell_v2": ((2_564, 88, 8_219), 922, 459 + 476, (2_086, 88, 4_586)),
    "grail_nell_v3": ((4_647, 142, 16_393), 1_851, 811 + 809, (3_566, 142, 8_048)),
    "grail_nell_v4": ((2_092, 76, 7_546), 876, 716 + 731, (2_795, 76, 7_073)),
    "ilpc2022_small": ((10_230, 48, 78_616), 2_908, 2_902, (6_653, 43, 20_960)),
    "ingram_nl_0": ((1_814, 134, 7_796), 763, 763, (2_026, 112, 2_287)),
    "ingram_nl_25": ((4_396, 106, 17_578), 743, 744, (2_146, 120, 2_230)),
    "ingram_nl_50": ((4_396, 106, 17_578), 859, 859, (2_335, 119, 2_576)),
    "ingram_nl_75": ((2_607, 96, 11_058), 606, 607, (1_578, 116, 1_818)),
    "ingram_nl_100": ((1_258, 55, 7_832), 793, 793, (1_709, 53, 2_378)),
    "mtdea_metafam": ((1_316, 28, 13_821), 590, 184, (656, 28, 7_257)),
    "mtdea_fbnell": ((4_636, 100, 10_275), 1_055, 597, (4_752, 183, 10_685)),
    "hm_1k": ((36_237, 11, 93_364), 1_771, 476, (9_899, 11, 18_638)),
}

SETTINGS = {
    "transductive": {"nations", "kinship", "umls", "wn18rr", "fb15k-237", "codex-s", "codex-m"}
    | {f"countries_s{level}" for level in (1, 2, 3)},
    "inductive_e": {f"grail_{family}_v{v}" for family in ("fb237", "wn18rr", "nell") for v in (1, 2, 3, 4)}
    | {"ilpc2022_small", "hm_1k"},
    "inductive_er": {f"ingram_nl_{level}" for level in (0, 25, 50, 75, 100)} | {"mtdea_metafam", "mtdea_fbnell"},
}

BUNDLED = {"nations": (14, 55, 1_592), "kinship": (104, 25, 8_544), "umls": (135, 46, 5_216)}

# the entries of lit_kgns/data/entries_more.py, checked (counts, settings, aliases) in test_catalog_offline.py
ADDED = {"conceptnet-100k", "wd-singer", "nell23k", "fb15k-237-10", "ilpc2022_large", "hm_3k", "hm_5k"}
ADDED |= {f"ingram_wk_{level}" for level in (25, 50, 75, 100)}
ADDED |= {f"mtdea_wikitopics_{name}" for name in ("mt3_art", "mt3_infra", "mt4_sci", "mt4_health")}
# the entries of lit_kgns/data/entries_remote.py (no offline copy, no sha256), checked in test_remote_entries.py
REMOTE = {"nell995", "yago3-10", "codex-l", "dbpedia100k", "aristov4", "hetionet", "fb15k-237-20", "fb15k-237-50"}
REMOTE |= {f"ingram_fb_{level}" for level in (25, 50, 75, 100)} | {"hm_indigo"}
REMOTE |= {f"mtdea_wikitopics_{name}" for name in ("mt1_tax", "mt1_health", "mt2_org", "mt2_sci")}


def graph_counts(split: LinkPredictionSplit) -> tuple[int, int, int]:
    graph = split.graph
    return graph.num_nodes, graph.num_direct_relations, graph.num_edges // 2


def assert_ids_inside_graphs(dataset: KGDataset) -> None:
    for split in (dataset.train, dataset.valid, dataset.test):
        graph = split.graph
        for triples in (split.targets, split.filter_triples, graph.direct_triples):
            assert int(triples[:, [0, 2]].max()) < graph.num_nodes
            assert int(triples[:, 1].max()) < graph.num_direct_relations
            assert int(triples.min()) >= 0


# --- names ---------------------------------------------------------------------------------------------


def test_catalog_lists_every_expected_dataset() -> None:
    assert sorted(available_datasets()) == sorted([*EXPECTED, *ADDED, *REMOTE])


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_settings(setting: str) -> None:
    assert {name for name in EXPECTED if get_entry(name).setting == setting} == SETTINGS[setting]


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("FB15k-237", "fb15k-237"),
        ("  CoDEx-M ", "codex-m"),
        ("GRAIL_WN18RR_V1", "grail_wn18rr_v1"),
        ("Countries_S2", "countries_s2"),
        ("FB15k237", "fb15k-237"),
        ("CoDExSmall", "codex-s"),
        ("NLIngram:25", "ingram_nl_25"),
        ("ILPC2022:small", "ilpc2022_small"),
        ("HM:1k", "hm_1k"),
        ("FBNELL", "mtdea_fbnell"),
        ("FB15k237Inductive:v3", "grail_fb237_v3"),
        ("Kinships", "kinship"),
    ],
)
def test_names_are_case_insensitive_and_accept_upstream_spellings(spelling: str, name: str) -> None:
    assert get_entry(spelling).name == name


def test_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown dataset 'fb15k'; available: .*fb15k-237"):
        get_entry("fb15k")


def test_every_file_has_a_sha256_and_a_source() -> None:
    for name in sorted(set(available_datasets()) - REMOTE):
        entry = get_entry(name)
        assert entry.base_url is not None and entry.base_url.startswith("https://raw.githubusercontent.com/")
        # pinned to a commit, never a branch
        assert "/master/" not in entry.base_url and "/main/" not in entry.base_url
        for file in entry.files:
            assert len(file.sha256) == 64


# --- the offline copies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dataset_loads_with_the_published_counts(shared_data: Path, name: str) -> None:
    dataset = load_dataset(name, shared_data)
    train_graph, num_valid, num_test, inference_graph = EXPECTED[name]
    assert dataset.name == name
    assert dataset.setting == get_entry(name).setting
    assert graph_counts(dataset.train) == train_graph
    assert len(dataset.train.targets) == train_graph[2]
    assert len(dataset.valid.targets) == num_valid
    assert len(dataset.test.targets) == num_test
    assert graph_counts(dataset.test) == (inference_graph or train_graph)
    assert len(dataset.entity_labels) >= train_graph[0]
    assert len(dataset.relation_labels) == train_graph[1]
    if inference_graph is not None:
        assert len(dataset.test_entity_labels) == inference_graph[0]
    assert_ids_inside_graphs(dataset)


@pytest.mark.parametrize("name", ["grail_fb237_v1", "mtdea_metafam", "hm_1k"])
def test_validation_on_the_training_graph_filters_on_train_and_valid(shared_data: Path, name: str) -> None:
    dataset = load_dataset(name, shared_data)
    assert len(dataset.valid.filter_triples) == len(dataset.train.targets) + len(dataset.valid.targets)
    inference_edges = dataset.test.graph.num_edges // 2
    assert len(dataset.test.filter_triples) == inference_edges + len(dataset.test.targets)


@pytest.mark.parametrize("name", ["ilpc2022_small", "ingram_nl_50"])
def test_validation_on_the_inference_graph_shares_one_filter(shared_data: Path, name: str) -> None:
    dataset = load_dataset(name, shared_data)
    assert dataset.valid.graph is dataset.test.graph
    expected = dataset.test.graph.num_edges // 2 + len(dataset.valid.targets) + len(dataset.test.targets)
    assert len(dataset.valid.filter_triples) == len(dataset.test.filter_triples) == expected


def test_fbnell_keeps_only_validation_triples_inside_the_training_vocabulary(shared_data: Path) -> None:
    # 169 of the 1,224 lines of transductive_valid.txt touch an entity absent from the training graph
    lines = (shared_data / "mtdea_fbnell" / "transductive_valid.txt").read_text().splitlines()
    assert len(lines) == 1_224
    dataset = load_dataset("mtdea_fbnell", shared_data)
    assert len(dataset.valid.targets) == 1_055
    assert dataset.valid.graph.num_nodes == dataset.train.graph.num_nodes == 4_636


def test_hm_validation_graph_has_the_validation_only_entities(shared_data: Path) -> None:
    dataset = load_dataset("hm_1k", shared_data)
    assert dataset.valid.graph.num_nodes == 36_311
    assert dataset.valid.graph.num_edges == dataset.train.graph.num_edges
    assert len(dataset.entity_labels) == 36_311


def test_transductive_filter_is_train_valid_and_test(shared_data: Path) -> None:
    dataset = load_dataset("codex-s", shared_data)
    assert len(dataset.test.filter_triples) == 32_888 + 1_827 + 1_828
    assert dataset.valid.graph is dataset.train.graph is dataset.test.graph


def test_data_root_from_the_environment(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIT_KGNS_DATA", str(shared_data))
    assert len(load_dataset("grail_nell_v1").test.targets) == 201


# --- the bundled default ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_datasets_need_no_data_root(tmp_path: Path, name: str) -> None:
    dataset = load_dataset(name, tmp_path)
    assert graph_counts(dataset.train) == BUNDLED[name]
    assert list(tmp_path.iterdir()) == []  # nothing downloaded or written


def test_a_folder_under_the_root_takes_precedence_over_the_bundled_copy(tmp_path: Path) -> None:
    bundled = catalog.dataset_folder("nations", tmp_path / "empty")
    own = tmp_path / "root" / "nations"
    own.mkdir(parents=True)
    for file in ("valid.txt", "test.txt"):
        shutil.copy(bundled / file, own / file)
    lines = (bundled / "train.txt").read_text().splitlines(keepends=True)
    (own / "train.txt").write_text("".join(lines[:100]))
    dataset = load_dataset("nations", tmp_path / "root")
    assert len(dataset.train.targets) == 100


# --- missing data and downloads ---------------------------------------------------------------------------


def test_missing_folder_without_a_source_names_root_folder_and_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = dataclasses.replace(get_entry("codex-s"), base_url=None)
    monkeypatch.setitem(catalog.DATASETS, "codex-s", entry)
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset("codex-s", tmp_path)
    message = str(error.value)
    assert str(tmp_path) in message
    assert "'codex-s'" in message
    assert str(tmp_path / "codex-s" / "train.txt") in message
    assert "LIT_KGNS_DATA" in message


def _serve_like_upstream(server, entry: catalog.DatasetEntry, source: Path) -> None:
    for file in entry.files:
        server.put(file.remote, (source / file.local).read_bytes())


def test_missing_folder_is_downloaded_from_the_entry_source(
    shared_data: Path, local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = dataclasses.replace(get_entry("hm_1k"), base_url=local_server.url)
    monkeypatch.setitem(catalog.DATASETS, "hm_1k", entry)
    _serve_like_upstream(local_server, entry, shared_data / "hm_1k")
    root = tmp_path / "root"
    dataset = load_dataset("HM:1k", root)
    assert len(dataset.test.targets) == 476
    for file in entry.files:
        assert sha256_of(root / "hm_1k" / file.local) == file.sha256
    assert sorted(path.name for path in (root / "hm_1k").iterdir()) == sorted(f.local for f in entry.files)


def test_only_the_missing_files_of_a_shared_folder_are_downloaded(
    shared_data: Path, local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = dataclasses.replace(get_entry("grail_nell_v1"), base_url=local_server.url)
    monkeypatch.setitem(catalog.DATASETS, "grail_nell_v1", entry)
    _serve_like_upstream(local_server, entry, shared_data / "grail_inductive")
    root = tmp_path / "root"
    present = entry.files[0]
    (root / "grail_inductive" / present.local).parent.mkdir(parents=True)
    shutil.copy(shared_data / "grail_inductive" / present.local, root / "grail_inductive" / present.local)
    (local_server.folder / present.remote).unlink()  # would 404 if fetched
    assert len(load_dataset("grail_nell_v1", root).test.targets) == 201


def test_a_corrupt_download_is_refused_and_leaves_no_file(
    shared_data: Path, local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = dataclasses.replace(get_entry("countries_s1"), base_url=local_server.url)
    monkeypatch.setitem(catalog.DATASETS, "countries_s1", entry)
    _serve_like_upstream(local_server, entry, shared_data / "countries_S1")
    local_server.put(entry.files[1].remote, b"Tampered\tlocatedIn\tnowhere\n")
    root = tmp_path / "root"
    with pytest.raises(DownloadError, match="sha256") as failure:
        load_dataset("countries_s1", root)
    assert "--data.root" in str(failure.value) and "could not be downloaded" in str(failure.value)
    assert not (root / "countries_S1").exists()  # the folder made for the download goes with it, files and all


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_dataset_is_extracted_from_its_verified_archive(
    local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = catalog.dataset_folder("umls", tmp_path / "empty")
    files = {file: (bundled / file).read_bytes() for file in ("train.txt", "valid.txt", "test.txt")}
    archive = local_server.put("umls.tar.gz", _tarball(files))
    entry = dataclasses.replace(
        get_entry("umls"), base_url=local_server.url, archive_sha256=sha256_of(archive), embedded=None
    )
    monkeypatch.setitem(catalog.DATASETS, "umls", entry)
    root = tmp_path / "root"
    dataset = load_dataset("umls", root)
    assert graph_counts(dataset.train) == BUNDLED["umls"]
    assert sorted(path.name for path in (root / "umls").iterdir()) == ["test.txt", "train.txt", "valid.txt"]


def test_an_archive_with_the_wrong_checksum_is_refused(
    local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_server.put("nations.tar.gz", _tarball({"train.txt": b"a\tr\tb\n"}))
    entry = dataclasses.replace(get_entry("nations"), base_url=local_server.url, embedded=None)
    monkeypatch.setitem(catalog.DATASETS, "nations", entry)
    root = tmp_path / "root"
    with pytest.raises(DownloadError, match="sha256"):
        load_dataset("nations", root)
    assert not root.exists()  # nothing half-created: not even the empty folders
