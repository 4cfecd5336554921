"""One download per data root: processes that start together on an empty root (DDP ranks on a first run,
run-many jobs, two runs) fetch each file once, and each ends with the same verified files."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lit_kgns.data import catalog
from lit_kgns.data.catalog import get_entry
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.locks import LOCK_FILE

DDP_ENV = ("MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "RANK", "GROUP_RANK")

TRIPLES = {
    "train.triples": b"a\tb\tr\nb\tc\tr\nc\ta\ts\n",
    "dev.triples": b"a\tc\tr\n",
    "test.triples": b"b\ta\ts\n",
}
CHECKPOINT = b"released weights"

# each process registers the served copies under the real names, then asks for them as a run would
PROCESS = """
import dataclasses, hashlib, json, sys
from pathlib import Path
from lit_kgns.backbones import checkpoints
from lit_kgns.data import catalog
setup = json.loads(sys.argv[1])
entry = catalog.get_entry("fb15k-237-20")
files = tuple(dataclasses.replace(file, remote="slow/" + file.remote, git_blob=setup["blobs"][file.local])
              for file in entry.files)
catalog.DATASETS[entry.name] = dataclasses.replace(entry, base_url=setup["url"], files=files)
checkpoints.PRETRAINED["ultra_3g"] = checkpoints.PretrainedCheckpoint(
    "ultra_ckpts/ultra_3g.pth", setup["url"] + "slow/ultra_3g.pth", setup["checkpoint_sha256"])
folder = catalog.dataset_folder("fb15k-237-20", setup["root"])
weights = checkpoints.checkpoint_path("ultra_3g", setup["root"])
print(json.dumps({path.name: hashlib.sha256(path.read_bytes()).hexdigest()
                  for path in [*sorted(folder.iterdir()), weights]}))
"""


def blob(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def test_processes_starting_together_on_an_empty_root_download_each_file_once(local_server, tmp_path: Path) -> None:
    entry = get_entry("fb15k-237-20")
    for file in entry.files:
        local_server.put(file.remote, TRIPLES[file.local])
    local_server.put("ultra_3g.pth", CHECKPOINT)
    root = tmp_path / "root"
    setup = {
        "url": local_server.url,
        "root": str(root),
        "blobs": {name: blob(content) for name, content in TRIPLES.items()},
        "checkpoint_sha256": hashlib.sha256(CHECKPOINT).hexdigest(),
    }
    command = [sys.executable, "-c", PROCESS, json.dumps(setup)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert all(process.returncode == 0 for process in processes), [error[-2000:] for _, error in outputs]
    seen = [json.loads(out) for out, _ in outputs]
    expected = {name: hashlib.sha256(content).hexdigest() for name, content in TRIPLES.items()}
    expected["ultra_3g.pth"] = hashlib.sha256(CHECKPOINT).hexdigest()
    assert seen == [expected] * 4
    served = [f"/slow/{file.remote}" for file in entry.files] + ["/slow/ultra_3g.pth"]
    assert {path: local_server.requests[path] for path in served} == dict.fromkeys(served, 1)
    assert sorted(path.name for path in root.iterdir()) == sorted([LOCK_FILE, "ultra_ckpts", entry.folder])


def test_prepare_data_downloads_what_setup_then_reads(
    local_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = get_entry("fb15k-237-20")
    files = tuple(dataclasses.replace(file, git_blob=blob(TRIPLES[file.local])) for file in entry.files)
    monkeypatch.setitem(
        catalog.DATASETS, entry.name, dataclasses.replace(entry, base_url=local_server.url, files=files)
    )
    for file in entry.files:
        local_server.put(file.remote, TRIPLES[file.local])
    datamodule = KGDataModule(dataset="fb15k-237-20", root=str(tmp_path / "root"), on_data_issue="ignore")
    datamodule.prepare_data()
    assert sum(local_server.requests.values()) == len(entry.files)
    datamodule.setup("fit")
    assert len(datamodule.train_splits[0].targets) == 3
    assert sum(local_server.requests.values()) == len(entry.files)  # setup found the files in place


def test_an_offline_checkpoint_names_the_data_root_and_leaves_no_folder(tmp_path: Path) -> None:
    from lit_kgns.backbones.checkpoints import PRETRAINED, PretrainedCheckpoint, checkpoint_path
    from lit_kgns.errors import CheckpointNotFoundError

    closed = "http://127.0.0.1:9/ultra_3g.pth"  # the discard port: refused at once, as offline
    root = tmp_path / "missing" / "root"
    original = PRETRAINED["ultra_3g"]
    PRETRAINED["ultra_3g"] = PretrainedCheckpoint(original.relative_path, closed, original.sha256)
    try:
        with pytest.raises(CheckpointNotFoundError, match=r"not under the data root .*--data\.root / \$LIT_KGNS_DATA"):
            checkpoint_path("ultra_3g", root)
    finally:
        PRETRAINED["ultra_3g"] = original
    assert list(tmp_path.iterdir()) == []


# a `lit-kgns` command whose catalog serves fb15k-237-20 from the loopback server; the ddp launcher starts the
# second rank by running this same script again, so both ranks see the same catalog
DDP_SCRIPT = """
import dataclasses, json, os, sys
from lit_kgns.data import catalog
setup = json.loads(os.environ["SERVED_CATALOG"])
entry = catalog.get_entry("fb15k-237-20")
files = tuple(dataclasses.replace(file, remote="slow/" + file.remote, git_blob=setup["blobs"][file.local])
              for file in entry.files)
catalog.DATASETS[entry.name] = dataclasses.replace(entry, base_url=setup["url"], files=files)
from lit_kgns.cli import main
main()
"""


@pytest.mark.slow
def test_a_first_run_on_two_ranks_downloads_each_file_once(local_server, tmp_path: Path) -> None:
    entry = get_entry("fb15k-237-20")
    # enough test queries (tail queries only here) that each rank has some to rank
    triples = {**TRIPLES, "test.triples": b"b\ta\ts\na\tc\tr\nc\tb\tr\na\tb\ts\n"}
    for file in entry.files:
        local_server.put(file.remote, triples[file.local])
    script = tmp_path / "served_catalog.py"
    script.write_text(DDP_SCRIPT)
    root = tmp_path / "root"
    served = {"url": local_server.url, "blobs": {name: blob(content) for name, content in triples.items()}}
    env = {key: value for key, value in os.environ.items() if key not in DDP_ENV}
    env["SERVED_CATALOG"] = json.dumps(served)
    command = [sys.executable, str(script), "test", "--data.dataset=fb15k-237-20", f"--data.root={root}"]
    command += ["--model.backbone=lit_kgns.backbones.DistMult", "--data.on_data_issue=ignore", "--threads=1"]
    command += ["--trainer.accelerator=cpu", "--trainer.devices=2", "--trainer.strategy=ddp", "--trainer.logger=false"]
    command += ["--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={tmp_path / 'run'}"]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "test/mrr" in finished.stdout
    paths = [f"/slow/{file.remote}" for file in entry.files]
    assert {path: local_server.requests[path] for path in paths} == dict.fromkeys(paths, 1)  # one download each
    folder = root / entry.folder
    assert {path.name: blob(path.read_bytes()) for path in folder.iterdir()} == served["blobs"]
