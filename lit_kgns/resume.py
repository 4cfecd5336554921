"""Interrupted runs that continue: where a run's checkpoints live, and finding them again.

Every ``fit`` keeps ``last.ckpt`` in its run directory (``<default_root_dir>/<logger name>/version_<n>/
checkpoints``, or ``<default_root_dir>/checkpoints`` without a logger), refreshed every
``--checkpoint_every_n_steps`` steps and at each epoch end. ``--ckpt_path last`` resumes the newest of them
under ``default_root_dir`` and keeps logging into the same version directory, so the same command, repeated
with ``--ckpt_path last``, continues where the first one stopped (mid-epoch included: the DataModule's
training loader restores its place in the batch plan). SIGTERM (how job schedulers stop a job) writes
``last.ckpt`` at the step it stopped and ``lit-kgns`` exits with status 143 saying how to resume; Ctrl-C
resumes from the last periodic ``last.ckpt``. On SLURM, Lightning's own auto-requeue is the
``SLURMEnvironment`` plugin (``--trainer.plugins lightning_fabric.plugins.environments.SLURMEnvironment``).
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.loggers import Logger, TensorBoardLogger
from pytorch_lightning.utilities import rank_zero_info
from pytorch_lightning.utilities.exceptions import SIGTERMException

from lit_kgns.errors import CheckpointNotFoundError

LAST = "last.ckpt"


class ResumeCheckpoint(ModelCheckpoint):
    """Keeps ``last.ckpt`` only: every ``every_n_train_steps`` optimizer steps (``None``: epoch ends only)
    and at every epoch end."""

    def __init__(self, every_n_train_steps: int | None = None) -> None:
        super().__init__(save_top_k=0, save_last=True, every_n_train_steps=every_n_train_steps)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # ModelCheckpoint writes last.ckpt at an epoch end only after a top-k save, and keeps none here
        super().on_train_epoch_end(trainer, pl_module)
        if not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        """SIGTERM (a scheduler's preemption) stops training at a batch boundary: ``last.ckpt`` is written there.
        Ctrl-C can land inside an optimizer step, so it keeps the last periodic ``last.ckpt`` instead."""
        if isinstance(exception, SIGTERMException) and trainer.state.fn == "fit":
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
            rank_zero_info(f"SIGTERM at step {trainer.global_step}: saved {self.last_model_path}")


def find_last_checkpoint(root: Path) -> Path:
    """The most recently written ``last.ckpt`` under ``root``, or a :class:`CheckpointNotFoundError` that says
    where it looked."""
    candidates = sorted(root.rglob(LAST), key=lambda path: path.stat().st_mtime) if root.is_dir() else []
    if not candidates:
        raise CheckpointNotFoundError(
            f"--ckpt_path last: no {LAST} under {root} (trainer.default_root_dir): there is no run to resume "
            "there; drop --ckpt_path to start one, or pass a checkpoint file"
        )
    return candidates[-1]


def logger_for(checkpoint: Path, root: Path) -> Logger | None:
    """A TensorBoard logger writing into the run directory ``checkpoint`` came from, when that directory is
    ``<root>/<name>/version_<n>/checkpoints`` (Lightning's default layout); else ``None``."""
    run = checkpoint.parent.parent
    try:
        name = run.parent.relative_to(root)
    except ValueError:
        return None
    if checkpoint.parent.name != "checkpoints" or not run.name.startswith("version_") or len(name.parts) != 1:
        return None
    return TensorBoardLogger(save_dir=str(root), name=str(name), version=run.name)
