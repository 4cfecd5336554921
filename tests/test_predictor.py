"""The Python prediction API answers as ``lit-kgns predict`` does, by label or id, and scores triples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from lit_kgns.cli import cli_main
from lit_kgns.errors import ConfigError
from lit_kgns.predictor import LinkPredictor

QUESTIONS = ["usa\tembassy\t?", "?\tembassy\tusa", "brazil\tintergovorgs\t?", "?\ttreaties\tchina"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DistMult trained for a few steps on Nations: its last checkpoint."""
    root = tmp_path_factory.mktemp("nations")
    options = ["--data.dataset=nations", "--model.backbone=lit_kgns.backbones.DistMult", "--trainer.max_steps=5"]
    options += ["--trainer.limit_val_batches=0", "--trainer.logger=false", "--trainer.enable_progress_bar=false"]
    cli_main(["fit", *options, f"--trainer.default_root_dir={root}", "--seed_everything=0"])
    (checkpoint,) = root.glob("**/last.ckpt")
    return checkpoint


def cli_predictions(checkpoint: Path, tmp_path: Path, filtered: bool) -> list[dict]:
    questions = tmp_path / "questions.tsv"
    questions.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    options = ["--data.dataset=nations", "--model.backbone=lit_kgns.backbones.DistMult", f"--ckpt_path={checkpoint}"]
    options += [
        f"--data.predict_queries={questions}",
        f"--model.predict_filtered={filtered}",
        "--model.predict_top_k=5",
    ]
    options += [
        "--trainer.logger=false",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path}",
    ]
    options += ["--trainer.callbacks=lit_kgns.predictions.PredictionWriter"]
    cli_main(["predict", *options, f"--trainer.callbacks.init_args.output_dir={tmp_path / 'out'}"])
    lines = (tmp_path / "out" / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize("filtered", [True, False])
def test_the_api_gives_the_cli_s_answers_and_scores(trained: Path, tmp_path: Path, filtered: bool) -> None:
    predictor = LinkPredictor.from_checkpoint(trained)
    for question, record in zip(QUESTIONS, cli_predictions(trained, tmp_path, filtered), strict=True):
        head, relation, tail = question.split("\t")
        asked = {"head": head} if tail == "?" else {"tail": tail}
        frame = predictor.predict(relation=relation, k=5, filtered=filtered, **asked)
        assert list(frame["entity"]) == [item["entity"] for item in record["predictions"]], question
        assert list(frame["id"]) == [item["id"] for item in record["predictions"]]
        written = [item["score"] for item in record["predictions"]]
        assert [float(format(score, ".9g")) for score in frame["score"]] == written  # the writer's 9 digits
        assert list(frame["rank"]) == list(range(1, len(frame) + 1))


def test_ids_and_labels_ask_the_same_and_triples_score_as_they_rank(trained: Path) -> None:
    predictor = LinkPredictor.from_checkpoint(trained)
    usa, embassy = predictor.labels.entities.index("usa"), predictor.labels.relations.index("embassy")
    by_label = predictor.predict(head="usa", relation="embassy", k=3, filtered=False)
    by_id = predictor.predict(head=usa, relation=embassy, k=3, filtered=False)
    assert by_label.equals(by_id)
    best = by_label["entity"][0]
    scores = predictor.score_triples([("usa", "embassy", best), (usa, embassy, int(by_label["id"][1]))])
    assert torch.allclose(scores, torch.tensor(list(by_label["score"][:2]), dtype=scores.dtype))


def test_bad_questions_are_named() -> None:
    from lit_kgns.backbones import DistMult

    predictor = LinkPredictor(DistMult(num_entities=14, num_relations=55, embedding_dim=4), "nations")
    with pytest.raises(ConfigError, match="exactly one of head or tail"):
        predictor.predict(head="usa", relation="embassy", tail="uk")
    with pytest.raises(ConfigError, match="unknown head 'atlantis'"):
        predictor.predict(head="atlantis", relation="embassy")
    with pytest.raises(ConfigError, match="relation id 99"):
        predictor.predict(head="usa", relation=99)
