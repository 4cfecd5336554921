"""Your own graph: a folder of labelled triple files, used wherever a catalog dataset name is
(``--data.dataset path/to/folder``).

Two layouts are recognised by their file names (``.txt``, ``.tsv`` or no suffix):

* transductive: ``train``, ``valid``, ``test`` (one graph; evaluation triples are queried on it);
* inductive, as upstream ULTRA's ``InductiveDataset`` (ILPC names): ``train`` (the training graph and its
  queries), ``inference`` (the graph the evaluation queries run on), ``inference_validation`` and
  ``inference_test``; entities (and relations) of the inference graph may be new.

Lines are ``head<TAB>relation<TAB>tail`` (or whitespace-separated), optionally with a header line;
``relation_position: last`` reads ``head<TAB>tail<TAB>relation``. Entities and relations keep their labels.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

from lit_kgns.data.graph import KGDataset
from lit_kgns.data.splits import InductiveFiles, inference_graph_inductive, transductive
from lit_kgns.errors import DataNotFoundError

RelationPosition = Literal["middle", "last"]
SUFFIXES = ("", ".txt", ".tsv")
TRANSDUCTIVE = ("train", "valid", "test")
INDUCTIVE = ("train", "inference", "inference_validation", "inference_test")


def is_folder_dataset(name: str) -> bool:
    """Whether ``name`` names a folder (a path) rather than a catalog dataset."""
    return Path(name).expanduser().is_dir()


def load_folder(path: str | Path, relation_position: RelationPosition = "middle") -> KGDataset:
    """The dataset in folder ``path``; the layout is chosen by the files present."""
    folder = Path(path).expanduser()
    layout = {"relation_last": relation_position == "last"}
    name = folder.resolve().name
    inductive = _find(folder, INDUCTIVE)
    if all(inductive):
        files = InductiveFiles(*(file.name for file in inductive if file is not None))
        setting = "inductive_e"
        dataset = inference_graph_inductive(name, folder, files, setting, layout)
        if set(dataset.valid.graph.relation_labels) - set(dataset.train.graph.relation_labels):
            dataset.setting = "inductive_er"  # the inference graph brings relations of its own
        warn_if_relations_look_like_entities(dataset, folder, relation_position)
        return dataset
    plain = _find(folder, TRANSDUCTIVE)
    if all(plain):
        files = tuple(file.name for file in plain if file is not None)
        dataset = transductive(name, folder, files, relation_last=layout["relation_last"])  # type: ignore[arg-type]
        warn_if_relations_look_like_entities(dataset, folder, relation_position)
        return dataset
    raise DataNotFoundError(
        f"{folder}: expected triple files {', '.join(TRANSDUCTIVE)} (a transductive graph) or "
        f"{', '.join(INDUCTIVE)} (a training and an inference graph), each .txt, .tsv or without suffix; "
        f"found {', '.join(sorted(path.name for path in folder.iterdir())) or 'nothing'}"
    )


def warn_if_relations_look_like_entities(dataset: KGDataset, folder: Path, position: RelationPosition) -> None:
    """Knowledge graphs have far fewer relations than entities; a relation column with at least 50 distinct
    values and a quarter as many as there are entities is most likely a column of entities (the files
    are ``head<TAB>tail<TAB>relation`` read as ``head<TAB>relation<TAB>tail``, or the other way round)."""
    graph = dataset.train.graph
    relations, entities = graph.num_direct_relations, graph.num_nodes
    if relations >= 50 and 4 * relations > entities:
        other: RelationPosition = "last" if position == "middle" else "middle"
        warnings.warn(
            f"{folder}: the {position} column, read as the relation, holds {relations} distinct values for "
            f"{entities} entities: it looks like a column of entities. If the relation is the {other} column, "
            f"pass --data.relation_position {other}",
            stacklevel=3,
        )


def _find(folder: Path, stems: tuple[str, ...]) -> list[Path | None]:
    found: list[Path | None] = []
    for stem in stems:
        matches = [folder / f"{stem}{suffix}" for suffix in SUFFIXES if (folder / f"{stem}{suffix}").is_file()]
        found.append(matches[0] if matches else None)
    return found
