"""The errors lit_kgns raises about its input. ``lit-kgns`` prints any of them as one line (what, where,
the fix) and exits with status 1; ``LIT_KGNS_TRACEBACK=1`` shows the full traceback instead.

Each also derives from the built-in exception a caller would expect (``ValueError`` for a bad value,
``FileNotFoundError`` for a missing file), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class LitKGNSError(Exception):
    """Base of every error about the input of a run: options, data files, checkpoints."""

    def message(self) -> str:
        """The text to print (``KeyError`` would quote it)."""
        return str(self.args[0]) if len(self.args) == 1 else str(self)


class ConfigError(LitKGNSError, ValueError):
    """An option or argument with a value outside what it accepts."""


class DataError(LitKGNSError, ValueError):
    """A data file or dataset that cannot be used as it is."""


class UnknownDatasetError(LitKGNSError, KeyError):
    """A dataset name the catalog does not know."""


class DataNotFoundError(LitKGNSError, FileNotFoundError):
    """Data files that are neither under the data root nor obtainable."""


class CheckpointError(LitKGNSError, RuntimeError):
    """A checkpoint that cannot be read, or does not belong to this run."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """A checkpoint file or name that does not resolve to a file."""


class SetupError(LitKGNSError, RuntimeError):
    """Pieces of a run that do not fit together (no sampler in the Trainer, no DataModule, ...)."""


class DivergedError(LitKGNSError, FloatingPointError):
    """Training or evaluation met a NaN or infinite loss or score: the weights diverged."""
