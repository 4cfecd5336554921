"""A diverged run is an error, never a score: NaN scores compare false with everything, so without the check
every true answer would rank first (MRR 1.0) and the NaN checkpoint would be kept as the best one."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from toy_graphs import NUM_ENTITIES, NUM_RELATIONS, typed_dataset

from lit_kgns.backbones.kge import DistMult
from lit_kgns.data import KGDataModule
from lit_kgns.errors import DivergedError
from lit_kgns.metrics import filtered_ranks
from lit_kgns.module import KGLinkPrediction
from lit_kgns.samplers import StrictUniformSampler


def test_nan_scores_would_rank_every_answer_first() -> None:
    """The hazard the checks exist for: with pessimistic ties, NaN scores still give rank 1."""
    scores = torch.full((2, 5), float("nan"))
    ranks, _ = filtered_ranks(scores, torch.tensor([0, 3]), torch.zeros(2, 5, dtype=torch.bool))
    assert ranks.tolist() == [1.0, 1.0]


def _trainer(tmp_path: Path, **options: object) -> pl.Trainer:
    return pl.Trainer(
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        **options,
    )


def _toy() -> tuple[DistMult, KGDataModule]:
    torch.manual_seed(0)
    backbone = DistMult(NUM_ENTITIES, NUM_RELATIONS, embedding_dim=4)
    datamodule = KGDataModule.from_datasets([typed_dataset()], batch_size=4, eval_batch_size=5, on_data_issue="ignore")
    return backbone, datamodule


def test_evaluating_nan_weights_is_an_error_not_mrr_one(tmp_path: Path) -> None:
    backbone, datamodule = _toy()
    with torch.no_grad():
        backbone.entity_embeddings.weight[3] = float("nan")
    with pytest.raises(DivergedError, match=r"test: \d+ of \d+ scores are NaN or infinite.*gradient_clip_val"):
        _trainer(tmp_path).test(KGLinkPrediction(backbone), datamodule=datamodule, verbose=False)


def test_a_nan_loss_stops_training_naming_the_step_and_the_last_finite_loss(tmp_path: Path) -> None:
    backbone, datamodule = _toy()
    module = KGLinkPrediction(backbone)
    poison_at = 3

    class PoisonWeights(pl.Callback):
        def on_train_batch_end(self, trainer: pl.Trainer, *args: object) -> None:
            if trainer.global_step == poison_at:
                with torch.no_grad():
                    backbone.entity_embeddings.weight.fill_(float("inf"))

    trainer = _trainer(tmp_path, max_steps=10, callbacks=[StrictUniformSampler(num_negatives=4), PoisonWeights()])
    message = (
        rf"training diverged at step {poison_at}: train/loss is nan \(last finite loss [\d.]+ at step {poison_at - 1}\)"
    )
    with pytest.raises(DivergedError, match=message):
        trainer.fit(module, datamodule=datamodule)
    assert trainer.global_step == poison_at  # no optimizer step on the NaN loss


def test_no_checkpoint_of_non_finite_weights_is_written(tmp_path: Path) -> None:
    backbone, datamodule = _toy()
    trainer = _trainer(tmp_path, max_steps=1, callbacks=[StrictUniformSampler(num_negatives=4)])
    trainer.fit(KGLinkPrediction(backbone), datamodule=datamodule)
    healthy = tmp_path / "healthy.ckpt"
    trainer.save_checkpoint(healthy)
    assert healthy.is_file()
    with torch.no_grad():
        backbone.entity_embeddings.weight[0, 0] = float("inf")
    broken = tmp_path / "broken.ckpt"
    with pytest.raises(DivergedError, match=r"1 weight tensors hold NaN or infinite values \(first: backbone\."):
        trainer.save_checkpoint(broken)
    assert not broken.exists()
