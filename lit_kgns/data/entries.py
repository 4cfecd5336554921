"""Catalog entries: every benchmark's folder, files with their sha256, public source and split builder.

Sources are commit-pinned GitHub URLs (or the ConvE tarballs); the builders in :mod:`lit_kgns.data.splits`
follow upstream ULTRA's protocol for each family. :mod:`lit_kgns.data.catalog` looks entries up by name.
ConceptNet, DacKGR, ILPC large, HM 3k/5k, InGram WK and WikiTopics are in :mod:`lit_kgns.data.entries_more`;
the 17 graphs with no offline copy (pinned by git blob id, or trusted on first use) in
:mod:`lit_kgns.data.entries_remote`; :mod:`lit_kgns.data.registry` gathers them all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from lit_kgns.data.checksums import CHECKSUMS
from lit_kgns.data.download import DataFile
from lit_kgns.data.graph import KGDataset
from lit_kgns.data.splits import (
    HM_FILES,
    ILPC_FILES,
    INGRAM_FILES,
    MTDEA_FILES,
    InductiveFiles,
    grail_inductive,
    hm_inductive,
    inference_graph_inductive,
    mtdea_inductive,
    transductive,
)
from lit_kgns.errors import DataNotFoundError


class DatasetNotFoundError(DataNotFoundError):
    """A dataset's files are neither under the data root nor obtainable from a known source."""


@dataclass(frozen=True)
class DatasetEntry:
    """A catalog entry.

    ``folder`` is relative to the data root; ``files`` are the files the builder reads (relative to
    ``folder``). With ``base_url`` set, a missing file is fetched from ``base_url + remote``, or, when
    ``archive`` is set, extracted from the tarball ``base_url + archive`` (sha256 ``archive_sha256``).
    ``embedded`` names a folder of the installed ``pykeen`` package holding a byte-identical copy.
    ``tail_only``: the published numbers rank tail queries only (upstream's ``mrr-tail``), so the dataset's
    validation and test splits do too unless the DataModule is told otherwise (``data.eval_directions``).
    ``in_benchmark``: one of the 57 graphs the KGFM papers average over (the ``transductive``, ``inductive_e``
    and ``inductive_er`` groups); the small classics (Nations, Kinship, UMLS, Countries) are not.
    """

    name: str
    setting: str
    folder: str
    files: tuple[DataFile, ...]
    build: Callable[[str, Path], KGDataset] = dataclasses.field(repr=False)
    base_url: str | None = None
    archive: str | None = None
    archive_sha256: str | None = None
    embedded: str | None = None
    description: str = ""
    tail_only: bool = False
    in_benchmark: bool = True

    def url(self, remote: str) -> str:
        if self.base_url is None:
            raise DatasetNotFoundError(f"dataset {self.name!r} has no download source")
        return self.base_url + remote


_GITHUB = "https://raw.githubusercontent.com/"
_CONVE = _GITHUB + "TimDettmers/ConvE/f3c0eb286025410fa5b4c04696c918264163d0ca/"
_GRAIL = _GITHUB + "kkteru/grail/2a3dffa719518e7e6250e355a2fb37cd932de91e/data/"
_CODEX = _GITHUB + "tsafavi/codex/3132e426c2a6b643b70bad679905a3a6270be440/data/triples/"
_ILPC = _GITHUB + "pykeen/ilpc2022/3d0166dc78a91c6f9075e988f7ddaa68b10f3704/data/"
_INGRAM = _GITHUB + "bdi-lab/InGram/f2554dd0c684bad71d3e01d534f2f7814cf28644/data/"
# ULTRA downloads MTDEA from an S3 zip; SEMMA commits ULTRA's unpacked raw/ folders byte for byte
_MTDEA = _GITHUB + "arvindh75/semma/ed525ac19085e61a66f6a3acfdf86e29fa3e5841/takeaway3/mtdea/"
_INDIGO = _GITHUB + "shuwen-liu-ox/INDIGO/ad1b20bb290d28cf8a19357ea059077248e25d45/data/"

# sha256 of the tarballs in TimDettmers/ConvE (their md5 sums match the ones in PROVENANCE.md)
_CONVE_ARCHIVES = {
    "FB15k-237.tar.gz": "311df7930f842a02979eaa7a802484a6afe62303c07f915f1e6edbc30cbe05e8",
    "WN18RR.tar.gz": "1eb9152f804c140d163462c0d49f65e5a0b30ab5fbb375c5e3353c11a6249060",
    "nations.tar.gz": "feb3e3e027103089934ea7dfb67d2048d8a43e65d6757a86f2e037acb66f640b",
    "kinship.tar.gz": "a3cb9ca67213eb38133aebc12901195e283d844ebd59f1a6cbf2d4fa12ced4e6",
    "umls.tar.gz": "26223aa91f0ec8db2324e0f489b9a4425e04d1d0df72ce5cfd62af4b91aee6fd",
}

_SPLIT_FILES = ("train.txt", "valid.txt", "test.txt")
# INDIGO's paths of HM_FILES' roles inside a Hamaguchi-BM_both-<size> folder
_HM_REMOTE = ("train/train.txt", "test/test-graph.txt", "train/valid.txt", "test/test-fact.txt")


def _data_files(folder: str, local: tuple[str, ...], remote: tuple[str, ...] | None = None) -> tuple[DataFile, ...]:
    return tuple(
        DataFile(name, source, CHECKSUMS[f"{folder}/{name}"])
        for name, source in zip(local, remote or local, strict=True)
    )


