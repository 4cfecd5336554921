"""The documentation: README.md as the front door, every documented shell command run, parsed or skipped for a
stated reason, the generated results pages equal to what their CSVs give, and a site that builds without warnings.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCUMENTS = [README, *sorted((REPO / "docs").rglob("*.md"))]
SETUP_COMMANDS = (
    "pip install torch==2.13.0 && pip install -e . && lit-kgns fit -c configs/quickstart.yaml",
    'pip install torch==2.13.0 && pip install -e ".[dev]" && python -m pytest',
)
RUN_TIMEOUT = 120  # seconds per command run as written

# Short commands, run as written from the repository root (they write nothing).
RUN = {
    "lit-kgns --help",
    "lit-kgns fit --help",
    "lit-kgns-run-many --help",
    "lit-kgns-tune --help",
    "lit-kgns-export --help",
    "lit-kgns fit -c configs/quickstart.yaml --print_config",
    'python -c "from lit_kgns.data.catalog import available_datasets; print(available_datasets())"',
}
# Commands neither run nor parsed here, and why. ``lit-kgns``, ``lit-kgns-run-many`` and ``lit-kgns-tune``
# commands not listed are parsed: their config files must exist and the CLI must accept their options.
SKIPPED = {
    SETUP_COMMANDS[0]: "installs packages, then minutes of training (tests/test_cli.py runs this config for one batch)",
    SETUP_COMMANDS[1]: "installs packages, then the whole test suite",
    "printf 'usa\\tembassy\\t?\\n?\\tembassy\\tusa\\n' > questions.tsv": "writes a file into the working folder",
    "lit-kgns-export runs/transe_nations/lightning_logs/version_0/checkpoints/last.ckpt "
    "--output_dir runs/transe_nations/embeddings": "needs the checkpoint of a training run",
    "mlflow ui --backend-store-uri sqlite:///runs/mlflow.db": "starts a server",
    "tensorboard --logdir runs/": "starts a server",
    'GRAPHS="grail_fb237_v1 grail_fb237_v2 grail_fb237_v3 grail_fb237_v4 grail_wn18rr_v1 grail_wn18rr_v2 '
    "grail_wn18rr_v3 grail_wn18rr_v4 grail_nell_v1 grail_nell_v2 grail_nell_v3 grail_nell_v4 hm_1k hm_3k "
    "ilpc2022_small ingram_nl_0 ingram_nl_25 ingram_nl_50 ingram_nl_75 ingram_nl_100 ingram_wk_25 ingram_wk_75 "
    "mtdea_metafam mtdea_fbnell mtdea_wikitopics_mt4_sci mtdea_wikitopics_mt4_health ingram_wk_50 "
    'mtdea_wikitopics_mt3_infra ingram_wk_100 codex-s wd-singer nell23k hm_5k mtdea_wikitopics_mt3_art"': (
        "a shell variable for the next command"
    ),
    "lit-kgns-run-many --configs configs/zero_shot/{ultra_3g,ultra_4g,trix,motif,semma}.yaml --datasets $GRAPHS "
    "--mode zero_shot --data-root ../shared/data --out benchmarks/results/zero_shot_offline": (
        "hours of zero-shot evaluation over the offline benchmark copies, into the committed results"
    ),
    "python benchmarks/kmas_leak_free.py --datasets grail_nell_v2 ingram_nl_25 --ablation all --seeds 1 2 3 4 5 "
    "--jobs 2 --out benchmarks/results/kmas_leak_free": "hours of fine-tuning, into the committed results",
    "python benchmarks/kmas_curves.py benchmarks/results/kmas_leak_free --arms strict_uniform_t0 kmas_paper_t0 "
    "kmas_paper": "rewrites the committed figure of the curves",
}
# subcommand options the parse-only parser does not know (it parses the config, not the subcommand's call)
SUBCOMMAND_OPTIONS = {"--ckpt_path", "--weights_only", "--verbose", "--return_predictions"}


@dataclass(frozen=True)
class Command:
    text: str  # as written, comments and line continuations removed
    where: str  # file:line

    @property
    def key(self) -> str:
        return " ".join(self.text.split())


def bash_blocks(path: Path) -> list[tuple[int, list[str]]]:
    """``(first line, lines)`` of every fenced ``bash`` block of a Markdown file (indented ones included)."""
    blocks, lines = [], path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^(\s*)```bash\s*$", lines[index])
        index += 1
        if not opening:
            continue
        indent, body, start = opening[1], [], index + 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index])
            index += 1
        blocks.append((start, body))
        index += 1
    return blocks


def without_comment(line: str) -> str:
    """``line`` without a trailing ``# comment`` (a ``#`` outside quotes, after a space or at the start)."""
    quote = None
    for position, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or line[position - 1].isspace()):
            return line[:position].rstrip()
    return line.rstrip()


