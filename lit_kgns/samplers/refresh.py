"""When a model-driven sampler re-reads the model it draws from, and when a diagnostic measures: one rule."""

from __future__ import annotations

from dataclasses import dataclass

from lit_kgns.options import check_period


@dataclass
class RefreshSchedule:
    """Every ``every_n_steps`` optimizer steps, else every ``every_n_epochs`` epochs (steps take precedence;
    both ``None``: only when asked). The last refresh is remembered, and saved in checkpoints by its owner, so
    that a resumed run keeps its rhythm and no step or epoch refreshes twice."""

    every_n_steps: int | None = None
    every_n_epochs: int | None = 1
    last_step: int | None = None
    last_epoch: int | None = None

    def __post_init__(self) -> None:
        check_period("refresh_every_n_steps", self.every_n_steps)
        check_period("refresh_every_n_epochs", self.every_n_epochs)

    def due_at_step(self, step: int) -> bool:
        """Whether a refresh is due before training step ``step`` (never refreshed counts as due)."""
        every = self.every_n_steps
        return every is not None and (self.last_step is None or step - self.last_step >= every)

    def due_at_epoch(self, epoch: int) -> bool:
        """Whether a refresh is due at the start of ``epoch`` (only when no step period is set)."""
        every = self.every_n_epochs
        if self.every_n_steps is not None or every is None:
            return False
        return epoch % every == 0 and self.last_epoch != epoch

    def done(self, step: int, epoch: int) -> None:
        self.last_step, self.last_epoch = step, epoch

    def state(self) -> dict[str, int | None]:
        return {"last_refresh_step": self.last_step, "last_refresh_epoch": self.last_epoch}

    def load(self, state: dict[str, int | None]) -> None:
        self.last_step, self.last_epoch = state.get("last_refresh_step"), state.get("last_refresh_epoch")
