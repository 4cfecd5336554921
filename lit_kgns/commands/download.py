"""``lit-kgns download``: fetch datasets, released checkpoints and text encoders ahead of time, for compute nodes
without internet.

    lit-kgns download inductive_e ultra_3g trix --root /shared/kg-data
    lit-kgns download all checkpoints hf://sentence-transformers/all-MiniLM-L6-v2
    lit-kgns download --list --root /shared/kg-data

Names are catalog datasets (``fb15k-237``), dataset groups (``transductive``, ``inductive_e``, ``inductive_er``,
``all``), released checkpoints (``ultra_3g``, ...; ``checkpoints`` for every one) and Hugging Face Hub models
(``hf://<owner>/<repo>``, into the Hub cache, as SEMMA's text encoder and Hub checkpoints load them). Each item is
fetched as loading would fetch it, verified the same way (checksums pinned in the catalog, trust on first use
where no checksum is published), under the data root's lock; an item already complete is not fetched again, and
a run that stops part-way resumes at the first missing file. One line per item as it goes, then a summary of
what is where; the exit status is 1 if any item failed. ``--list`` shows what the data root holds and whether
each item is complete, without downloading.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lit_kgns.backbones.checkpoints import HUB, PRETRAINED, hub_snapshot, released_checkpoint
from lit_kgns.data.catalog import available_datasets, dataset_folder, get_entry
from lit_kgns.data.download import sha256_of
from lit_kgns.data.groups import GROUPS, expand_groups
from lit_kgns.data.root import resolve_data_root
from lit_kgns.errors import LitKGNSError

CHECKPOINTS = "checkpoints"


@dataclass
class Item:
    """One thing to fetch: its name, its kind and how to fetch it (returning where it is)."""

    name: str
    kind: str  # dataset, checkpoint or hub model
    fetch: Callable[[], Path]


@dataclass
class Outcome:
    item: Item
    status: str  # present, downloaded or failed
    where: str  # the path, or why it failed
    seconds: float


def items_of(names: Sequence[str], root: Path) -> list[Item]:
    """The items ``names`` stand for, each once, in order; an unknown name is an error naming the known ones."""
    items: dict[str, Item] = {}
    for name in names:
        if name == CHECKPOINTS:
            items.update({checkpoint: _checkpoint(checkpoint, root) for checkpoint in PRETRAINED})
        elif name in PRETRAINED:
            items[name] = _checkpoint(name, root)
        elif name.startswith(HUB):
            items[name] = _hub_model(name)
        elif (name in GROUPS and name != "offline") or _is_dataset(name):
            items.update({dataset: _dataset(dataset, root) for dataset in expand_groups([name], root)})
        else:
            known = f"groups {', '.join(group for group in GROUPS if group != 'offline')}, {CHECKPOINTS}"
            raise LitKGNSError(
                f"download: {name!r} is neither a dataset, a group, a released checkpoint nor an {HUB}<owner>/<repo> "
                f"model (datasets: lit-kgns download --list; {known}; checkpoints {', '.join(PRETRAINED)})"
            )
    return list(items.values())


def _checkpoint(name: str, root: Path) -> Item:
    return Item(name, "checkpoint", lambda: released_checkpoint(name, root))


def _dataset(name: str, root: Path) -> Item:
    return Item(name, "dataset", lambda: dataset_folder(name, root))


def _hub_model(name: str) -> Item:
    return Item(name, "hub model", lambda: hub_snapshot(name[len(HUB) :]))


def _is_dataset(name: str) -> bool:
    try:
        get_entry(name)
    except LitKGNSError:
        return False
    return True


def fetch_all(items: list[Item], root: Path, out: Callable[[str], None] = print) -> list[Outcome]:
    """Fetch every item (a failure does not stop the others), reporting one line per item."""
    outcomes = []
    for number, item in enumerate(items, start=1):
        present = is_complete(item, root)
        start = time.perf_counter()
        try:
            where = str(item.fetch())
            status = "present" if present else "downloaded"
        except LitKGNSError as error:
            where, status = error.message(), "failed"
        seconds = time.perf_counter() - start
        outcomes.append(Outcome(item, status, where, seconds))
        out(f"[{number}/{len(items)}] {item.kind} {item.name}: {status} ({seconds:.1f} s)")
    return outcomes


def is_complete(item: Item, root: Path) -> bool:
    """Whether ``item`` is already where loading looks for it, whole (checkpoints: their sha256 checked)."""
    if item.kind == "checkpoint":
        path = root / PRETRAINED[item.name].relative_path
        return path.is_file() and sha256_of(path) == PRETRAINED[item.name].sha256
    if item.kind == "dataset":
        entry = get_entry(item.name)
        return all((root / entry.folder / file.local).is_file() for file in entry.files)
    return False  # Hub models: the Hub cache decides


def summary(outcomes: list[Outcome], root: Path) -> str:
    lines = [f"data root: {root}", "", "| item | kind | status | where |", "| --- | --- | --- | --- |"]
    lines += [f"| {o.item.name} | {o.item.kind} | {o.status} | {o.where} |" for o in outcomes]
    counts = {status: sum(o.status == status for o in outcomes) for status in ("present", "downloaded", "failed")}
    lines += ["", ", ".join(f"{count} {status}" for status, count in counts.items() if count)]
    return "\n".join(lines)


def listing(root: Path) -> str:
    """Every dataset and released checkpoint, and whether the data root holds it whole."""
    items = items_of([*available_datasets(), CHECKPOINTS], root)
    lines = [f"data root: {root}", "", "| item | kind | complete |", "| --- | --- | --- |"]
    lines += [f"| {item.name} | {item.kind} | {'yes' if is_complete(item, root) else 'no'} |" for item in items]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="lit-kgns download", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="datasets, groups, checkpoint names, checkpoints, hf://owner/repo")
    parser.add_argument("--root", default=None, help="the data root (default: $LIT_KGNS_DATA, else the user cache)")
    parser.add_argument("--list", action="store_true", help="show what the data root holds; download nothing")
    args = parser.parse_args(argv)
    root = resolve_data_root(args.root)
    try:
        if args.list:
            print(listing(root))
            return
        if not args.names:
            parser.error("name at least one dataset, group or checkpoint (or --list)")
        outcomes = fetch_all(items_of(args.names, root), root)
    except LitKGNSError as error:
        sys.stderr.write(f"lit-kgns download: error: {error.message()}\n")
        raise SystemExit(1) from None
    print()
    print(summary(outcomes, root))
    if any(outcome.status == "failed" for outcome in outcomes):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
