"""The ``lit-kgns`` console command: ``download`` (:mod:`lit_kgns.commands.download`) beside the LightningCLI
subcommands ``fit``, ``validate``, ``test`` and ``predict`` (:func:`lit_kgns.cli.main`)."""

from __future__ import annotations

import sys

from lit_kgns import cli
from lit_kgns.commands import download

DOWNLOAD_HELP = "download: fetch datasets and checkpoints ahead of time (lit-kgns download --help)"


def main() -> None:
    if sys.argv[1:2] == ["download"]:
        download.main(sys.argv[2:])
        return
    try:
        cli.main()
    except SystemExit:
        if sys.argv[1:] in (["--help"], ["-h"]):  # the subcommands Lightning lists, and the one it cannot
            print(f"\nalso:\n  {DOWNLOAD_HELP}")
        raise
