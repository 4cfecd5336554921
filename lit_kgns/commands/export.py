"""Embeddings out: ``lit-kgns-export <checkpoint> --output_dir <folder>``.

Writes, as ``.pt`` (torch) and ``.npy`` (numpy) files named as DGL-KE names its outputs:

- an embedding model (TransE, ...): ``<dataset>_<Model>_entity`` ``(N, d)`` and ``<dataset>_<Model>_relation``
  ``(R, d_r)``, the raw tables (complex numbers as ``[re, im]`` pairs, a relation's parameters flattened:
  :meth:`~lit_kgns.backbones.kge.KGEBackbone.relation_table`) over the training graph's ids;
- a KGFM (ULTRA, ...): ``<dataset>_<Model>_relation_representations`` ``(2R, 2R, d)``, row ``q`` the
  representations of every relation conditioned on query relation ``q``
  (:meth:`~lit_kgns.backbones.base.KGBackbone.relation_representations`) on the graph ``predict`` queries
  (the inference graph of an inductive dataset); on both axes ``r < R`` is a direct relation, ``r + R`` its inverse.
  A KGFM has no per-entity table: its entity representations are computed for each query. With ``--queries FILE``
  (``predict``'s question file: ``head<TAB>relation<TAB>?`` or ``?<TAB>relation<TAB>tail``) it writes
  ``<dataset>_<Model>_entity_states`` ``(Q, N, d)``: every entity's final state for each query, what the
  scoring MLP reads (ULTRA, MOTIF, SEMMA), and ``queries.tsv``, the queries in that order.

Beside them: ``entity_to_id.tsv`` / ``relation_to_id.tsv`` (``id<TAB>label`` with that header, by id: the
columns of PyKEEN's ``TriplesFactory.to_path_binary``, which gzips them), ``entities.tsv`` / ``relations.tsv``
(the same without header: DGL-KE's ID mapping files) and ``manifest.json`` (what each file holds).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.backbones.checkpoints import load_checkpoint_file
from lit_kgns.backbones.kge import KGEBackbone
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.graph import KGDataset, KGGraph
from lit_kgns.data.queries import Labels, prediction_labels, read_queries
from lit_kgns.errors import CheckpointError, ConfigError, DataError, LitKGNSError
from lit_kgns.module import KGLinkPrediction
from lit_kgns.options import check_choice

Format = Literal["pt", "npy"]
#: query relations conditioned in one pass (a KGFM's relation encoder holds ``(chunk, 2R, d)`` states)
QUERY_CHUNK = 64


@torch.no_grad()
def export_embeddings(
    backbone: KGBackbone,
    dataset: KGDataset,
    output_dir: str | Path,
    formats: Sequence[Format] = ("pt", "npy"),
    queries: str | Path | None = None,
) -> dict[str, Path]:
    """Write ``backbone``'s tables (or relation representations) for ``dataset`` and their labels into
    ``output_dir``; returns the written files by key (``entity``, ``relation``, ``relation_representations``,
    ``entity_states`` (a KGFM with ``queries``), each ``.<format>``, and ``entity_to_id``, ``relation_to_id``,
    ``entities``, ``relations``, ``queries`` (with ``queries``), ``manifest``)."""
    for fmt in formats:
        check_choice("formats", fmt, Format)
    query_file = queries
    if query_file is not None and isinstance(backbone, KGEBackbone):
        raise ConfigError(f"--queries: {type(backbone).__name__} has an entity table (exported as it is)")
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    was_training = backbone.training
    backbone.eval()
    try:
        if isinstance(backbone, KGEBackbone):
            labels, graph = _training_labels(dataset, backbone), dataset.train.graph
            tensors = {"entity": backbone.entity_table(), "relation": backbone.relation_table()}
        else:
            labels, graph = prediction_labels(dataset), dataset.test.graph
            queries = torch.arange(graph.num_relations, device=next(backbone.parameters()).device)
            parts = [backbone.relation_representations(graph.to(queries.device), q) for q in queries.split(QUERY_CHUNK)]
            tensors = {"relation_representations": torch.cat(parts)}
            if query_file is not None:
                tensors["entity_states"] = query_entity_states(backbone, graph, read_queries(query_file, labels))
    finally:
        backbone.train(was_training)
    stem = re.sub(r"[^\w.-]+", "_", f"{dataset.name}_{type(backbone).__name__}")
    written: dict[str, Path] = {}
    manifest: dict[str, Any] = {"model": type(backbone).__name__, "dataset": dataset.name, "graph": graph.name}
    for key, tensor in tensors.items():
        tensor = tensor.detach().cpu().contiguous()
        manifest[key] = {"shape": list(tensor.shape), "files": []}
        for fmt in formats:
            path = written[f"{key}.{fmt}"] = output / f"{stem}_{key}.{fmt}"
            if fmt == "pt":
                torch.save(tensor.clone(), path)  # clone: a view would save its whole storage
            else:
                np.save(path, tensor.numpy())
            manifest[key]["files"].append(path.name)
    for kind, plural, names in (("entity", "entities", labels.entities), ("relation", "relations", labels.relations)):
        rows = "".join(f"{index}\t{label}\n" for index, label in enumerate(names))
        written[f"{kind}_to_id"] = _write(output / f"{kind}_to_id.tsv", "id\tlabel\n" + rows)
        written[plural] = _write(output / f"{plural}.tsv", rows)
    if "relation_representations" in tensors:
        manifest["relation_axes"] = "direct relations 0..R-1 (relation_to_id.tsv), then the inverse of r at r + R"
    if "entity_states" in tensors:
        manifest["entity_states"]["axes"] = "query (queries.tsv), entity (entity_to_id.tsv), state"
        rows = "".join(line if line.endswith("\n") else line + "\n" for line in _question_lines(query_file))
        written["queries"] = _write(output / "queries.tsv", rows)
    written["manifest"] = _write(output / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return written


def query_entity_states(backbone: KGBackbone, graph: KGGraph, queries: torch.Tensor) -> torch.Tensor:
    """``(Q, N, d)`` final entity states of ``(Q, 3)`` query rows (``-1`` at the ``?``)."""
    states = getattr(backbone, "entity_states", None)
    if states is None:
        raise ConfigError(
            f"--queries: {type(backbone).__name__} does not expose its entity states (ULTRA, MOTIF and SEMMA do)"
        )
    device = next(backbone.parameters()).device
    graph, queries = graph.to(device), queries.to(device)
    head_queries = queries[:, 0] < 0
    anchors = torch.where(head_queries, queries[:, 2], queries[:, 0])
    parts = [
        states(graph, anchors[chunk], queries[chunk, 1], head_queries[chunk])
        for chunk in torch.arange(len(queries), device=device).split(QUERY_CHUNK)
    ]
    return torch.cat(parts)


def _question_lines(path: str | Path) -> list[str]:
    return [line for line in Path(path).read_text(encoding="utf-8-sig").splitlines(keepends=True) if line.strip()]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _training_labels(dataset: KGDataset, backbone: KGEBackbone) -> Labels:
    """The training graph's labels, which an embedding model's rows follow (ids where the dataset has none)."""
    graph = dataset.train.graph
    entities = dataset.entity_labels or [str(index) for index in range(graph.num_nodes)]
    relations = graph.relation_labels or dataset.relation_labels
    relations = relations or [str(index) for index in range(graph.num_direct_relations)]
    if (len(entities), len(relations)) != (backbone.num_entities, backbone.num_relations):
        raise DataError(
            f"dataset {dataset.name!r} has {len(entities)} entities and {len(relations)} relations, the model's "
            f"tables {backbone.num_entities} and {backbone.num_relations}: export with the dataset it was trained on"
        )
    return Labels(list(entities), list(relations))


def without_released(stored: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameter overrides that rebuild the checkpoint's backbone without the released checkpoint it was
    first built from (its weights are in ``state_dict``; its file may be on another machine)."""
    backbone = (stored.get("hyper_parameters") or {}).get("backbone")
    if not isinstance(backbone, dict) or not isinstance(backbone.get("init_args"), dict):
        return {}
    init_args = {
        key: None if key in ("checkpoint", "data_root") else value for key, value in backbone["init_args"].items()
    }
    return {"backbone": {**backbone, "init_args": init_args}}


