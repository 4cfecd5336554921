"""Runs that resume: an interrupted fit continued with ``--ckpt_path last`` ends where the uninterrupted one
does; checkpoints refuse other data and other model configs; errors come in one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
TINY = [
    "-c",
    str(REPO / "configs/quickstart.yaml"),
    "--data.dataset=nations",
    "--data.batches_per_epoch=10",
    "--trainer.max_epochs=2",
    "--trainer.limit_val_batches=1",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--model.backbone.init_args.dim=8",
    "--model.backbone.init_args.num_relation_layers=2",
    "--model.backbone.init_args.num_entity_layers=2",
    "--sampler.init_args.num_negatives=8",
    "--checkpoint_every_n_steps=3",
]


def lit_kgns(*args: str, root: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    env.pop("LIT_KGNS_TRACEBACK", None)
    command = [sys.executable, "-m", "lit_kgns", *args, f"--trainer.default_root_dir={root}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_mrr(output: str) -> float:
    return float(re.search(r"test/mrr\s*[│|]\s*([0-9.]+)", output).group(1))


test_mrr.__test__ = False  # a helper, not a test


def backbone_weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    return {key: value for key, value in state.items() if key.startswith("backbone.")}


@pytest.mark.slow
def test_interrupted_fit_resumed_with_ckpt_path_last_equals_the_uninterrupted_one(tmp_path: Path) -> None:
    full = lit_kgns("fit", *TINY, root=tmp_path / "full")
    interrupt = ["--trainer.callbacks+=interrupt.InterruptAt", "--trainer.callbacks.step=7"]
    stopped = lit_kgns("fit", *TINY, *interrupt, root=tmp_path / "cut", check=False)
    assert "test/mrr" not in stopped.stdout  # it did stop before the end
    run = tmp_path / "cut" / "lightning_logs" / "version_0"
    saved = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert saved["global_step"] == 6  # mid-epoch (10 batches per epoch): every 3 steps
    resumed = lit_kgns("fit", *TINY, "--ckpt_path=last", root=tmp_path / "cut")
    assert not (tmp_path / "cut" / "lightning_logs" / "version_1").exists()  # same run directory
    first = backbone_weights(tmp_path / "full" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt")
    second = backbone_weights(run / "checkpoints" / "last.ckpt")
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key
    assert test_mrr(resumed.stdout) == test_mrr(full.stdout)


def test_sigterm_saves_last_ckpt_where_it_stopped_and_exits_non_zero(tmp_path: Path) -> None:
    """A preempted job must not look finished to its scheduler (Lightning alone exits 0, without a test)."""
    terminate = ["--trainer.callbacks+=interrupt.TerminateAt", "--trainer.callbacks.step=4", "--test_after_fit=true"]
    stopped = lit_kgns("fit", *TINY, *terminate, root=tmp_path, check=False)
    assert stopped.returncode == 143, stopped.stderr[-2000:]
    assert stopped.stderr.strip().splitlines()[-1] == (
        "lit-kgns: stopped by SIGTERM; last.ckpt holds the step it stopped at: the same command with "
        "--ckpt_path last resumes it"
    )
    assert "test/mrr" not in stopped.stdout
    checkpoint = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    # the batch under way when the signal came is finished, then the run stops (periodic saves: steps 3, 6)
    assert torch.load(checkpoint, map_location="cpu", weights_only=True)["global_step"] == 5


def test_ckpt_path_last_without_a_run_is_a_one_line_error(tmp_path: Path) -> None:
    result = lit_kgns("fit", *TINY, "--ckpt_path=last", root=tmp_path, check=False)
    assert result.returncode == 1
    assert f"no last.ckpt under {tmp_path}" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 3


@pytest.fixture(scope="module")
def one_epoch_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    lit_kgns("fit", *TINY, "--trainer.max_epochs=1", "--test_after_fit=false", root=root)
    return root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"


def test_resuming_on_other_data_is_refused(tmp_path: Path, one_epoch_checkpoint: Path) -> None:
    other = lit_kgns(
        "fit", *TINY, "--data.dataset=umls", f"--ckpt_path={one_epoch_checkpoint}", root=tmp_path, check=False
    )
    assert other.returncode == 1
    assert "was trained on nations (" in other.stderr and "not on umls (" in other.stderr
    assert "model.backbone.init_args.checkpoint" in other.stderr


def test_resuming_with_another_model_config_is_refused_unless_asked(tmp_path: Path, one_epoch_checkpoint: Path) -> None:
    changed = [*TINY, "--model.backbone.init_args.dim=16", f"--ckpt_path={one_epoch_checkpoint}"]
    refused = lit_kgns("fit", *changed, root=tmp_path, check=False)
    assert refused.returncode == 1
    assert "model config differs from the checkpoint's at model.backbone.init_args.dim" in refused.stderr
    taken = lit_kgns("fit", *changed, "--model_from_checkpoint=true", "--test_after_fit=false", root=tmp_path)
    assert "Restored all states" in taken.stderr + taken.stdout


def test_a_garbage_checkpoint_is_named(tmp_path: Path) -> None:
    garbage = tmp_path / "broken.ckpt"
    garbage.write_bytes(b"not a checkpoint at all")
    result = lit_kgns("fit", *TINY, f"--ckpt_path={garbage}", root=tmp_path, check=False)
    assert result.returncode == 1
    assert f"{garbage}: not a readable PyTorch checkpoint" in result.stderr
    assert "weights_only=False" not in result.stderr
