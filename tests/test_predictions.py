"""Predictions by name: query files, filtered / unfiltered top-k, the TSV and JSONL writer, checkpoints."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from toy_graphs import NUM_ENTITIES, NUM_RELATIONS, RELATION_LABELS, typed_dataset

from lit_kgns.backbones.kge import DistMult
from lit_kgns.cli import cli_main
from lit_kgns.data import KGDataModule
from lit_kgns.data.queries import Labels, read_queries
from lit_kgns.data.triples import TripleFileError
from lit_kgns.errors import CheckpointError, ConfigError
from lit_kgns.module import KGLinkPrediction
from lit_kgns.predictions import PredictionWriter

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false", "--trainer.logger=false"]
# persons p0-p7 (ids 0-7), cities c0-c7 (8-15), countries k0-k7 (16-23)
ENTITY_LABELS = [f"{kind}{i}" for kind in "pck" for i in range(8)]


def toy_dataset():
    dataset = typed_dataset()
    dataset.entity_labels, dataset.relation_labels = list(ENTITY_LABELS), list(RELATION_LABELS)
    return dataset


def one_dimensional_distmult() -> DistMult:
    """DistMult with d = 1: score(h, r, t) = x_h * x_t (every relation weight 1), x_i = i + 1 but x_c3 = 50.
    A tail query (h, r, ?) therefore ranks entities by x, c3 (id 11) first, then k7, k6, k5, ..."""
    backbone = DistMult(NUM_ENTITIES, NUM_RELATIONS, embedding_dim=1)
    with torch.no_grad():
        x = torch.arange(1.0, NUM_ENTITIES + 1)
        x[11] = 50.0
        backbone.entity_embeddings.weight.copy_(x.unsqueeze(1))
        backbone.relation_embeddings.weight.fill_(1.0)
    return backbone


def predict(tmp_path: Path, dataset, backbone, queries: str | None, **model_options):
    """Run ``Trainer.predict`` with the writer; the TSV rows and JSONL records it wrote."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    query_file = None
    if queries is not None:
        query_file = tmp_path / "questions.tsv"
        query_file.write_text(queries, encoding="utf-8")
    datamodule = KGDataModule.from_datasets(
        [dataset], predict_queries=query_file and str(query_file), on_data_issue="ignore"
    )
    writer = PredictionWriter(str(tmp_path / "out"))
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, callbacks=[writer])
    trainer.predict(KGLinkPrediction(backbone, **model_options), datamodule=datamodule)
    with (tmp_path / "out/predictions.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    lines = (tmp_path / "out/predictions.jsonl").read_text(encoding="utf-8").splitlines()
    return rows, [json.loads(line) for line in lines]


def listed(rows: list[dict[str, str]], head: str, relation: str, tail: str) -> list[tuple[str, float]]:
    chosen = [row for row in rows if (row["head"], row["relation"], row["tail"]) == (head, relation, tail)]
    assert [int(row["rank"]) for row in chosen] == list(range(1, len(chosen) + 1))
    return [(row["entity"], float(row["score"])) for row in chosen]


@pytest.mark.parametrize("filtered", [True, False])
def test_queries_by_name_get_the_hand_computed_answers(tmp_path, filtered):
    queries = "p0\tlives in\t?\n\n?\tlocated in\tk3\n"  # a blank line is skipped
    rows, records = predict(
        tmp_path, toy_dataset(), one_dimensional_distmult(), queries, predict_top_k=3, predict_filtered=filtered
    )
    # (p0, lives in, ?): x_p0 * x_c = x_c; its one known answer is c3 (p0 lives in city (0 + 3) % 8).
    # (?, located in, k3): x_c * x_k3 = 20 x_c; its one known answer is c3 too (city c is located in k_c).
    if filtered:
        assert listed(rows, "p0", "lives in", "?") == [("k7", 24.0), ("k6", 23.0), ("k5", 22.0)]
        assert listed(rows, "?", "located in", "k3") == [("k7", 480.0), ("k6", 460.0), ("k5", 440.0)]
    else:
        assert listed(rows, "p0", "lives in", "?") == [("c3", 50.0), ("k7", 24.0), ("k6", 23.0)]
        assert listed(rows, "?", "located in", "k3") == [("c3", 1000.0), ("k7", 480.0), ("k6", 460.0)]
    # the JSON lines say the same, one per query in file order
    assert [(r["head"], r["relation"], r["tail"]) for r in records] == [
        ("p0", "lives in", "?"),
        ("?", "located in", "k3"),
    ]
    for record in records:
        assert record["filtered"] is filtered and record["graph"] == "typed" and "answer" not in record
        assert [(p["entity"], p["score"]) for p in record["predictions"]] == listed(
            rows, record["head"], record["relation"], record["tail"]
        )
        assert [ENTITY_LABELS[p["id"]] for p in record["predictions"]] == [p["entity"] for p in record["predictions"]]


def test_test_triples_list_their_answer_and_its_hand_computed_rank(tmp_path):
    rows, records = predict(tmp_path, toy_dataset(), one_dimensional_distmult(), None, predict_top_k=2)
    by_query = {(r["head"], r["relation"], r["tail"]): r for r in records}
    assert len(records) == 2 * 32  # each of the 32 test triples asks its tail and its head
    # (p0, lives in, c3): c3 scores 50, above every other entity: rank 1, listed first though it is known
    tail = by_query[("p0", "lives in", "?")]
    assert (tail["answer"], tail["answer_rank"]) == ("c3", 1)
    assert [p["entity"] for p in tail["predictions"]] == ["c3", "k7"]
    # (?, lives in, c3): p0 scores x_p0 * 50 = 50, below all 23 other entities (50 x_c, x_c >= 2): rank 24
    head = by_query[("?", "lives in", "c3")]
    assert (head["answer"], head["answer_rank"]) == ("p0", 24)
    assert [p["entity"] for p in head["predictions"]] == ["c3", "k7"]
    assert listed(rows, "?", "lives in", "c3") == [("c3", 2500.0), ("k7", 1200.0)]


def known_answers(dataset, query: tuple[int, int, int]) -> set[int]:
    """The true answers of a query row (-1 at the ?), read from the test filter triples."""
    head, relation, tail = query
    triples = dataset.test.filter_triples.tolist()
    if head < 0:
        return {h for h, r, t in triples if r == relation and t == tail}
    return {t for h, r, t in triples if h == head and r == relation}


def test_filtered_and_unfiltered_lists_differ_exactly_by_the_known_answers(tmp_path):
    datamodule = KGDataModule(dataset="nations")
    dataset = datamodule.dataset("nations")
    labels = datamodule.prediction_labels(0)
    questions = ["usa\tembassy\t?", "?\tembassy\tusa", "brazil\tintergovorgs\t?", "?\ttreaties\tchina", "uk\tngo\t?"]
    torch.manual_seed(0)
    backbone = DistMult(len(labels.entities), len(labels.relations), embedding_dim=8)
    lists = {}
    for filtered in (True, False):
        _, records = predict(
            tmp_path / str(filtered),
            dataset,
            backbone,
            "\n".join(questions),
            predict_top_k=14,
            predict_filtered=filtered,
        )
        lists[filtered] = [[p["entity"] for p in record["predictions"]] for record in records]
    queries = read_queries(tmp_path / "True/questions.tsv", labels).tolist()
    for query, kept, everything in zip(queries, lists[True], lists[False], strict=True):
        known = {labels.entities[i] for i in known_answers(dataset, query)}
        assert known and len(everything) == 14
        assert kept == [entity for entity in everything if entity not in known]


def test_unfiltered_test_ranks_add_the_known_answers_scored_above_the_answer(tmp_path):
    dataset = KGDataModule(dataset="nations").dataset("nations")
    torch.manual_seed(0)
    backbone = DistMult(14, 55, embedding_dim=8)
    records = {}
    for filtered in (True, False):
        _, records[filtered] = predict(
            tmp_path / str(filtered), dataset, backbone, None, predict_top_k=14, predict_filtered=filtered
        )
    entities, relations = dataset.entity_labels, dataset.relation_labels
    for kept, raw in zip(records[True], records[False], strict=True):
        assert (kept["head"], kept["relation"], kept["tail"], kept["answer"]) == (
            raw["head"], raw["relation"], raw["tail"], raw["answer"]
        )  # fmt: skip
        head, tail = (-1 if raw[side] == "?" else entities.index(raw[side]) for side in ("head", "tail"))
        query = (head, relations.index(raw["relation"]), tail)
        scores = {p["entity"]: p["score"] for p in raw["predictions"]}  # all 14 entities, unfiltered
        others = {entities[i] for i in known_answers(dataset, query)} - {raw["answer"]}
        above = sum(scores[other] >= scores[raw["answer"]] for other in others)  # ties count against (pessimistic)
        assert raw["answer_rank"] == kept["answer_rank"] + above


MALFORMED = [
    ("usa embassy ?\n", ":1: expected 3 tab-separated fields", "got 1"),
    ("usa\tembassy\t?\nusa\tembassy\n", ":2: expected 3 tab-separated fields", "got 2"),
    ("usa\tembassy\tchina\n", ":1: no '?'", "exactly one of head or tail"),
    ("?\tembassy\t?\n", ":1: '?' as both head and tail", "exactly one"),
    ("usa\t?\tchina\n", ":1: the relation cannot be asked", "head<TAB>relation<TAB>?"),
    ("\nusa\tembassy\t?\nusaa\tembassy\t?\n", ":3: unknown head entity 'usaa'", "close labels: 'usa'"),
    ("?\tembassy\tatlantis\n", ":1: unknown tail entity 'atlantis'", "not among the 14 entities"),
    ("usa\tembasy\t?\n", ":1: unknown relation 'embasy'", "close labels: 'embassy'"),
    ("usa\t\t?\n", ":1: empty relation field", "usa"),
    ("\n\n", ": no queries", "head<TAB>relation<TAB>?"),
]


@pytest.mark.parametrize(("text", "where", "what"), MALFORMED)
def test_each_malformed_query_line_is_named_with_what_was_expected(tmp_path, text, where, what):
    path = tmp_path / "questions.tsv"
    path.write_text(text, encoding="utf-8")
    datamodule = KGDataModule(dataset="nations", predict_queries=str(path))
    with pytest.raises(TripleFileError) as raised:
        datamodule.predict_dataloader()
    message = raised.value.message()
    assert message.startswith(f"{path}{where}") and what in message


def test_query_files_that_are_missing_or_not_text_are_named(tmp_path):
    labels = Labels(["a", "b\u00e9"], ["r"])
    with pytest.raises(TripleFileError, match=r"questions\.tsv: query file not found"):
        read_queries(tmp_path / "questions.tsv", labels)
    path = tmp_path / "latin1.tsv"
    path.write_bytes("\ufeffa\tr\t?\n".encode() + "b\u00e9\tr\t?\n".encode("latin-1"))
    with pytest.raises(TripleFileError, match=r"latin1.tsv:2: not UTF-8"):
        read_queries(path, labels)
    path.write_bytes("\ufeffa\tr\t?\r\n?\tr\tb\u00e9\n".encode())  # a byte-order mark and CRLF are fine
    assert read_queries(path, labels).tolist() == [[0, 0, -1], [-1, 0, 1]]


def test_query_file_needs_a_single_test_graph():
    with pytest.raises(ConfigError, match=r"data\.predict_queries asks one graph"):
        KGDataModule(test_datasets=["nations", "kinship"], predict_queries="questions.tsv")


def test_predict_from_a_checkpoint_needs_only_the_checkpoint_and_the_dataset(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["lit-kgns"])
    monkeypatch.delenv("LIT_KGNS_DATA", raising=False)
    config = str(REPO / "configs/kge/distmult_umls.yaml")
    common = ["-c", config, "--data.dataset=nations", f"--trainer.default_root_dir={tmp_path}", *QUICK]
    fit = cli_main(
        [
            "fit",
            *common,
            "--trainer.max_steps=2",
            "--trainer.limit_val_batches=0",
            "--model.backbone.init_args.embedding_dim=8",
        ]
    )
    checkpoint = fit.trainer.checkpoint_callback.best_model_path or fit.trainer.checkpoint_callback.last_model_path
    assert Path(checkpoint).is_file()
    (tmp_path / "q.tsv").write_text("usa\tembassy\t?\n", encoding="utf-8")
    # the config's model is replaced by the checkpoint's (its embedding_dim is 8, the file says 200); the
    # predict options are this run's
    ask = [
        "predict", *common, f"--ckpt_path={checkpoint}", f"--data.predict_queries={tmp_path / 'q.tsv'}",
        "--trainer.callbacks+=lit_kgns.predictions.PredictionWriter",
        f"--trainer.callbacks.output_dir={tmp_path / 'out'}",
        "--model.predict_top_k=14", "--model.predict_filtered=false",
    ]  # fmt: skip
    cli = cli_main(ask)
    assert cli.model.backbone.embedding_dim == 8 and not cli.model.predict_filtered
    [record] = [json.loads(line) for line in (tmp_path / "out/predictions.jsonl").read_text().splitlines()]
    model = KGLinkPrediction.load_from_checkpoint(checkpoint, map_location="cpu")
    labels = cli.datamodule.prediction_labels(0)
    usa, embassy = labels.entities.index("usa"), labels.relations.index("embassy")
    scores = model.backbone.score_all(None, torch.tensor([usa]), torch.tensor([embassy]), torch.tensor([False]))[0]
    expected = [labels.entities[i] for i in scores.argsort(descending=True).tolist()]
    assert [p["entity"] for p in record["predictions"]] == expected
    # an embedding model's ids are its training graph's: another dataset is refused
    with pytest.raises(CheckpointError, match=r"trained on nations \(14 entities\), not on kinship"):
        cli_main(["predict", *common, "--data.dataset=kinship", f"--ckpt_path={checkpoint}"])
