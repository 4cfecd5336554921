"""Metric names that survive the trackers' key rules."""

import re

import pytest

from lit_kgns.loggers import MLFlowLogger, mlflow_key

MLFLOW_KEY = re.compile(r"^[a-zA-Z0-9_\-./: ]+$")  # MLflow's rule for metric keys
NAMES = ["train/loss", "val/mrr", "test/hits@1", "test/hits@10", "test/hits@10_50", "test/grail_nell_v1/hits@3"]


def test_every_metric_name_becomes_a_distinct_mlflow_key() -> None:
    keys = [mlflow_key(name) for name in NAMES]
    assert all(MLFLOW_KEY.match(key) for key in keys)
    assert len(set(keys)) == len(keys)  # no two metrics collapse into one key
    assert keys[3:5] == ["test/hits_at_10", "test/hits_at_10_50"]
    assert mlflow_key("val/mrr") == "val/mrr"


def test_the_logger_passes_renamed_metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    received = {}

    def parent_log_metrics(self, metrics, step=None):
        received.update(metrics)

    monkeypatch.setattr("pytorch_lightning.loggers.MLFlowLogger.log_metrics", parent_log_metrics)
    logger = object.__new__(MLFlowLogger)  # no MLflow server or package needed to check the names
    MLFlowLogger.log_metrics(logger, {"test/hits@10": 0.5, "val/mrr": 0.25})
    assert received == {"test/hits_at_10": 0.5, "val/mrr": 0.25}