def load_for_export(
    checkpoint: str | Path, dataset: str | None = None, root: str | None = None
) -> tuple[KGBackbone, KGDataset]:
    """The backbone of a ``lit-kgns`` checkpoint and its dataset: ``dataset`` if given, else the one the
    checkpoint's run used (its training dataset for an embedding model, its first test dataset for a KGFM)."""
    stored = load_checkpoint_file(checkpoint)
    if not isinstance(stored, dict) or "state_dict" not in stored:
        raise CheckpointError(f"{checkpoint}: not a Lightning checkpoint of lit-kgns fit (no state_dict)")
    try:
        model = KGLinkPrediction.load_from_checkpoint(checkpoint, map_location="cpu", **without_released(stored))
    except (TypeError, KeyError) as error:
        raise CheckpointError(
            f"{checkpoint}: cannot rebuild the model from its hyperparameters ({error}); export from Python with "
            "lit_kgns.commands.export.export_embeddings(backbone, dataset, output_dir)"
        ) from error
    options = dict(stored.get("datamodule_hyper_parameters") or {})
    accepted = inspect.signature(KGDataModule).parameters
    options = {key: value for key, value in options.items() if key in accepted}
    if dataset is not None:
        options.update(dataset=dataset, train_datasets=None, valid_datasets=None, test_datasets=None)
    if root is not None:
        options["root"] = root
    datamodule = KGDataModule(**options)
    backbone = model.backbone
    names = datamodule.train_names if isinstance(backbone, KGEBackbone) else datamodule.test_names
    chosen = datamodule.dataset(names[0])
    graphs = stored.get("training_graphs") or []
    if isinstance(backbone, KGEBackbone) and graphs:
        current = chosen.train.graph.fingerprint()
        if current["sha256"] != graphs[0]["sha256"]:
            raise CheckpointError(
                f"{checkpoint}: an embedding model trained on {graphs[0]['name']}, not on {current['name']}: its "
                "rows follow its training graph's ids; export with that dataset (--dataset)"
            )
    return backbone, chosen


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``lit-kgns-export``: prints the files written; an error about the input is one line
    and exit status 1 (``LIT_KGNS_TRACEBACK=1``: the traceback)."""
    parser = argparse.ArgumentParser(prog="lit-kgns-export", description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="a .ckpt written by lit-kgns fit")
    parser.add_argument("--output_dir", required=True, help="folder for the tensors and label files")
    parser.add_argument("--dataset", help="dataset name or folder (default: the checkpoint run's)")
    parser.add_argument("--root", help="data root (default: $LIT_KGNS_DATA, else the user cache)")
    parser.add_argument("--formats", nargs="+", default=["pt", "npy"], choices=["pt", "npy"])
    parser.add_argument(
        "--queries", help="a KGFM: question file (predict's format) whose queries' final entity states are written"
    )
    args = parser.parse_args(argv)
    try:
        backbone, dataset = load_for_export(args.checkpoint, args.dataset, args.root)
        written = export_embeddings(backbone, dataset, args.output_dir, args.formats, args.queries)
    except LitKGNSError as error:
        if os.environ.get("LIT_KGNS_TRACEBACK"):
            raise
        sys.stderr.write(f"lit-kgns-export: error: {error.message()}\n")
        raise SystemExit(1) from None
    for path in dict.fromkeys(written.values()):
        print(path)
    if not isinstance(backbone, KGEBackbone) and args.queries is None:
        print(
            f"{type(backbone).__name__} has no per-entity table: its entity representations depend on the query; "
            "--queries FILE writes the final entity states of given queries"
        )


if __name__ == "__main__":
    main()
