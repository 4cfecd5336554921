"""Checks of option values shared by the components' constructors (the CLI checks them too, from the type hints)."""

from __future__ import annotations

from typing import Any, get_args

from lit_kgns.errors import ConfigError


def check_choice(name: str, value: object, choices: Any) -> None:
    """Raise unless ``value`` is one of the ``Literal`` ``choices``, naming the option and listing them."""
    allowed = get_args(choices)
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def check_period(name: str, value: int | None) -> None:
    """Raise unless ``value`` is ``None`` (never) or a positive number of steps or epochs."""
    if value is not None and (isinstance(value, bool) or value < 1):
        raise ConfigError(f"{name} must be a positive integer or null (never), got {value}")


def check_positive(name: str, value: int) -> None:
    """Raise unless ``value`` is a positive integer (a size: ``dim``, a number of layers)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
