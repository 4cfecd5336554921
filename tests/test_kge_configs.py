"""The configs of the standard transductive benchmarks carry their published hyperparameters and run."""

from __future__ import annotations

from pathlib import Path

import pytest

from lit_kgns.cli import cli_main, parse_only

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--trainer.logger=false", "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]

# Sun et al. (2019), best_config.sh of the authors' code: (dim, gamma, alpha, lr, batch, negatives, steps)
PUBLISHED = {
    "rotate_fb15k-237.yaml": ("fb15k-237", 1000, 9.0, 1.0, 5e-5, 1024, 256, 100_000),
    "rotate_wn18rr.yaml": ("wn18rr", 500, 6.0, 0.5, 5e-5, 512, 1024, 80_000),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_published_hyperparameters_are_what_the_cli_parses(name: str) -> None:
    config = parse_only(["-c", str(REPO / "configs/kge" / name)])
    dataset, dim, gamma, alpha, lr, batch, negatives, steps = PUBLISHED[name]
    assert config.data.dataset == dataset and config.data.batch_size == batch
    assert config.model.backbone.init_args.embedding_dim == dim
    assert (config.model.loss.init_args.margin, config.model.loss.init_args.inverse_temperature) == (gamma, alpha)
    assert config.model.optimizer.init_args.lr == lr
    assert config.sampler.init_args.num_negatives == negatives and config.trainer.max_steps == steps
    assert config.trainer.callbacks[0].init_args.monitor == "val/mrr"  # early stopping on validation MRR


def test_the_wn18rr_config_runs_end_to_end_at_a_tiny_size(tmp_path: Path, shared_data: Path) -> None:
    tiny = ["--model.backbone.init_args.embedding_dim=4", "--sampler.init_args.num_negatives=4"]
    tiny += ["--trainer.max_steps=2", "--data.batch_size=8", "--trainer.limit_val_batches=1"]
    tiny += [
        "--trainer.limit_test_batches=1",
        "--trainer.val_check_interval=2",
        f"--trainer.default_root_dir={tmp_path}",
    ]
    cli = cli_main(
        ["fit", "-c", str(REPO / "configs/kge/rotate_wn18rr.yaml"), f"--data.root={shared_data}", *QUICK, *tiny]
    )
    assert cli.trainer.global_step == 2
    assert "test/mrr" in cli.trainer.callback_metrics
