"""Catalog entries for the 17 graphs of ULTRA's 57 that have no offline copy, so no packaged sha256.

Files committed to a public GitHub repository are pinned by their **git blob id** (from ``git ls-tree`` at the
pinned commit) and verified after download like a sha256. AristoV4 (Zenodo zip), Hetionet (Dropbox) and the
WikiTopics ``v1`` splits (MTDEA's S3 zip) exist nowhere in git: they are **trusted on first use** (see
:mod:`lit_kgns.data.download`). Sources are those of ``ultra/datasets.py`` in ``DeepGraphLearning/ULTRA`` at
``427966ad8ed60420eef034063d44f3153addff90``, with its ``master``/``main`` URLs replaced by commits carrying the
same blobs. :mod:`lit_kgns.data.entries` collects these in its ``_registry()``; this module imports that one's
helpers, so it must not be imported by it at the top.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from lit_kgns.data.download import DataFile
from lit_kgns.data.entries import (
    _CODEX,
    _GITHUB,
    _HM_REMOTE,
    _INDIGO,
    _INGRAM,
    _SPLIT_FILES,
    DatasetEntry,
    _build_inference_graph,
    _role_files,
)
from lit_kgns.data.entries_more import _DACKGR_FILES, _PAAR
from lit_kgns.data.graph import KGDataset
from lit_kgns.data.splits import (
    HM_FILES,
    INGRAM_FILES,
    WIKITOPICS_FILES,
    hm_inductive,
    mtdea_inductive,
    one_graph_dataset,
    transductive,
)
from lit_kgns.data.triples import Vocabulary, encode_triples, read_triples

# ULTRA's main-branch URL; RED-GNN moved nell/ to Static/ in 2026, this is the last commit with ULTRA's paths
_RED_GNN = _GITHUB + "LARS-research/RED-GNN/5e2ccadc49e7ab7feca251961c12b674cc8c501f/transductive/data/"
# ULTRA's master-branch URLs, at the repositories' last commits (the files never changed since they were added)
_KGE = _GITHUB + "DeepGraphLearning/KnowledgeGraphEmbedding/2e440e0f9c687314d5ff67ead68ce985dc446e3a/data/"
_DB100K = _GITHUB + "iieir-km/ComplEx-NNE_AER/47fb01b3fa876a3d5154fa9b4e3c2b9fc2f29f08/datasets/"
# outside git, exactly ULTRA's sources: a Zenodo record (immutable version), a Dropbox share, an S3 object
_ZENODO_ARISTO = "https://zenodo.org/records/5942560/files/"
_DROPBOX = "https://www.dropbox.com/s/"
_MTDEA_S3 = "https://reltrans.s3.us-east-2.amazonaws.com/"

# git blob id of each committed file, by its path under the entry's base URL (`git ls-tree -r <commit>`)
_BLOBS = {
    "nell/facts.txt": "8944bd16a78a96d6e22b42458e0b7588a076edd3",
    "nell/train.txt": "6470e896ba6735f1c3514f6733e05790bc52cbb3",
    "nell/valid.txt": "f9d6664e1e9d54909cc90553b7f0f4ff6b576580",
    "nell/test.txt": "6c1ee5e74c883a101cbbfde0807e54f5244501b7",
    "YAGO3-10/train.txt": "1543056ff5af6d3bf841510129529e91e9a8627c",
    "YAGO3-10/valid.txt": "c9fd7c76478e901e3fc09bed0fdf19a8a3020b56",
    "YAGO3-10/test.txt": "509c864adc123211e6372bc1a4833d05b9d1b8b3",
    "codex-l/train.txt": "be8735738ba4728430922c630f25bf01bcc9eaac",
    "codex-l/valid.txt": "3e5cec60786324253038169b05ecec82dc1358a8",
    "codex-l/test.txt": "1303c431701b3f0d2e116467c7fb7b0f210ce869",
    "DB100K/_train.txt": "693e2b6e8254785e18a45cd475b5ff01cad81c5a",
    "DB100K/_valid.txt": "4b700494e06ffa01294bc54411a38ceeeeeabc89",
    "DB100K/_test.txt": "fd09dd88196ef425c1d79b10bc690592ab8113fb",
    "FB15K-237-20/train.triples": "66da21fefe52db06413f63176a8fd4008cd61937",
    "FB15K-237-20/dev.triples": "4231679027dd2d488944f6d483dd151e1f88a41f",
    "FB15K-237-20/test.triples": "e0295fe47e6c16decfb95d45d015f85ed12002b3",
    "FB15K-237-50/train.triples": "5f239f5d62dccc01d40b4a7f84b9a71707b99d51",
    "FB15K-237-50/dev.triples": "f23adb599154ef253f631a08f18388fb6f951969",
    "FB15K-237-50/test.triples": "3b470563e70dfe6f2dc61372d986b47cbd2e25cf",
    "FB-25/train.txt": "3e689ddf9f1496699fca741315e8b572238c5bac",
    "FB-25/msg.txt": "ebe4d4ec80670efac4979807de71c803411f8f4b",
    "FB-25/valid.txt": "ba0887d98bda86ac5627d6492c0294366510c3f4",
    "FB-25/test.txt": "8017ccff3a8749f324d80344ee134b3003eb14ae",
    "FB-50/train.txt": "83415aa5bd584d59e1b13712755e8e12e62fc451",
    "FB-50/msg.txt": "5ca6e27f80360428b6b5287483cfdc9b717d00b2",
    "FB-50/valid.txt": "727544d296b2b08a1130845d62aa99eff6389554",
    "FB-50/test.txt": "843adac1011f96ee05baeb7e0287f2cff20cc768",
    "FB-75/train.txt": "57dfbb4f622808c7ef1b9722c9b53412a3cbb90b",  # the same blob as FB-100's
    "FB-75/msg.txt": "b04715512b257181e3a0face2d730a30a5f95575",
    "FB-75/valid.txt": "6e55b3fcef774899c692cfe0b8501fff552d01be",
    "FB-75/test.txt": "cfa5846f93139f781c9450e797feb68e4bab81f9",
    "FB-100/train.txt": "57dfbb4f622808c7ef1b9722c9b53412a3cbb90b",
    "FB-100/msg.txt": "152a62dec37cfda4b1c520697f225d3c3d436531",
    "FB-100/valid.txt": "ef2b1a1546846b46e5f7f416ab90eae103de33c3",
    "FB-100/test.txt": "8fbfe95274f17aab0922564ee682d7822ad2fbe0",
    "INDIGO-BM/train/train.txt": "d2f508a001a0e9c2171fd1c16c17bcb45aa0e197",
    "INDIGO-BM/test/test-graph.txt": "b332ed18b97cab8df9f76eca964e3666a8fa137e",
    "INDIGO-BM/train/valid.txt": "96f9097b28b5f27c38a34d3032842b3c15c5813a",
    "INDIGO-BM/test/test-fact.txt": "61c3e14342c61ef3c95ba256b4c387445c7d99c1",
}

_NELL_FILES = ("facts.txt", "train.txt", "valid.txt", "test.txt")
# TorchDrug's Hetionet split (its md5s: 6e58915d70ce6d9389c6e4785245e0b3, 77f15fac4f8170b836392a5b1d315afa,
# e8877aafe89d0c9b9c1efb9027cb7226), ULTRA's source
_HETIONET_REMOTE = (
    "y47bt9oq57h6l5k/train.txt?dl=1",
    "a0pbrx9tz3dgsff/valid.txt?dl=1",
    "4dhrvg3fyq5tnu4/test.txt?dl=1",
)


def remote_entries() -> list[DatasetEntry]:
    """The entries of this module, in catalog order."""
    return [*_transductive_entries(), *_inductive_entries(), *_wikitopics_entries()]


def _pinned(local: tuple[str, ...], remote: tuple[str, ...]) -> tuple[DataFile, ...]:
    return tuple(DataFile(name, path, None, _BLOBS[path]) for name, path in zip(local, remote, strict=True))


def _unpinned(local: tuple[str, ...], remote: tuple[str, ...]) -> tuple[DataFile, ...]:
    return tuple(DataFile(name, path, None) for name, path in zip(local, remote, strict=True))


def _under(folder: str, files: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{folder}/{file}" for file in files)


def _transductive(
    name: str,
    files: tuple[DataFile, ...],
    base_url: str,
    description: str,
    build: Callable[[str, Path], KGDataset] = transductive,
    archive: str | None = None,
    tail_only: bool = False,
) -> DatasetEntry:
    return DatasetEntry(
        name,
        "transductive",
        name,
        files,
        build,
        base_url=base_url,
        archive=archive,
        description=description,
        tail_only=tail_only,
    )


def _transductive_entries() -> list[DatasetEntry]:
    nell = _pinned(_NELL_FILES, _under("nell", _NELL_FILES))
    yago = _pinned(_SPLIT_FILES, _under("YAGO3-10", _SPLIT_FILES))
    codex = _pinned(_SPLIT_FILES, _under("codex-l", _SPLIT_FILES))
    db100k = _pinned(_SPLIT_FILES, tuple(f"DB100K/_{file}" for file in _SPLIT_FILES))
    hetionet = _unpinned(_SPLIT_FILES, _HETIONET_REMOTE)
    entries = [
        _transductive("nell995", nell, _RED_GNN, "NELL-995 (Xiong et al. 2017), RED-GNN's split", nell995),
        _transductive("yago3-10", yago, _KGE, "YAGO3-10 (Mahdisoltani et al. 2015)"),
        _transductive("codex-l", codex, _CODEX, "CoDEx-L (Safavi & Koutra 2020)"),
        _transductive("dbpedia100k", db100k, _DB100K, "DB100K (Ding et al. 2018)"),
        # the zip holds train / valid / test without a suffix (ULTRA renames them); ULTRA splits on tabs only
        _transductive(
            "aristov4",
            _unpinned(_SPLIT_FILES, ("train", "valid", "test")),
            _ZENODO_ARISTO,
            "Aristo-v4 (Chen et al. 2021)",
            partial(transductive, tab_only=True),
            archive="aristo-v4.zip",
        ),
        _transductive("hetionet", hetionet, _DROPBOX, "Hetionet (Himmelstein et al. 2017), TorchDrug's split"),
    ]
    for level in (20, 50):
        entries.append(
            _transductive(
                f"fb15k-237-{level}",
                _pinned(_DACKGR_FILES, _under(f"FB15K-237-{level}", _DACKGR_FILES)),
                _PAAR,  # DacKGR's data.zip unpacked, as for fb15k-237-10 (entries_more)
                f"FB15K-237-{level}% sparse KG (Lv et al. 2020); upstream ULTRA reports tail-only metrics",
                partial(transductive, files=_DACKGR_FILES, relation_last=True),
                tail_only=True,
            )
        )
    return entries


def _inductive_entries() -> list[DatasetEntry]:
    entries = [
        DatasetEntry(
            "hm_indigo",
            "inductive_e",
            "hm_indigo",
            _pinned(_role_files(HM_FILES), _under("INDIGO-BM", _HM_REMOTE)),
            hm_inductive,
            base_url=_INDIGO,
            description="INDIGO-BM (Liu et al. 2021), ULTRA's HM:indigo",
        )
    ]
    for level in (25, 50, 75, 100):
        folder = f"ingram_fb_{level}"
        local = _role_files(INGRAM_FILES)
        entries.append(
            DatasetEntry(
                folder,
                "inductive_er",
                folder,
                _pinned(local, _under(f"FB-{level}", local)),
                partial(_build_inference_graph, INGRAM_FILES, "inductive_er"),
                base_url=_INGRAM,
                description=f"InGram FB-{level} (Lee et al. 2023)",
            )
        )
    return entries


def _wikitopics_entries() -> list[DatasetEntry]:
    entries = []
    for split, topic in (("mt1", "tax"), ("mt1", "health"), ("mt2", "org"), ("mt2", "sci")):
        name = f"mtdea_wikitopics_{split}_{topic}"
        # the v1 splits are only in MTDEA's zip (no git copy); folders as ULTRA's MTDEAInductive.download reads them
        family = f"MTDEA_datasets/WikiTopics-{split.upper()}/wikidata_{topic}v1"
        files = WIKITOPICS_FILES
        remote = (f"{family}-trans/{files.train}", f"{family}-ind/{files.inference}")
        remote += (f"{family}-trans/{files.valid}", f"{family}-ind/{files.test}")
        entries.append(
            DatasetEntry(
                name,
                "inductive_er",
                name,
                _unpinned(_role_files(files), remote),
                partial(mtdea_inductive, files=files),
                base_url=_MTDEA_S3,
                archive="MTDEA_data.zip",
                description=f"MTDEA WikiTopics {split.upper()} {topic} (Zhou et al. 2023)",
            )
        )
    return entries


def nell995(name: str, folder: Path) -> KGDataset:
    """ULTRA's ``NELL995`` (RED-GNN's split): the training graph, and the training queries, are ``facts.txt``
    followed by ``train.txt``; filters on train ∪ valid ∪ test.

    One vocabulary, grown over facts, train and then valid (entities only): upstream counts relations after
    train and nodes after valid, so a validation relation, or a test entity or relation, outside it raises
    ``TripleFileError`` instead of silently changing the graph.
    """
    entities, relations = Vocabulary(), Vocabulary()

    def encode(file: str, **grow: bool) -> torch.Tensor:
        return encode_triples(read_triples(folder / file), entities, relations, source=str(folder / file), **grow)

    train = torch.cat([encode("facts.txt"), encode("train.txt")])
    valid = encode("valid.txt", grow_relations=False)
    test = encode("test.txt", grow_entities=False, grow_relations=False)
    return one_graph_dataset(name, train, valid, test, entities, relations)
