"""Two CPU processes (gloo): evaluation equals the single-process one, training shards and resumes.

In-process runs use ``ddp_spawn`` with a clean environment; the ``ddp`` launcher is exercised through a
subprocess, since it re-runs the command line per rank. That every rank builds the same sampler caches and
draws other negatives is checked in process, for every sampler, by the sampler contract.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from toy_graphs import typed_dataset

from lit_kgns.backbones import Ultra
from lit_kgns.breakdowns import MetricBreakdown
from lit_kgns.data.batches import UnpaddedDistributedSampler
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.evaluation_queries import EvaluationQueries
from lit_kgns.data.graph import LinkPredictionSplit
from lit_kgns.module import KGLinkPrediction

REPO = Path(__file__).resolve().parents[2]
DDP_ENV = ("MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "RANK", "GROUP_RANK")


@pytest.fixture
def clean_env(monkeypatch):
    for key in DDP_ENV:
        monkeypatch.delenv(key, raising=False)


def test_unpadded_sampler_covers_every_item_once():
    dataset = list(range(11))
    shards = [list(UnpaddedDistributedSampler(dataset, num_replicas=3, rank=rank)) for rank in range(3)]
    assert sorted(item for shard in shards for item in shard) == dataset
    assert [len(shard) for shard in shards] == [4, 4, 3]


def test_a_rank_without_items_gets_the_placeholder_only_if_given():
    assert [list(UnpaddedDistributedSampler([7], num_replicas=2, rank=rank)) for rank in range(2)] == [[0], []]
    shards = [list(UnpaddedDistributedSampler([7], num_replicas=2, rank=rank, placeholder=-1)) for rank in range(2)]
    assert shards == [[0], [-1]]
    batch = EvaluationQueries(torch.tensor([(0, 1, 2)])).collate([-1])
    assert len(batch.anchors) == 1 and len(batch) == 0  # scored, never ranked


def one_query_datamodule() -> KGDataModule:
    """The toy graph with a single test triple, ranked on its tail only: one query for two ranks."""
    dataset = typed_dataset()
    one = dataset.test.targets[:1]
    dataset.test = LinkPredictionSplit("typed/test", dataset.test.graph, one, dataset.test.filter_triples)
    return KGDataModule.from_datasets([dataset], eval_directions="tail")


@pytest.mark.slow
def test_two_ranks_and_one_query_rank_it_once(tmp_path, clean_env):
    single = trainer(tmp_path / "one", 1)
    single.test(small_module(), datamodule=one_query_datamodule())
    double = trainer(tmp_path / "two", 2)
    double.test(small_module(), datamodule=one_query_datamodule())
    assert float(double.callback_metrics["test/num_queries"]) == float(single.callback_metrics["test/num_queries"]) == 1
    assert float(double.callback_metrics["test/mrr"]) == pytest.approx(float(single.callback_metrics["test/mrr"]))


def small_module(seed: int = 0) -> KGLinkPrediction:
    torch.manual_seed(seed)
    return KGLinkPrediction(Ultra(dim=8, num_relation_layers=2, num_entity_layers=2))


def trainer(tmp_path: Path, devices: int, **kwargs) -> pl.Trainer:
    return pl.Trainer(
        accelerator="cpu",
        devices=devices,
        strategy="ddp_spawn" if devices > 1 else "auto",
        default_root_dir=tmp_path,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kwargs,
    )


@pytest.mark.slow
def test_two_process_test_metrics_equal_single_process(tmp_path, clean_env):
    # 201 test triples, their distinct queries in batches of 16: the two shards are uneven and nothing is padded;
    # each rank scores its own distinct queries and every triple is ranked once (both directions).
    datamodule = KGDataModule(test_datasets=["nations"], eval_batch_size=8)
    single = trainer(tmp_path / "one", 1, callbacks=[MetricBreakdown(str(tmp_path / "one"))])
    single.test(small_module(), datamodule=datamodule)
    double = trainer(tmp_path / "two", 2, callbacks=[MetricBreakdown(str(tmp_path / "two"))])
    double.test(small_module(), datamodule=KGDataModule(test_datasets=["nations"], eval_batch_size=8))
    for key in ("test/mrr", "test/mr", "test/hits@1", "test/hits@10"):
        assert float(double.callback_metrics[key]) == pytest.approx(float(single.callback_metrics[key]), rel=1e-6), key
    assert float(double.callback_metrics["test/num_queries"]) == float(single.callback_metrics["test/num_queries"])
    assert float(single.callback_metrics["test/num_queries"]) == 2 * 201
    # the breakdowns gather every rank's rows: the same table as one process
    tables = [list(csv.DictReader((tmp_path / run / "breakdown.csv").open())) for run in ("one", "two")]
    assert [(row["breakdown"], row["group"], row["num_queries"]) for row in tables[0]] == [
        (row["breakdown"], row["group"], row["num_queries"]) for row in tables[1]
    ]
    for one, two in zip(*tables, strict=True):
        assert float(two["mrr"]) == pytest.approx(float(one["mrr"]), rel=1e-6), one


@pytest.mark.slow
def test_ddp_launcher_fit_with_uneven_batches_and_resume(tmp_path, clean_env):
    """The real ``ddp`` launcher: 2 ranks, 7 batches per epoch (uneven), then resume from the last checkpoint."""
    env = {key: value for key, value in os.environ.items() if key not in DDP_ENV}
    common = [
        sys.executable,
        "-m",
        "lit_kgns",
        "fit",
        "-c",
        str(REPO / "configs/quickstart.yaml"),
        "--trainer.devices=2",
        "--trainer.strategy=ddp",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path}",
        "--trainer.logger=false",
        "--test_after_fit=false",
        "--model.backbone.init_args.dim=8",
        "--model.backbone.init_args.num_relation_layers=2",
        "--model.backbone.init_args.num_entity_layers=2",
        "--data.batches_per_epoch=7",
        "--trainer.limit_val_batches=2",
        "--sampler.init_args.num_negatives=8",
    ]
    first = subprocess.run([*common, "--trainer.max_epochs=1"], env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    checkpoint = tmp_path / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    assert state["global_step"] == 4  # ceil(7 / 2) batches per rank
    resumed = subprocess.run(
        [*common, "--trainer.max_epochs=2", f"--ckpt_path={checkpoint}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert torch.load(checkpoint, map_location="cpu", weights_only=False)["global_step"] == 8


@pytest.mark.slow
def test_two_nodes_of_one_process_each(tmp_path, clean_env):
    """Multi-node as Lightning sees it: two launches of the same command, one per "node", told their node
    rank and the master address through the environment (as a cluster scheduler would); they train as one
    2-rank run and test like one."""
    import socket

    with socket.socket() as probe:  # a free port for the rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = {key: value for key, value in os.environ.items() if key not in DDP_ENV}
    command = [
        sys.executable,
        "-m",
        "lit_kgns",
        "fit",
        "-c",
        str(REPO / "configs/quickstart.yaml"),
        "--trainer.num_nodes=2",
        "--trainer.devices=1",
        "--trainer.strategy=ddp",
        "--trainer.max_epochs=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path}",
        "--trainer.logger=false",
        "--model.backbone.init_args.dim=8",
        "--model.backbone.init_args.num_relation_layers=2",
        "--model.backbone.init_args.num_entity_layers=2",
        "--data.dataset=nations",
        "--data.batches_per_epoch=7",
        "--trainer.limit_val_batches=2",
        "--sampler.init_args.num_negatives=8",
    ]
    nodes = [
        subprocess.Popen(
            command,
            env={**base, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "NODE_RANK": str(rank)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    outputs = [node.communicate(timeout=600) for node in nodes]
    for node, (_, stderr) in zip(nodes, outputs, strict=True):
        assert node.returncode == 0, stderr[-3000:]
    assert (
        "GLOBAL_RANK: 1" in outputs[1][1] + outputs[1][0] or "global rank 1" in (outputs[1][1] + outputs[1][0]).lower()
    )
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert state["global_step"] == 4  # ceil(7 / 2) batches per rank: the two nodes shared the epoch
    counted = [line for line in outputs[0][0].splitlines() if "test/num_queries" in line]
    assert counted and float(counted[0].split("│")[2]) == 2 * 201  # each Nations test query ranked once
