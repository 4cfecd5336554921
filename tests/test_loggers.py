"""The experiment trackers: metric names that survive their key rules, and real runs into a local MLflow store and
an offline W&B run, as the configs in configs/loggers/ set them up."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from lit_kgns.cli import cli_main, main
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


REPO = Path(__file__).resolve().parents[1]
TINY = [
    "--data.dataset=nations",
    "--trainer.max_epochs=1",
    "--data.batches_per_epoch=2",
    "--trainer.limit_val_batches=1",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--model.backbone.init_args.dim=8",
    "--model.backbone.init_args.num_relation_layers=1",
    "--model.backbone.init_args.num_entity_layers=1",
    "--sampler.init_args.num_negatives=4",
]


def fit_with(logger_config: str, tmp_path: Path, *extra: str) -> dict[str, float]:
    configs = ["-c", str(REPO / "configs/quickstart.yaml"), "-c", str(REPO / "configs/loggers" / logger_config)]
    cli = cli_main(["fit", *configs, *TINY, f"--trainer.default_root_dir={tmp_path}", *extra])
    return {name: float(value) for name, value in cli.trainer.callback_metrics.items()}


def test_the_mlflow_config_logs_into_a_sqlite_store_read_back_by_mlflow(tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    store = f"sqlite:///{tmp_path}/nested/mlflow.db"  # the config's store, under tmp_path; its folder is made
    local = f"--trainer.logger.init_args.save_dir={tmp_path}"  # the config's runs/mlflow, for config and checkpoints
    logged = fit_with("mlflow.yaml", tmp_path, f"--trainer.logger.init_args.tracking_uri={store}", local)
    client = mlflow.tracking.MlflowClient(tracking_uri=store)
    (run,) = client.search_runs([client.get_experiment_by_name("lit_kgns").experiment_id])
    assert run.data.metrics["test/mrr"] == pytest.approx(logged["test/mrr"])
    assert run.data.metrics["test/hits_at_10"] == pytest.approx(logged["test/hits@10"])
    assert any("Ultra" in value for value in run.data.params.values()), run.data.params


def test_the_wandb_config_runs_offline_and_keeps_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wandb = pytest.importorskip("wandb", reason="the wandb extra is not installed")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    logged = fit_with("wandb.yaml", tmp_path, f"--trainer.logger.init_args.save_dir={tmp_path}")
    wandb.finish()  # what the end of a lit-kgns process does
    (run,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")  # what `wandb sync` uploads later
    # the run file is protobuf records; a logged value follows its key as JSON text
    value = re.search(rb"test/mrr[^0-9]{1,4}([0-9.eE+-]+)", run.read_bytes())
    assert value is not None and float(value.group(1)) == pytest.approx(logged["test/mrr"])


@pytest.mark.parametrize(("config", "extra"), [("mlflow.yaml", "mlflow"), ("wandb.yaml", "wandb")])
def test_a_missing_tracker_is_one_line_naming_the_install(
    config: str, extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == extra else real_find_spec(name, *a)
    )
    configs = ["-c", str(REPO / "configs/quickstart.yaml"), "-c", str(REPO / "configs/loggers" / config)]
    monkeypatch.setattr(sys, "argv", ["lit-kgns", "fit", *configs, *TINY, f"--trainer.default_root_dir={tmp_path}"])
    with pytest.raises(SystemExit) as stopped:
        main()
    error = capsys.readouterr().err
    assert stopped.value.code == 1 and len(error.strip().splitlines()) == 2
    assert error.startswith(
        f"lit-kgns: error: this logger needs {extra}, which is not installed: pip install -e '.[{extra}]'"
    )
