"""Messages of the libraries underneath that a lit_kgns user cannot act on, silenced where lit_kgns starts a run.

Each is named with why it is noise here; everything else (ours and theirs) is still shown.
"""

from __future__ import annotations

import logging
import warnings

NOISE = (
    # pytorch_lightning's pytree helper calls an API that torch >= 2.10 deprecates; nothing to change on our side
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    # test / predict from a fit checkpoint: ResumeCheckpoint only keeps last.ckpt, which evaluation never needs
    r"Be aware that when using `ckpt_path`.*Please add the following callbacks: \[.ResumeCheckpoint\{[^}]*\}.\]\.$",
    # test / predict from a fit checkpoint write into a new version folder; which checkpoint was best is not needed
    r"The dirpath has changed from .* won't be reloaded\. Only `best_model_path` will be reloaded\.",
)
TIPS = "💡 Tip:"  # Lightning's advertisement for its cloud logger, printed by every Trainer


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(TIPS)


_DROP_TIPS = _DropTips()


def silence_known_noise() -> None:
    """Install the filters (idempotent)."""
    for message in NOISE:
        warnings.filterwarnings("ignore", message=message)
    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logger = logging.getLogger(name)
        if _DROP_TIPS not in logger.filters:
            logger.addFilter(_DROP_TIPS)
