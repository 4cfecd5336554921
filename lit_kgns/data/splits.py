"""Building the train / valid / test splits of each benchmark family exactly as upstream ULTRA does.

What matters for reproducing upstream rankings is not only which triples go where but also how each
vocabulary is grown: an entity that only occurs in a query file still becomes a node (isolated in the
graph), and the number of nodes changes filtered ranks. Each builder's docstring states the order in
which files feed which vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from lit_kgns.data.graph import KGDataset, KGGraph, LinkPredictionSplit
from lit_kgns.data.triples import Vocabulary, encode_triples, read_triples

Triples = list[tuple[str, str, str]]


def _read(folder: Path, file: str, layout: Mapping[str, bool] | None = None) -> Triples:
    return read_triples(folder / file, **(layout or {}))


def _encode(
    folder: Path,
    file: str,
    entities: Vocabulary,
    relations: Vocabulary,
    layout: Mapping[str, bool] | None = None,
    **grow: bool,
) -> Tensor:
    """Read ``folder/file`` (``layout``: :func:`read_triples` options) and encode it, the error messages
    naming that path."""
    triples = _read(folder, file, layout)
    return encode_triples(triples, entities, relations, source=str(folder / file), **grow)


def grail_inductive(name: str, train_folder: Path, inference_folder: Path) -> KGDataset:
    """GraIL inductive(e) split (upstream ``GrailInductiveDataset``, ``merge_valid_test=True``).

    Train and validate on ``train_folder`` (vocabulary from its ``train.txt`` + ``valid.txt``); test on
    the inference graph ``inference_folder/train.txt`` with queries ``valid.txt`` ∪ ``test.txt`` of that
    folder. Filters: training graph + valid for validation, inference graph + queries for testing.
    The relation vocabulary is shared; a relation of the inference folder that the training folder
    lacks raises ``TripleFileError``.
    """
    entities, relations = Vocabulary(), Vocabulary()
    train = _encode(train_folder, "train.txt", entities, relations)
    valid = _encode(train_folder, "valid.txt", entities, relations)
    test_entities = Vocabulary()
    inference, *queries = (
        _encode(inference_folder, file, test_entities, relations, grow_relations=False)
        for file in ("train.txt", "valid.txt", "test.txt")
    )
    test_queries = torch.cat(queries)
    num_relations = len(relations)
    labels = relations.labels
    train_graph = KGGraph.from_triples(train, len(entities), num_relations, f"{name}/train", labels, name)
    inference_graph = KGGraph.from_triples(
        inference, len(test_entities), num_relations, f"{name}/inference", labels, name
    )
    return KGDataset(
        name=name,
        setting="inductive_e",
        train=LinkPredictionSplit(f"{name}/train", train_graph, train, train),
        valid=LinkPredictionSplit(f"{name}/valid", train_graph, valid, torch.cat([train, valid])),
        test=LinkPredictionSplit(f"{name}/test", inference_graph, test_queries, torch.cat([inference, test_queries])),
        entity_labels=entities.labels,
        relation_labels=relations.labels,
        test_entity_labels=test_entities.labels,
    )


def transductive(
    name: str,
    folder: Path,
    files: tuple[str, str, str] = ("train.txt", "valid.txt", "test.txt"),
    *,
    strict: bool = False,
    relation_last: bool = False,
    tab_only: bool = False,
) -> KGDataset:
    """One graph (the training triples) for all stages; filter on train ∪ valid ∪ test.

    By default entities and relations are numbered over the three files, so an evaluation entity that
    never occurs in training is a node without edges (as in ULTRA's ``TransductiveDataset``). With
    ``strict=True`` evaluation must stay inside the training vocabulary: an unknown entity or relation
    in the valid or test file raises ``TripleFileError`` naming the file and the triple. Duplicate lines
    are kept (as upstream keeps them). ``relation_last`` and ``tab_only`` are passed to
    :func:`read_triples` (ULTRA's ``SparserKG`` files and ConceptNet-100K).
    """
    entities, relations = Vocabulary(), Vocabulary()
    train_file, valid_file, test_file = files
    layout = {"relation_last": relation_last, "tab_only": tab_only}
    train = _encode(folder, train_file, entities, relations, layout)
    grow = {"grow_entities": not strict, "grow_relations": not strict}
    valid = _encode(folder, valid_file, entities, relations, layout, **grow)
    test = _encode(folder, test_file, entities, relations, layout, **grow)
    return one_graph_dataset(name, train, valid, test, entities, relations)


def one_graph_dataset(
    name: str, train: Tensor, valid: Tensor, test: Tensor, entities: Vocabulary, relations: Vocabulary
) -> KGDataset:
    """A transductive dataset from its encoded splits: the training triples are the graph of every stage,
    and evaluation filters on train ∪ valid ∪ test."""
    graph = KGGraph.from_triples(train, len(entities), len(relations), name, relations.labels, name)
    everything = torch.cat([train, valid, test])
    return KGDataset(
        name=name,
        setting="transductive",
        train=LinkPredictionSplit(f"{name}/train", graph, train, train),
        valid=LinkPredictionSplit(f"{name}/valid", graph, valid, everything),
        test=LinkPredictionSplit(f"{name}/test", graph, test, everything),
        entity_labels=entities.labels,
        relation_labels=relations.labels,
    )


@dataclass(frozen=True)
class InductiveFiles:
    """File names of a benchmark with a separate inference graph (upstream ``InductiveDataset`` roles)."""

    train: str  # training graph, also the training queries
    inference: str  # graph the test queries (and for some families the validation queries) run on
    valid: str
    test: str


ILPC_FILES = InductiveFiles("train.txt", "inference.txt", "inference_validation.txt", "inference_test.txt")
INGRAM_FILES = InductiveFiles("train.txt", "msg.txt", "valid.txt", "test.txt")
MTDEA_FILES = InductiveFiles("transductive_train.txt", "inference_graph.txt", "transductive_valid.txt", "inf_test.txt")
HM_FILES = InductiveFiles("train.txt", "test-graph.txt", "valid.txt", "test-fact.txt")
# WikiTopics under MTDEA's own names (ULTRA renames them to MTDEA_FILES' names)
WIKITOPICS_FILES = InductiveFiles("train.txt", "observe.txt", "valid.txt", "test.txt")


@dataclass
class _Side:
    """One graph's own vocabularies and direct triples."""

    entities: Vocabulary
    relations: Vocabulary
    triples: Tensor

    @classmethod
    def read(cls, folder: Path, file: str, layout: Mapping[str, bool] | None = None) -> _Side:
        entities, relations = Vocabulary(), Vocabulary()
        return cls(entities, relations, _encode(folder, file, entities, relations, layout))

    def graph(self, name: str, dataset: str) -> KGGraph:
        """The graph of this side's triples over its vocabulary as it stands (grown by the query files read
        so far), labelled ``<dataset>/<role>``."""
        relations = self.relations
        return KGGraph.from_triples(
            self.triples, len(self.entities), len(relations), f"{dataset}/{name}", relations.labels, dataset
        )


def inference_graph_inductive(
    name: str, folder: Path, files: InductiveFiles, setting: str, layout: Mapping[str, bool] | None = None
) -> KGDataset:
    """ILPC 2022 and InGram splits (upstream ``InductiveDataset`` with ``valid_on_inf=True``).

    The training graph has its own entity and relation vocabulary. The inference graph has another one,
    built from the inference file, then grown by the validation and then the test queries (so a query
    entity absent from the inference file becomes an isolated node). Validation and test both run on the
    inference graph, and both filter on inference graph ∪ valid ∪ test (``script/run.py``'s ILPC/Ingram
    branch). ``layout`` holds :func:`read_triples` options (``relation_last``, ``tab_only``).
    """
    train = _Side.read(folder, files.train, layout)
    inference = _Side.read(folder, files.inference, layout)
    valid = _encode(folder, files.valid, inference.entities, inference.relations, layout)
    test = _encode(folder, files.test, inference.entities, inference.relations, layout)
    train_graph = train.graph("train", name)
    inference_graph = inference.graph("inference", name)
    evaluation_filter = torch.cat([inference.triples, valid, test])
    return KGDataset(
        name=name,
        setting=setting,
        train=LinkPredictionSplit(f"{name}/train", train_graph, train.triples, train.triples),
        valid=LinkPredictionSplit(f"{name}/valid", inference_graph, valid, evaluation_filter),
        test=LinkPredictionSplit(f"{name}/test", inference_graph, test, evaluation_filter),
        entity_labels=train.entities.labels,
        relation_labels=train.relations.labels,
        test_entity_labels=inference.entities.labels,
    )


def mtdea_inductive(name: str, folder: Path, files: InductiveFiles = MTDEA_FILES) -> KGDataset:
    """MTDEA splits: Metafam, FBNELL, WikiTopics (upstream ``MTDEAInductive``, ``valid_on_inf=False``).

    Validation queries run on the training graph and are read with upstream's ``limit_vocab``: a
    validation triple whose head, tail or relation is not in the training vocabulary is dropped (this
    is why FBNELL keeps 1,055 of its 1,224 validation triples). The inference graph has its own entity
    and relation vocabulary, grown by the test queries. Filters: training graph ∪ valid for validation,
    inference graph ∪ test for testing.
    """
    train = _Side.read(folder, files.train)
    inference = _Side.read(folder, files.inference)
    valid_triples = _known_only(_read(folder, files.valid), train.entities, train.relations)
    valid = encode_triples(
        valid_triples,
        train.entities,
        train.relations,
        grow_entities=False,
        grow_relations=False,
        source=str(folder / files.valid),
    )
    test = _encode(folder, files.test, inference.entities, inference.relations)
    train_graph = train.graph("train", name)
    return _split_on_training_graph(name, "inductive_er", train, train_graph, valid, inference, test)


def hm_inductive(name: str, folder: Path, files: InductiveFiles = HM_FILES) -> KGDataset:
    """Hamaguchi OOKB splits HM 1k / 3k / 5k (upstream ``HM``, ``valid_on_inf=False``).

    Validation queries run on the training graph; their entities unseen in training are appended to the
    training vocabulary, so the validation graph has the training edges but more (isolated) nodes than
    the training graph. Duplicate training lines are kept, as upstream keeps them. The inference graph
    has its own vocabulary, grown by the test queries. Filters as in :func:`mtdea_inductive`.
    A validation relation unknown to the training graph raises ``TripleFileError``.
    """
    train = _Side.read(folder, files.train)
    train_graph = train.graph("train", name)
    valid = _encode(folder, files.valid, train.entities, train.relations, grow_relations=False)
    inference = _Side.read(folder, files.inference)
    test = _encode(folder, files.test, inference.entities, inference.relations)
    return _split_on_training_graph(name, "inductive_e", train, train_graph, valid, inference, test)


def _split_on_training_graph(
    name: str, setting: str, train: _Side, train_graph: KGGraph, valid: Tensor, inference: _Side, test: Tensor
) -> KGDataset:
    """Validation on the training graph (with every entity the training vocabulary now holds), test on
    the inference graph; filters train ∪ valid and inference ∪ test."""
    valid_graph = train_graph
    if len(train.entities) != train_graph.num_nodes:
        # same edges, extra isolated nodes for the validation-only entities
        valid_graph = KGGraph(
            train_graph.edge_index,
            train_graph.edge_type,
            len(train.entities),
            train_graph.num_relations,
            f"{name}/valid",
            train_graph.relation_labels,
            name,
        )
    inference_graph = inference.graph("inference", name)
    return KGDataset(
        name=name,
        setting=setting,
        train=LinkPredictionSplit(f"{name}/train", train_graph, train.triples, train.triples),
        valid=LinkPredictionSplit(f"{name}/valid", valid_graph, valid, torch.cat([train.triples, valid])),
        test=LinkPredictionSplit(f"{name}/test", inference_graph, test, torch.cat([inference.triples, test])),
        entity_labels=train.entities.labels,
        relation_labels=train.relations.labels,
        test_entity_labels=inference.entities.labels,
    )


def _known_only(triples: Triples, entities: Vocabulary, relations: Vocabulary) -> Triples:
    """The triples whose head, relation and tail all have ids (upstream's ``limit_vocab``)."""
    heads, relation_labels, tails = zip(*triples, strict=True)
    unknown_entities = entities.missing(heads) | entities.missing(tails)
    unknown_relations = relations.missing(relation_labels)
    if not unknown_entities and not unknown_relations:
        return triples
    return [
        (head, relation, tail)
        for head, relation, tail in triples
        if head not in unknown_entities and tail not in unknown_entities and relation not in unknown_relations
    ]
