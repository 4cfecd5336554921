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
        return dataset
    plain = _find(folder, TRANSDUCTIVE)
    if all(plain):
        files = tuple(file.name for file in plain if file is not None)
        return transductive(name, folder, files, relation_last=layout["relation_last"])  # type: ignore[arg-type]
    raise DataNotFoundError(
        f"{folder}: expected triple files {', '.join(TRANSDUCTIVE)} (a transductive graph) or "
        f"{', '.join(INDUCTIVE)} (a training and an inference graph), each .txt, .tsv or without suffix; "
        f"found {', '.join(sorted(path.name for path in folder.iterdir())) or 'nothing'}"
    )


def _find(folder: Path, stems: tuple[str, ...]) -> list[Path | None]:
    found: list[Path | None] = []
    for stem in stems:
        matches = [folder / f"{stem}{suffix}" for suffix in SUFFIXES if (folder / f"{stem}{suffix}").is_file()]
        found.append(matches[0] if matches else None)
    return found
