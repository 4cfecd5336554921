"""Embeddings out: tables and relation representations round-trip through .pt / .npy, labels in id order."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from toy_graphs import RELATION_LABELS, typed_dataset

from lit_kgns.backbones import Ultra
from lit_kgns.backbones.kge import KGE_MODELS
from lit_kgns.cli import cli_main
from lit_kgns.commands.export import export_embeddings, main
from lit_kgns.data import KGDataModule
from lit_kgns.module import KGLinkPrediction

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false", "--trainer.logger=false"]


def read_tsv(path: Path, header: bool = True) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if header:
        assert rows[0] == ["id", "label"]  # PyKEEN's entity_to_id / relation_to_id columns
        rows = rows[1:]
    return rows


def assert_labels(folder: Path, entities: list[str], relations: list[str]) -> None:
    """Both label layouts list the vocabulary in id order."""
    for names, pykeen, dglke in ((entities, "entity_to_id", "entities"), (relations, "relation_to_id", "relations")):
        expected = [[str(index), label] for index, label in enumerate(names)]
        assert read_tsv(folder / f"{pykeen}.tsv") == expected
        assert read_tsv(folder / f"{dglke}.tsv", header=False) == expected


@pytest.mark.parametrize("name", ["transe", "complex", "transr"])
def test_embedding_tables_round_trip_with_the_dataset_vocabulary(tmp_path, name):
    dataset = KGDataModule(dataset="nations").dataset("nations")
    torch.manual_seed(0)
    backbone = KGE_MODELS[name](14, 55, 4)
    written = export_embeddings(backbone, dataset, tmp_path)
    for key, table in (("entity", backbone.entity_table()), ("relation", backbone.relation_table())):
        loaded = torch.load(written[f"{key}.pt"], weights_only=True)
        torch.testing.assert_close(loaded, table.detach(), rtol=0, atol=0)
        np.testing.assert_array_equal(np.load(written[f"{key}.npy"]), table.detach().numpy())
    assert written["entity.npy"].name == f"nations_{type(backbone).__name__}_entity.npy"  # DGL-KE's naming
    assert_labels(tmp_path, dataset.entity_labels, dataset.relation_labels)
    manifest = json.loads(written["manifest"].read_text())
    assert manifest["entity"]["shape"] == [14, backbone.entity_table().shape[1]]
    assert manifest["relation"]["shape"] == list(backbone.relation_table().shape)


def test_kgfm_relation_representations_per_query_relation(tmp_path):
    dataset = typed_dataset()
    dataset.relation_labels = list(RELATION_LABELS)
    torch.manual_seed(0)
    backbone = Ultra(dim=8, num_relation_layers=2, num_entity_layers=2).train()
    written = export_embeddings(backbone, dataset, tmp_path, formats=["npy", "pt"])
    assert backbone.training  # the mode is restored
    backbone.eval()
    with torch.no_grad():
        expected = backbone.relation_representations(dataset.test.graph, torch.arange(8))
    loaded = torch.load(written["relation_representations.pt"], weights_only=True)
    assert loaded.shape == (8, 8, 8)  # (query relations 2R, relations 2R, d)
    torch.testing.assert_close(loaded, expected)
    np.testing.assert_array_equal(np.load(written["relation_representations.npy"]), loaded.numpy())
    # no labels in this dataset: its ids stand for them
    assert_labels(tmp_path, [str(i) for i in range(24)], list(RELATION_LABELS))


def test_export_from_a_checkpoint_through_the_console_entry(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["lit-kgns"])
    monkeypatch.delenv("LIT_KGNS_DATA", raising=False)
    fit = cli_main(
        [
            "fit",
            "-c",
            str(REPO / "configs/kge/rotate_umls.yaml"),
            "--data.dataset=nations",
            f"--trainer.default_root_dir={tmp_path}",
            "--trainer.max_steps=2",
            "--trainer.limit_val_batches=0",
            "--model.backbone.init_args.embedding_dim=4",
            *QUICK,
        ]
    )
    checkpoint = fit.trainer.checkpoint_callback.last_model_path or fit.trainer.checkpoint_callback.best_model_path
    main([checkpoint, "--output_dir", str(tmp_path / "out"), "--formats", "npy"])
    printed = capsys.readouterr().out.split()
    assert str(tmp_path / "out/nations_RotatE_entity.npy") in printed
    assert not (tmp_path / "out/nations_RotatE_entity.pt").exists()  # only the formats asked for
    model = KGLinkPrediction.load_from_checkpoint(checkpoint, map_location="cpu")
    table = np.load(tmp_path / "out/nations_RotatE_relation.npy")
    np.testing.assert_array_equal(table, model.backbone.relation_table().detach().numpy())
    dataset = fit.datamodule.dataset("nations")
    assert_labels(tmp_path / "out", dataset.entity_labels, dataset.relation_labels)
    # the rows belong to the training graph: another dataset is one clear line and exit status 1
    with pytest.raises(SystemExit) as raised:
        main([checkpoint, "--output_dir", str(tmp_path / "other"), "--dataset", "kinship"])
    assert raised.value.code == 1
    assert "trained on nations, not on kinship" in capsys.readouterr().err


def test_kgfm_entity_states_of_given_queries_are_what_the_scorer_reads(tmp_path):
    dataset = typed_dataset()
    dataset.relation_labels = list(RELATION_LABELS)
    torch.manual_seed(0)
    backbone = Ultra(dim=8, num_relation_layers=2, num_entity_layers=2).eval()
    questions = tmp_path / "questions.tsv"
    questions.write_text("0\tlives in\t?\n?\tlocated in\t17\n", encoding="utf-8")
    written = export_embeddings(backbone, dataset, tmp_path / "out", formats=["pt"], queries=questions)
    states = torch.load(written["entity_states.pt"], weights_only=True)
    assert states.shape == (2, 24, 8)  # (queries, entities, d)
    graph = dataset.test.graph
    anchors, relations, heads = torch.tensor([0, 17]), torch.tensor([1, 2]), torch.tensor([False, True])
    with torch.no_grad():
        scores = backbone.score_all(graph, anchors, relations, heads)
        query = backbone.relation_representations(graph, relations)[torch.arange(2), relations + 4 * heads.long()]
        rescored = backbone.entity_model.score(states.transpose(0, 1), query).t()
    torch.testing.assert_close(rescored, scores)  # the MLP over the exported states gives the model's scores
    assert (tmp_path / "out" / "queries.tsv").read_text().splitlines() == ["0\tlives in\t?", "?\tlocated in\t17"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["entity_states"]["shape"] == [2, 24, 8]


def test_an_embedding_model_refuses_queries_in_one_line(tmp_path):
    from lit_kgns.errors import ConfigError

    dataset = typed_dataset()
    backbone = KGE_MODELS["transe"](num_entities=24, num_relations=4, embedding_dim=4)
    with pytest.raises(ConfigError, match="has an entity table"):
        export_embeddings(backbone, dataset, tmp_path, queries=tmp_path / "q.tsv")