def commands(path: Path) -> list[Command]:
    """The shell commands of a Markdown file's ``bash`` blocks: continuation lines joined, comments dropped,
    a quoted string that spans lines kept whole."""
    found = []
    for start, body in bash_blocks(path):
        pending, first = "", start
        for offset, raw in enumerate(body):
            line = raw if pending and pending.count('"') % 2 else without_comment(raw)
            if not pending:
                first = start + offset
                if not line.strip():
                    continue
            pending += ("\n" if pending else "") + line
            if pending.endswith("\\"):
                pending = pending[:-1].rstrip() + " "
                continue
            if pending.count('"') % 2:  # a quoted string goes on
                continue
            found.append(Command(pending.strip(), f"{path.relative_to(REPO)}:{first}"))
            pending = ""
        assert not pending, f"{path.relative_to(REPO)}:{first}: a command is cut off at the end of its block"
    return found


def all_commands() -> list[Command]:
    return [command for document in DOCUMENTS for command in commands(document)]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_pages", REPO / "docs" / "gen_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------------------------
# (a) README.md


def test_readme_is_short_and_keeps_the_setup_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 200, f"README.md has {len(lines)} lines: move sections into docs/"
    keys = {command.key for command in commands(README)}
    for setup in SETUP_COMMANDS:
        assert setup in keys, f"README.md lost its set-up command {setup!r} (in a bash block, verbatim)"


def test_readme_links_exist() -> None:
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" not in target:
            assert (REPO / target).exists(), f"README.md links to {target}, which does not exist"


# ---------------------------------------------------------------------------------------------------------------
# (b) every documented command: run, parsed or skipped for a reason


def test_every_command_is_run_parsed_or_skipped() -> None:
    """A command neither in RUN nor SKIPPED must be one the CLI can parse; RUN and SKIPPED list no stale ones."""
    found = all_commands()
    keys = {command.key for command in found}
    parsed_prefixes = ("lit-kgns ", "lit-kgns-run-many ", "lit-kgns-tune ")
    unknown = [
        f"{command.where}: {command.key}"
        for command in found
        if command.key not in RUN and command.key not in SKIPPED and not command.key.startswith(parsed_prefixes)
    ]
    assert not unknown, "commands neither run, parsed nor in SKIPPED (say why) in tests/test_docs.py:\n" + "\n".join(
        unknown
    )
    stale = sorted((RUN | set(SKIPPED)) - keys)
    assert not stale, f"RUN / SKIPPED list commands no document has any more: {stale}"


def _environment(home: Path) -> dict[str, str]:
    """The commands' environment: HOME in a temporary folder, this interpreter's scripts first on PATH."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "HOME": str(home), "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}


@pytest.mark.slow
def test_short_commands_run_as_written(tmp_path: Path) -> None:
    """The commands of RUN, from the repository root; every option the command-line reference lists for a
    command is one its ``--help`` prints."""
    environment = _environment(tmp_path)

    def run(key: str) -> tuple[str, subprocess.CompletedProcess]:
        result = subprocess.run(
            ["bash", "-c", key], cwd=REPO, env=environment, capture_output=True, text=True, timeout=RUN_TIMEOUT
        )
        return key, result

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(pool.map(run, sorted(RUN)))
    for key, result in results.items():
        assert result.returncode == 0, f"{key!r} exited {result.returncode}:\n{result.stderr[-2000:]}"
    assert "umls" in results[next(key for key in RUN if "available_datasets" in key)].stdout
    for command, options in documented_options().items():
        live = results.get(f"{command} --help")
        if live is None:
            continue
        missing = [option for option in options if option not in live.stdout]
        assert not missing, f"docs/reference/cli.md lists {missing} for {command}, which --help no longer prints"
    git_status = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True)
    assert "questions.tsv" not in git_status.stdout


def documented_options() -> dict[str, list[str]]:
    """Per command section of the command-line reference, the options (first token) its tables list."""
    options: dict[str, list[str]] = {}
    section = None
    for line in (REPO / "docs" / "reference" / "cli.md").read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## `([^`]+)`", line)
        if heading:
            section = heading[1]
            options[section] = []
        cell = re.match(r"^\| `(-[^` ]+)", line)
        if section and cell:
            options[section].append(cell[1].rstrip(","))
    return options


def test_lit_kgns_commands_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every documented ``lit-kgns`` command not run or skipped: its ``-c`` files exist and the CLI accepts its
    options (without loading data or building a model); run-many's configs and datasets exist; a tuning study's
    keys parse."""
    from lit_kgns.cli import parse_only

    monkeypatch.setattr(sys, "argv", ["lit-kgns"])  # the parser reads its arguments, not pytest's
    for command in all_commands():
        if command.key in RUN or command.key in SKIPPED:
            continue
        tokens = shlex.split(command.text, comments=True)
        try:
            if tokens[:2] == ["lit-kgns", "download"]:
                check_download(tokens[2:])
            elif tokens[0] == "lit-kgns":
                check_lit_kgns(tokens[2:], parse_only)
            elif tokens[0] == "lit-kgns-run-many":
                check_run_many(tokens[1:], parse_only)
            elif tokens[0] == "lit-kgns-tune":
                check_tune(tokens[1:])
        except Exception as error:  # the command and its place say more than a traceback
            pytest.fail(f"{command.where}: {command.key}\n  {type(error).__name__}: {error}")


