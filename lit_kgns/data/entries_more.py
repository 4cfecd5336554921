"""Catalog entries for the rest of ULTRA's benchmark graphs that have public GitHub copies.

ConceptNet-100K, the three DacKGR sparse graphs, ILPC 2022 large, HM 3k / 5k, InGram WK-25 .. WK-100 and
the four MTDEA WikiTopics splits, in the forms of :mod:`lit_kgns.data.entries` (which collects them in its
``_registry()``; this module imports that one's helpers, so it must not be imported by it at the top).
"""

from __future__ import annotations

from functools import partial

from lit_kgns.data.entries import (
    _GITHUB,
    _HM_REMOTE,
    _ILPC,
    _INDIGO,
    _INGRAM,
    DatasetEntry,
    _build_inference_graph,
    _data_files,
    _role_data_files,
    _role_files,
)
from lit_kgns.data.splits import (
    HM_FILES,
    ILPC_FILES,
    INGRAM_FILES,
    WIKITOPICS_FILES,
    hm_inductive,
    mtdea_inductive,
    transductive,
)

_BIQUE = _GITHUB + "guojiapub/BiQUE/548de69f803f541b30fc4ab27c6d25632f1a7bf7/src_data/"
# DacKGR's data.zip (ULTRA's source) is not on GitHub unpacked; PAAR commits its data/ folder
_PAAR = _GITHUB + "seukgcode/PAAR/3762ad46df5c97876280218bb005ca5443a5feda/data/"
# ULTRA downloads WikiTopics from MTDEA's S3 zip; ISDEA (same group) commits the same folders
_ISDEA = _GITHUB + "PurdueMINDS/ISDEA/63dc43c7f6e3bc50a3940ed561edcb84dc9d4e09/ISDEA/data/"

_CONCEPTNET_FILES = ("train", "valid", "test")
_DACKGR_FILES = ("train.triples", "dev.triples", "test.triples")


def more_entries() -> list[DatasetEntry]:
    """The entries of this module, in catalog order."""
    return [*_transductive_entries(), *_inference_graph_entries(), *_wikitopics_entries()]


def _transductive_entries() -> list[DatasetEntry]:
    remote = tuple(f"conceptnet-100k/{file}" for file in _CONCEPTNET_FILES)
    entries = [
        DatasetEntry(
            "conceptnet-100k",
            "transductive",
            "conceptnet-100k",
            _data_files("conceptnet-100k", _CONCEPTNET_FILES, remote),
            # entities contain spaces ("eat breakfast"): ULTRA splits on TAB only
            partial(transductive, files=_CONCEPTNET_FILES, tab_only=True),
            base_url=_BIQUE,
            description="ConceptNet-100K (Li et al. 2016)",
        )
    ]
    # ULTRA reports tail-only metrics (mrr-tail, ...) for the DacKGR graphs: their evaluation splits rank tail
    # queries only (data.eval_directions=both ranks head queries too, as upstream's stock configs do)
    for name, remote_dir, label in (
        ("wd-singer", "WD-singer", "WD-singer"),
        ("nell23k", "NELL23K", "NELL23K"),
        ("fb15k-237-10", "FB15K-237-10", "FB15K-237-10%"),
    ):
        entries.append(
            DatasetEntry(
                name,
                "transductive",
                name,
                _data_files(name, _DACKGR_FILES, tuple(f"{remote_dir}/{file}" for file in _DACKGR_FILES)),
                # head<TAB>tail<TAB>relation lines (ULTRA's SparserKG reads u, v, r); duplicates kept as upstream
                partial(transductive, files=_DACKGR_FILES, relation_last=True),
                base_url=_PAAR,
                description=f"{label} sparse KG (Lv et al. 2020); upstream ULTRA reports tail-only metrics",
                tail_only=True,
            )
        )
    return entries


def _inference_graph_entries() -> list[DatasetEntry]:
    # the validation triple with P1995 (absent from inference.txt) grows the inference relation vocabulary
    # to 64, as ULTRA's in-place load_file does
    entries = [
        DatasetEntry(
            "ilpc2022_large",
            "inductive_e",
            "ilpc2022_large",
            _role_data_files("ilpc2022_large", ILPC_FILES, "large/"),
            partial(_build_inference_graph, ILPC_FILES, "inductive_e"),
            base_url=_ILPC,
            description="ILPC 2022 large (Galkin et al. 2022)",
        )
    ]
    for size, both in (("3k", 3000), ("5k", 5000)):
        folder = f"hm_{size}"
        remote = tuple(f"Hamaguchi-BM_both-{both}/{path}" for path in _HM_REMOTE)
        entries.append(
            DatasetEntry(
                folder,
                "inductive_e",
                folder,
                _data_files(folder, _role_files(HM_FILES), remote),
                hm_inductive,
                base_url=_INDIGO,
                description=f"Hamaguchi et al. 2017 OOKB both-{both} (HM {size})",
            )
        )
    for level in (25, 50, 75, 100):
        folder = f"ingram_wk_{level}"
        entries.append(
            DatasetEntry(
                folder,
                "inductive_er",
                folder,
                _role_data_files(folder, INGRAM_FILES, f"WK-{level}/"),
                partial(_build_inference_graph, INGRAM_FILES, "inductive_er"),
                base_url=_INGRAM,
                description=f"InGram WK-{level} (Lee et al. 2023)",
            )
        )
    return entries


def _wikitopics_entries() -> list[DatasetEntry]:
    entries = []
    for split, topic in (("mt3", "art"), ("mt3", "infra"), ("mt4", "sci"), ("mt4", "health")):
        name = f"mtdea_wikitopics_{split}_{topic}"
        # training graph and validation from the -trans folder, inference graph and test from -ind
        trans, ind = f"wikidata_{topic}v2-trans/", f"wikidata_{topic}v2-ind/"
        files = WIKITOPICS_FILES
        remote = (trans + files.train, ind + files.inference, trans + files.valid, ind + files.test)
        entries.append(
            DatasetEntry(
                name,
                "inductive_er",
                name,
                _data_files(name, _role_files(files), remote),
                partial(mtdea_inductive, files=files),
                base_url=_ISDEA,
                description=f"MTDEA WikiTopics {split.upper()} {topic} (Zhou et al. 2023)",
            )
        )
    return entries
