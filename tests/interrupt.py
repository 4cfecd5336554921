"""Callbacks that interrupt a run as Ctrl-C or a job scheduler would, at a chosen step (the resume tests)."""

import os
import signal

import pytorch_lightning as pl


class InterruptAt(pl.Callback):
    """Sends SIGINT to its own process when training reaches optimizer step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step
        # a process started in the background (``nohup ... &``) inherits SIGINT ignored: Ctrl-C must reach it
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


class TerminateAt(pl.Callback):
    """Sends SIGTERM (a scheduler's preemption) to its own process when training reaches step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)
