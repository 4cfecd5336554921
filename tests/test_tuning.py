"""lit-kgns-tune: an Optuna study over config keys, pruned on val/mrr, resumed after an interruption."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

optuna = pytest.importorskip("optuna", reason="the tune extra (optuna) is not installed")

from lit_kgns.commands import tuning  # noqa: E402
from lit_kgns.errors import ConfigError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def study_file(tmp_path: Path) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(
        f"""
study: {{name: tiny, storage: "sqlite:///{tmp_path}/studies.db", metric: val/mrr, n_trials: 3}}
configs: [{REPO / "configs/quickstart.yaml"}]
args: [--data.dataset=nations, --trainer.max_epochs=2, --data.batches_per_epoch=2, --trainer.limit_val_batches=1,
       --trainer.logger=false, --trainer.enable_progress_bar=false, --trainer.enable_model_summary=false,
       --model.backbone.init_args.dim=8, --model.backbone.init_args.num_relation_layers=1,
       --model.backbone.init_args.num_entity_layers=1, --sampler.init_args.num_negatives=4]
space:
  model.optimizer.init_args.lr: {{low: 0.001, high: 0.01, log: true}}
  sampler.init_args.num_negatives: {{choices: [4, 8]}}
"""
    )
    return path


def test_a_study_is_interrupted_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["lit-kgns-tune"])
    path = study_file(tmp_path)
    real_run_trial = tuning.run_trial

    def interrupted_second_trial(trial, study, out):
        if trial.number == 1:
            raise KeyboardInterrupt  # Ctrl-C during the second trial
        return real_run_trial(trial, study, out)

    monkeypatch.setattr(tuning, "run_trial", interrupted_second_trial)
    with pytest.raises(KeyboardInterrupt):
        tuning.tune(path, tmp_path / "runs")
    monkeypatch.setattr(tuning, "run_trial", real_run_trial)

    study = tuning.tune(path, tmp_path / "runs")  # the same command again
    states = [trial.state.name for trial in study.trials]
    assert states[0] == "COMPLETE" and states[1] == "FAIL"  # the interrupted one, marked on resume
    assert sum(state in ("COMPLETE", "PRUNED") for state in states) == 3 and len(states) == 4
    complete = [trial for trial in study.trials if trial.state.name == "COMPLETE"]
    for trial in complete:  # each trial ran the values it was given, and its value is what its run logged
        (run_dir,) = (tmp_path / "runs" / f"trial_{trial.number}").glob("**/config.yaml")
        saved = yaml.safe_load(run_dir.read_text())
        assert saved["model"]["optimizer"]["init_args"]["lr"] == trial.params["model.optimizer.init_args.lr"]
        assert saved["sampler"]["init_args"]["num_negatives"] == trial.params["sampler.init_args.num_negatives"]
    table = tuning.best_trials_table(study)
    best = max(complete, key=lambda trial: trial.value)
    assert table.splitlines()[2].startswith(f"| {best.number} | {best.value:.4f} |")
    assert "1 fail" in table


def test_a_space_entry_without_range_or_choices_is_named() -> None:
    trial = optuna.trial.FixedTrial({})
    with pytest.raises(ConfigError, match=r"space.model.x: expected"):
        tuning.suggest(trial, {"model.x": {"value": 3}})


def test_a_trial_that_diverges_fails_instead_of_scoring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """NaN scores would rank every answer first: such a trial once finished "with value 1.0, best"."""
    monkeypatch.setattr("sys.argv", ["lit-kgns-tune"])
    path = study_file(tmp_path)
    path.write_text(
        path.read_text()
        .replace("n_trials: 3", "n_trials: 1")
        .replace("{low: 0.001, high: 0.01, log: true}", "{choices: [1.0e+8]}")
    )
    study = tuning.tune(path, tmp_path / "runs")
    (trial,) = study.trials
    assert trial.state.name == "FAIL" and trial.value is None
    assert "diverged" in trial.user_attrs["diverged"] and "gradient_clip_val" in trial.user_attrs["diverged"]
    assert "lit-kgns-tune: trial 0 diverged: " in capsys.readouterr().err
    assert "1 fail" in tuning.best_trials_table(study)


@pytest.mark.parametrize(
    ("case", "change", "words"),
    [
        ("unknown key", ("sampler.init_args.num_negatives:", "sampler.init_args.num_negativs:"), "num_negativs"),
        ("space not a range", ("{choices: [4, 8]}", "{low: 8, high: 4}"), "space.sampler.init_args.num_negatives: "),
        ("storage not SQLite", ("studies.db", "notes.txt"), "cannot be opened as an Optuna storage"),
        ("YAML key twice", ("configs:", "space: {}\nconfigs:"), "key 'space' is given twice"),
    ],
)
def test_study_errors_are_one_line_before_any_trial_starts(
    case: str,
    change: tuple[str, str],
    words: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = study_file(tmp_path)
    (tmp_path / "notes.txt").write_text("not a database\n")
    path.write_text(path.read_text().replace(change[0], change[1].replace("{tmp}", str(tmp_path)), 1))
    if case == "storage not SQLite":
        path.write_text(
            path.read_text().replace("studies.db#", "").replace(f"{tmp_path}/notes.txt", f"{tmp_path}/notes.txt")
        )
    monkeypatch.setattr("sys.argv", ["lit-kgns-tune", str(path), "--out", str(tmp_path / "runs")])
    with pytest.raises(SystemExit) as stopped:
        tuning.main()
    error = capsys.readouterr().err
    assert stopped.value.code == 1, error
    assert error.startswith(f"lit-kgns-tune: error: {path}") and words in error and len(error.splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # no trial started
    if case != "storage not SQLite":
        assert not (tmp_path / "studies.db").exists()


def test_the_best_trial_is_written_out_and_retrains_to_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lit_kgns.cli import cli_main

    monkeypatch.setattr("sys.argv", ["lit-kgns-tune"])
    out = tmp_path / "runs"
    study = tuning.tune(study_file(tmp_path), out, n_trials=2)
    line = tuning.write_best(study, out)
    best = study.best_trial
    assert line.startswith(f"best trial {best.number} ") and str(out / f"trial_{best.number}") in line
    config = yaml.safe_load((out / "best.yaml").read_text())
    assert config["model"]["optimizer"]["init_args"]["lr"] == best.params["model.optimizer.init_args.lr"]
    # the same seed and config: the retrained run logs the trial's value again
    rerun = cli_main(["fit", "-c", str(out / "best.yaml"), f"--trainer.default_root_dir={tmp_path / 'rerun'}"])
    assert float(rerun.trainer.callback_metrics["val/mrr"]) == pytest.approx(best.value, rel=1e-6)
    assert not list(out.glob("*.partial"))