def check_lit_kgns(arguments: list[str], parse_only: Callable[[list[str]], object]) -> None:
    """The ``-c`` files of a ``lit-kgns`` call exist and its options parse (subcommand-only ones left out)."""
    kept, skip = [], False
    for index, argument in enumerate(arguments):
        if skip:
            skip = False
            continue
        name = argument.split("=", 1)[0]
        if name in SUBCOMMAND_OPTIONS:
            skip = "=" not in argument and index + 1 < len(arguments)
            continue
        if argument != "--print_config":
            kept.append(argument)
    for index, argument in enumerate(kept):
        if argument in ("-c", "--config"):
            assert (REPO / kept[index + 1]).is_file(), f"no config file {kept[index + 1]}"
    parse_only(kept)


def check_download(arguments: list[str]) -> None:
    """A download call names known items and known options (nothing is fetched)."""
    from lit_kgns.commands import download

    values = [argument for argument in arguments if not argument.startswith("--")]
    names = [name for name in values if arguments[arguments.index(name) - 1] != "--root"]
    assert {argument for argument in arguments if argument.startswith("--")} <= {"--root", "--list"}
    download.items_of(names, REPO)


def check_run_many(arguments: list[str], parse_only: Callable[[list[str]], object]) -> None:
    """A run-many call's configs parse, its datasets are groups, folders or catalog names, its options known."""
    from lit_kgns.data.catalog import get_entry
    from lit_kgns.data.groups import GROUPS

    own = arguments[: arguments.index("--")] if "--" in arguments else arguments
    values: dict[str, list[str]] = {}
    for argument in own:
        if argument.startswith("--"):
            current = values.setdefault(argument, [])
        else:
            current.append(argument)
    assert values.get("--configs") and values.get("--datasets"), "run-many needs --configs and --datasets"
    for config in values["--configs"]:
        assert (REPO / config).is_file(), f"no config file {config}"
        parse_only(["-c", config])
    for dataset in values["--datasets"]:
        if dataset not in GROUPS and not (REPO / dataset).is_dir():
            get_entry(dataset)
    assert set(values) <= {"--configs", "--datasets", "--mode", "--seeds", "--data-root", "--out", "--jobs"}


def check_tune(arguments: list[str]) -> None:
    """A tuning call's study file exists and its keys parse; its options are known."""
    import yaml

    from lit_kgns.commands.tuning import check_study_keys

    study = REPO / arguments[0]
    assert study.is_file(), f"no study file {arguments[0]}"
    check_study_keys(yaml.safe_load(study.read_text(encoding="utf-8")), study)
    assert set(arguments[1::2]) <= {"--out", "--n-trials"}


# ---------------------------------------------------------------------------------------------------------------
# (c) the generated results pages and figures, from the committed CSVs


def test_generated_pages_equal_their_sources(tmp_path: Path) -> None:
    generator = load_generator()
    pages = generator.generate()
    for path, content in pages.items():  # written out as well, so that a failure can be looked at
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(content)
    stale = generator.stale(pages)
    assert not stale, (
        f"docs/{', docs/'.join(stale)} differ from what the CSVs and the catalog give (regenerated in {tmp_path}): "
        "run python docs/gen_pages.py"
    )


def test_generated_pages_are_shown() -> None:
    """Every generated fragment and figure is included by a page (a file no page shows would drift unseen)."""
    generator = load_generator()
    text = "\n".join(document.read_text(encoding="utf-8") for document in DOCUMENTS)
    for path in generator.generate():
        if path.startswith(("generated/", "img/")):
            assert path in text, f"docs/{path} is generated but no page shows it"


# ---------------------------------------------------------------------------------------------------------------
# (d) the site


def test_site_builds_strict(tmp_path: Path) -> None:
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            pytest.skip(f"{module} is not installed: pip install -e '.[docs]' to build the site")
    environment = {**_environment(tmp_path), "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")]
    result = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-4000:]}"
    assert (tmp_path / "site" / "results" / "kmas" / "index.html").is_file()
