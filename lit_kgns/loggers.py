"""Experiment trackers with metric names they accept.

MLflow keys allow only letters, digits and ``_ - . / :`` and space; Lightning's ``MLFlowLogger`` drops other
characters, so ``test/hits@10`` and ``test/hits@1`` would be logged as ``test/hits10`` and ``test/hits1``.
:class:`MLFlowLogger` spells ``@`` as ``_at_`` instead (``test/hits_at_10``, ``test/hits_at_10_50``), a
one-to-one renaming. Weights & Biases accepts the names as they are (``configs/loggers/wandb.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pytorch_lightning.loggers import MLFlowLogger as LightningMLFlowLogger

_NOT_ACCEPTED = re.compile(r"[^a-zA-Z0-9_\-./: ]")


def mlflow_key(name: str) -> str:
    """``name`` as an MLflow metric key: ``@`` becomes ``_at_``, any other character MLflow refuses ``_``."""
    return _NOT_ACCEPTED.sub("_", name.replace("@", "_at_"))


class MLFlowLogger(LightningMLFlowLogger):
    """Lightning's MLflow logger with lit_kgns metric names spelled as MLflow keys (:func:`mlflow_key`)."""

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        super().log_metrics({mlflow_key(name): value for name, value in metrics.items()}, step)
