"""Experiment trackers with metric names they accept.

MLflow keys allow only letters, digits and ``_ - . / :`` and space; Lightning's ``MLFlowLogger`` drops other
characters, so ``test/hits@10`` and ``test/hits@1`` would be logged as ``test/hits10`` and ``test/hits1``.
:class:`MLFlowLogger` spells ``@`` as ``_at_`` instead (``test/hits_at_10``, ``test/hits_at_10_50``), a
one-to-one renaming. Weights & Biases accepts the names as they are (``configs/loggers/wandb.yaml``).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytorch_lightning.loggers import MLFlowLogger as LightningMLFlowLogger
from pytorch_lightning.loggers import WandbLogger as LightningWandbLogger

from lit_kgns.errors import SetupError

_NOT_ACCEPTED = re.compile(r"[^a-zA-Z0-9_\-./: ]")
SQLITE = "sqlite:///"


def mlflow_key(name: str) -> str:
    """``name`` as an MLflow metric key: ``@`` becomes ``_at_``, any other character MLflow refuses ``_``."""
    return _NOT_ACCEPTED.sub("_", name.replace("@", "_at_"))


def require_extra(package: str, extra: str) -> None:
    """A one-line error naming the install that provides ``package`` (Lightning's names only the package)."""
    if importlib.util.find_spec(package) is None:
        raise SetupError(
            f"this logger needs {package}, which is not installed: pip install -e '.[{extra}]' "
            f"(or pip install {package})"
        )


class MLFlowLogger(LightningMLFlowLogger):
    """Lightning's MLflow logger with lit_kgns metric names spelled as MLflow keys (:func:`mlflow_key`). A
    ``sqlite:///path`` tracking URI (MLflow's advised store; its ``file:`` store is deprecated) gets its
    folder created, and the run's config and checkpoints go under ``save_dir``."""

    def __init__(
        self, *args: Any, tracking_uri: str | None = None, save_dir: str | None = "./mlruns", **kwargs: Any
    ) -> None:
        require_extra("mlflow", "mlflow")
        if tracking_uri is not None and tracking_uri.startswith(SQLITE):
            Path(tracking_uri[len(SQLITE) :]).expanduser().parent.mkdir(parents=True, exist_ok=True)
        super().__init__(*args, tracking_uri=tracking_uri, save_dir=save_dir, **kwargs)
        self._local_dir = save_dir

    @property
    def save_dir(self) -> str | None:
        """Where the run's config and checkpoints go: the file store's folder, else ``save_dir`` (Lightning
        gives ``None`` for a database store, and its config saving then fails)."""
        return super().save_dir or self._local_dir

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        super().log_metrics({mlflow_key(name): value for name, value in metrics.items()}, step)


class WandbLogger(LightningWandbLogger):
    """Lightning's Weights & Biases logger, with a one-line error when ``wandb`` is not installed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        require_extra("wandb", "wandb")
        super().__init__(*args, **kwargs)
