"""Which test triples of a dataset another dataset already states: the leak check for a pretrained checkpoint.

A checkpoint pretrained on a graph has seen its facts. Evaluated, or fine-tuned, on a benchmark whose test
triples are facts of that graph, it is rewarded for memory rather than transfer (every GraIL FB15k-237 test
triple is a FB15k-237 training triple; every ILPC 2022 small test triple is a CoDEx-M triple). Triples are
matched by labels, so only datasets labelled from the same source (Freebase mids, Wikidata ids, NELL names)
can share any::

    leaked = triples_under_test(benchmark) & stated_triples(pretraining_graph)
"""

from __future__ import annotations

from torch import Tensor

from lit_kgns.data.graph import KGDataset, KGGraph
from lit_kgns.data.queries import Labels, graph_labels, prediction_labels

LabelledTriple = tuple[str, str, str]


def triples_under_test(dataset: KGDataset) -> set[LabelledTriple]:
    """``dataset``'s test triples, by the labels of the graph they are queried on."""
    return _labelled(dataset.test.targets, prediction_labels(dataset))


def stated_triples(dataset: KGDataset) -> set[LabelledTriple]:
    """Every triple ``dataset`` states: its training, validation and test triples and the edges of the
    graphs they run on, by labels."""
    splits = (dataset.train, dataset.valid, dataset.test)
    graphs = {id(split.graph): split.graph for split in splits}  # splits often share one graph
    labels = {key: _graph_labels(dataset, graph) for key, graph in graphs.items()}
    stated: set[LabelledTriple] = set()
    for split in splits:
        stated |= _labelled(split.targets, labels[id(split.graph)])
    for key, graph in graphs.items():
        stated |= _labelled(graph.direct_triples, labels[key])
    return stated


def _graph_labels(dataset: KGDataset, graph: KGGraph) -> Labels:
    """Labels of ``graph``, one of ``dataset``'s: the test graph's are those predictions use, a separate training
    graph's the dataset's own."""
    return (
        prediction_labels(dataset)
        if graph is dataset.test.graph
        else graph_labels(dataset, graph, dataset.entity_labels)
    )


def _labelled(triples: Tensor, labels: Labels) -> set[LabelledTriple]:
    """``(head, relation, tail)`` id rows as labels."""
    entities, relations = labels.entities, labels.relations
    return {(entities[h], relations[r], entities[t]) for h, r, t in triples.long().tolist()}