def transductive_entries() -> list[DatasetEntry]:
    build = _build_transductive
    entries = []
    for name, folder, archive, embedded, description in (
        ("nations", "nations", "nations.tar.gz", "nations", "Nations (14 countries, 55 relations)"),
        ("kinship", "kinship", "kinship.tar.gz", "kinships", "Alyawarra kinship"),
        ("umls", "umls", "umls.tar.gz", "umls", "UMLS semantic network"),
        ("fb15k-237", "fb15k-237", "FB15k-237.tar.gz", None, "FB15k-237 (Toutanova & Chen 2015)"),
        ("wn18rr", "wn18rr", "WN18RR.tar.gz", None, "WN18RR (Dettmers et al. 2018)"),
    ):
        entries.append(
            DatasetEntry(
                name,
                "transductive",
                folder,
                _data_files(folder, _SPLIT_FILES),
                build,
                base_url=_CONVE,
                archive=archive,
                archive_sha256=_CONVE_ARCHIVES[archive],
                embedded=embedded,
                description=description,
                in_benchmark=name in ("fb15k-237", "wn18rr"),
            )
        )
    for level in (1, 2, 3):
        folder = f"countries_S{level}"
        remote = tuple(f"countries/{folder}/{file}" for file in _SPLIT_FILES)
        entries.append(
            DatasetEntry(
                f"countries_s{level}",
                "transductive",
                folder,
                _data_files(folder, _SPLIT_FILES, remote),
                build,
                base_url=_CONVE,
                description=f"Countries S{level} (Bouchard et al. 2015)",
                in_benchmark=False,
            )
        )
    for size, label in (("s", "CoDEx-S"), ("m", "CoDEx-M")):
        folder = f"codex-{size}"
        remote = tuple(f"{folder}/{file}" for file in _SPLIT_FILES)
        entries.append(
            DatasetEntry(
                folder,
                "transductive",
                folder,
                _data_files(folder, _SPLIT_FILES, remote),
                build,
                base_url=_CODEX,
                description=f"{label} (Safavi & Koutra 2020)",
            )
        )
    return entries


def grail_entries() -> list[DatasetEntry]:
    entries = []
    for family, prefix, label in (
        ("fb237", "fb237", "FB15k-237"),
        ("wn18rr", "WN18RR", "WN18RR"),
        ("nell", "nell", "NELL-995"),
    ):
        for version in (1, 2, 3, 4):
            train_dir, inference_dir = f"{prefix}_v{version}", f"{prefix}_v{version}_ind"
            local = (
                f"{train_dir}/train.txt",
                f"{train_dir}/valid.txt",
                *(f"{inference_dir}/{file}" for file in _SPLIT_FILES),
            )
            entries.append(
                DatasetEntry(
                    f"grail_{family}_v{version}",
                    "inductive_e",
                    "grail_inductive",
                    _data_files("grail_inductive", local),
                    partial(_build_grail, train_dir, inference_dir),
                    base_url=_GRAIL,
                    description=f"GraIL inductive {label} v{version} (Teru et al. 2020)",
                )
            )
    return entries


def inference_graph_entries() -> list[DatasetEntry]:
    ilpc = DatasetEntry(
        "ilpc2022_small",
        "inductive_e",
        "ilpc2022_small",
        _role_data_files("ilpc2022_small", ILPC_FILES, "small/"),
        partial(_build_inference_graph, ILPC_FILES, "inductive_e"),
        base_url=_ILPC,
        description="ILPC 2022 small (Galkin et al. 2022)",
    )
    entries = [ilpc]
    for level in (0, 25, 50, 75, 100):
        folder = f"ingram_nl_{level}"
        entries.append(
            DatasetEntry(
                folder,
                "inductive_er",
                folder,
                _role_data_files(folder, INGRAM_FILES, f"NL-{level}/"),
                partial(_build_inference_graph, INGRAM_FILES, "inductive_er"),
                base_url=_INGRAM,
                description=f"InGram NL-{level} (Lee et al. 2023)",
            )
        )
    for name, remote_dir, label in (
        ("mtdea_metafam", "Metafam/Metafam/raw/", "MTDEA Metafam"),
        ("mtdea_fbnell", "FBNELL/FBNELL_v1/raw/", "MTDEA FBNELL"),
    ):
        entries.append(
            DatasetEntry(
                name,
                "inductive_er",
                name,
                _role_data_files(name, MTDEA_FILES, remote_dir),
                mtdea_inductive,
                base_url=_MTDEA,
                description=f"{label} (Zhou et al. 2023)",
            )
        )
    entries.append(
        DatasetEntry(
            "hm_1k",
            "inductive_e",
            "hm_1k",
            _data_files("hm_1k", _role_files(HM_FILES), tuple(f"Hamaguchi-BM_both-1000/{p}" for p in _HM_REMOTE)),
            hm_inductive,
            base_url=_INDIGO,
            description="Hamaguchi et al. 2017 OOKB both-1000 (HM 1k)",
        )
    )
    return entries


def _role_files(files: InductiveFiles) -> tuple[str, ...]:
    return (files.train, files.inference, files.valid, files.test)


def _role_data_files(folder: str, files: InductiveFiles, remote_dir: str) -> tuple[DataFile, ...]:
    local = _role_files(files)
    return _data_files(folder, local, tuple(remote_dir + name for name in local))


def _build_transductive(name: str, folder: Path) -> KGDataset:
    return transductive(name, folder)


def _build_grail(train_dir: str, inference_dir: str, name: str, folder: Path) -> KGDataset:
    return grail_inductive(name, folder / train_dir, folder / inference_dir)


def _build_inference_graph(files: InductiveFiles, setting: str, name: str, folder: Path) -> KGDataset:
    return inference_graph_inductive(name, folder, files, setting)
