"""Every true fact the data root holds about a training graph beyond its training triples.

A negative that is one of these facts is a false negative. A dataset's own validation and test triples are the
obvious source, but not the only one: an inductive benchmark's training folder keeps a test file its protocol
never reads, and benchmarks cut from a larger graph (GraIL's FB15k-237 / WN18RR / NELL-995 splits, the InGram
NELL and Wikidata levels, ILPC small and large) share labels with it and with their siblings; the graphs
labelled with Wikidata ids (CoDEx, ILPC 2022, InGram WK) share them with each other. Facts are matched by
labels: a triple counts when its head, relation and tail all have labels of the training graph's vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from lit_kgns.data.catalog import available_datasets, get_entry
from lit_kgns.data.graph import KGDataset
from lit_kgns.data.root import resolve_data_root
from lit_kgns.data.triples import read_triples

# Datasets cut from the same source graph (same entity and relation labels), by name pattern.
_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"grail_fb237_v\d", ("fb15k-237",)),
    (r"grail_wn18rr_v\d", ("wn18rr",)),
    (r"grail_nell_v\d", ()),
    # Wikidata ids throughout: ILPC 2022 small's test triples all occur in CoDEx-M, for one
    (r"codex-[sml]|ilpc2022_(small|large)|ingram_wk_\d+", ()),
    (r"ingram_nl_\d+", ()),
    (r"fb15k-237-\d+", ("fb15k-237",)),  # the sparse FB15k-237 splits (10 / 20 / 50 % of its triples)
    (r"ingram_fb_\d+", ()),
    # not the HM splits: their files number entities per split, so equal labels are not equal entities
)


@dataclass
class HeldOutFacts:
    """True triples of a training graph, in its ids, none of them a training triple.

    ``sources`` says where they came from, one ``"<split name or file> (<count> facts)"`` per source that
    added facts, in the order read.
    """

    triples: Tensor  # (N, 3) long, head / relation / tail ids of the training graph
    sources: list[str]


def related_datasets(name: str) -> list[str]:
    """Catalog datasets sharing ``name``'s source graph (its siblings and the graph they were cut from)."""
    for pattern, parents in _FAMILIES:
        if re.fullmatch(pattern, name):
            siblings = [other for other in available_datasets() if re.fullmatch(pattern, other) and other != name]
            return [*siblings, *parents]
    return []


def held_out_facts(dataset: KGDataset, root: str | Path | None = None) -> HeldOutFacts:
    """The facts of ``dataset``'s training graph beyond its training triples: its validation and test
    triples on that graph, then every triple file of the dataset's folders and of each related dataset whose
    files are complete under the data ``root`` (nothing is downloaded), matched by labels."""
    train = dataset.train
    num_nodes, num_relations = train.graph.num_nodes, train.graph.num_relations
    known = _keys(train.targets, num_nodes, num_relations)
    collected: list[Tensor] = []
    sources: list[str] = []

    def add(triples: Tensor, source: str) -> None:
        nonlocal known
        keys = _keys(triples, num_nodes, num_relations)
        new = ~torch.isin(keys, known)
        if bool(new.any()):
            known = torch.cat([known, keys[new].unique()])
            collected.append(triples[new])
            sources.append(f"{source} ({int(new.sum())} facts)")

    for split in (dataset.valid, dataset.test):
        if split.graph is train.graph:
            add(split.targets, split.name)
    entity_ids = {label: index for index, label in enumerate(dataset.entity_labels)}
    relation_ids = {label: index for index, label in enumerate(train.graph.relation_labels)}
    if entity_ids and relation_ids and dataset.name in available_datasets():
        for path in _triple_files([dataset.name, *related_datasets(dataset.name)], root):
            add(_encode(read_triples(path), entity_ids, relation_ids), str(path))
    triples = torch.cat(collected) if collected else torch.empty(0, 3, dtype=torch.long)
    return HeldOutFacts(triples, sources)


def _triple_files(names: list[str], root: str | Path | None) -> list[Path]:
    """Every ``*.txt`` file in the folders of the datasets ``names`` whose files are all under the data root,
    except CoDEx's ``*_negatives.txt`` (triples verified false)."""
    data_root = resolve_data_root(root)
    folders: dict[Path, None] = {}  # ordered, each folder once
    for name in names:
        entry = get_entry(name)
        paths = [data_root / entry.folder / file.local for file in entry.files]
        if all(path.is_file() for path in paths):
            folders.update(dict.fromkeys(path.parent for path in paths))
    files = [path for folder in folders for path in sorted(folder.glob("*.txt"))]
    return [path for path in files if not path.stem.endswith("_negatives")]


def _encode(labelled: list[tuple[str, str, str]], entity_ids: dict[str, int], relation_ids: dict[str, int]) -> Tensor:
    rows = [
        (entity_ids[h], relation_ids[r], entity_ids[t])
        for h, r, t in labelled
        if h in entity_ids and r in relation_ids and t in entity_ids
    ]
    return torch.tensor(rows, dtype=torch.long).reshape(-1, 3)


def _keys(triples: Tensor, num_nodes: int, num_relations: int) -> Tensor:
    heads, relations, tails = triples.long().reshape(-1, 3).t()
    return (heads * num_relations + relations) * num_nodes + tails
