"""Config files as a user writes them: errors that name the file, the line and the key.

jsonargparse checks every value against the option's type but names neither the file a bad value came
from nor its line, and prints its whole usage first; PyYAML keeps the last of two equal keys silently.
"""

from __future__ import annotations

import itertools
import re
from argparse import ArgumentError
from pathlib import Path
from typing import Any

import yaml

from lit_kgns.errors import ConfigError


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(key, line, first)
        self.key, self.line, self.first = key, line, first


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping holding the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in lines and key != "<<":
                raise _DuplicateKey(key, line, lines[key])
            lines[key] = line
        return super().construct_mapping(node, deep=deep)


def config_paths(argv: list[str]) -> list[Path]:
    """The ``-c`` / ``--config`` files of a command line, in order."""
    paths = [value for flag, value in itertools.pairwise(argv) if flag in ("-c", "--config")]
    paths += [argument.split("=", 1)[1] for argument in argv if argument.startswith("--config=")]
    return list(map(Path, paths))


def check_config_files(argv: list[str]) -> None:
    """Each ``-c`` / ``--config`` file exists, is YAML and states each key once; errors name the file and
    line (jsonargparse's own message names neither)."""
    for path in config_paths(argv):
        read_config(path)


def read_config(path: Path) -> Any:
    """The content of the YAML file ``path``, read strictly: a missing file, invalid YAML or a key given twice
    is a :class:`ConfigError` naming the file and line."""
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except _DuplicateKey as duplicate:
        raise ConfigError(
            f"{path}:{duplicate.line}: key {duplicate.key!r} is given twice (first on line {duplicate.first}); "
            "YAML would keep the last one silently: keep one"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from error


def key_line(path: Path, dotted: str) -> int | None:
    """The line of ``dotted`` (``trainer.max_epochs``) in the YAML file ``path``, or ``None`` if absent."""
    node = yaml.compose(path.read_text(encoding="utf-8"))
    line = None
    for part in dotted.split("."):
        if not isinstance(node, yaml.MappingNode):
            return None
        found = [(key, value) for key, value in node.value if key.value == part]
        if not found:
            return None
        line, node = found[-1][0].start_mark.line + 1, found[-1][1]
    return line


def describe_parse_error(error: ArgumentError, argv: list[str]) -> str:
    """jsonargparse's refusal in a few lines, led by ``file:line:`` when a ``-c`` file set the key."""
    message = str(error).strip()
    match = re.match(r'Parser key "([^"]+)":\s*', message) or re.search(r"does not accept option '([^']+)'", message)
    if match is None:
        return " ".join(line.strip() for line in message.splitlines()[:4])
    key = match.group(1)
    expected = re.findall(r"Expected an? (?:<class '([\w.]+)'>|(\S+))", message)
    given = re.search(r"Given value: (.*)", message)
    if expected and given:
        types = " or ".join(dict.fromkeys(name or other for name, other in expected))
        problem = f"expected {types}, got {given.group(1)!r}"
    elif message.startswith("Parser key"):
        problem = " ".join(line.strip() for line in message[match.end() :].splitlines()[:3])
    else:
        problem = "no such option"
    return f"{where_set(key, argv)}: {problem}"


def where_set(key: str, argv: list[str]) -> str:
    """``--key`` when the command line sets ``key``, else ``file:line: key`` of the last ``-c`` file that
    does (the last one wins, as in jsonargparse)."""
    if any(argument == f"--{key}" or argument.startswith(f"--{key}=") for argument in argv):
        return f"--{key}"
    for path in reversed(config_paths(argv)):
        line = key_line(path, key) if path.is_file() else None
        if line is not None:
            return f"{path}:{line}: {key}"
    return key
