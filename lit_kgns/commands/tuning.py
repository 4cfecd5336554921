"""``lit-kgns-tune study.yaml``: an Optuna study over any keys of a lit_kgns config, pruned on a validation
metric, stored in SQLite so that an interrupted study resumes where it stopped.

The study file::

    study:
      name: kmas_umls                      # the study's name in the storage
      storage: sqlite:///runs/studies.db   # any Optuna storage URL
      direction: maximize
      metric: val/mrr                      # reported after every validation, pruned on (median pruner)
      n_trials: 20                         # trials to finish (complete or pruned), counted over all sessions
    configs: [configs/kmas/umls_quick.yaml]  # the -c files of every trial
    args: [--trainer.max_epochs=4]           # more command-line arguments of every trial
    space:                                   # a config key each: a range or a list of choices
      sampler.init_args.temperature: {low: 0.05, high: 1.0, log: true}
      sampler.init_args.top_k: {choices: [8, 16, 64]}
      sampler.init_args.schedule.peak_ratio: {low: 0.1, high: 0.7}

Pruning uses a ``pytorch_lightning`` callback of our own: ``optuna-integration``'s imports ``lightning.pytorch``,
whose Trainer does not accept ``pytorch_lightning`` modules.
"""

from __future__ import annotations

import argparse
import sys
from argparse import ArgumentError
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from lit_kgns.cli import cli_main, parse_only
from lit_kgns.config_files import check_config_files, describe_parse_error, read_config
from lit_kgns.errors import ConfigError, DivergedError, LitKGNSError


class PruneTrial(pl.Callback):
    """Reports ``metric`` to an Optuna trial after each validation and stops a trial the pruner rejects."""

    def __init__(self, trial: Any, metric: str) -> None:
        self.trial, self.metric = trial, metric

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        import optuna

        if trainer.sanity_checking or self.metric not in trainer.callback_metrics:
            return
        self.trial.report(float(trainer.callback_metrics[self.metric]), step=trainer.current_epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"{self.metric} pruned at epoch {trainer.current_epoch}")


def suggest(trial: Any, space: dict[str, dict[str, Any]]) -> list[str]:
    """Command-line overrides ``--key=value`` for one trial of ``space``."""
    arguments = []
    for key, spec in space.items():
        check_range(key, spec)
        if "choices" in spec:
            value = trial.suggest_categorical(key, spec["choices"])
        elif isinstance(spec.get("low"), int) and isinstance(spec.get("high"), int):
            value = trial.suggest_int(key, spec["low"], spec["high"], log=spec.get("log", False))
        else:
            value = trial.suggest_float(key, spec["low"], spec["high"], log=spec.get("log", False))
        arguments.append(f"--{key}={value}")
    return arguments


def check_range(key: str, spec: Any) -> None:
    """``spec`` is ``{choices: [a, ...]}`` or ``{low: x, high: y[, log: bool]}`` with numbers ``x < y``."""
    shape = "expected {low, high[, log]} or {choices: [...]}"
    if not isinstance(spec, dict):
        raise ConfigError(f"space.{key}: {shape}, got {spec!r}")
    if "choices" in spec:
        if not isinstance(spec["choices"], list) or not spec["choices"]:
            raise ConfigError(f"space.{key}: choices must be a non-empty list, got {spec['choices']!r}")
        return
    bounds = (spec.get("low"), spec.get("high"))
    if not all(isinstance(bound, int | float) and not isinstance(bound, bool) for bound in bounds):
        raise ConfigError(f"space.{key}: {shape}, got {spec}")
    if not bounds[0] < bounds[1] or (spec.get("log") and bounds[0] <= 0):
        raise ConfigError(f"space.{key}: needs low < high (and low > 0 with log), got {spec}")


def check_study_keys(study_file: dict[str, Any], path: Path) -> None:
    """Every config key of the space (and the configs and args) is one the CLI accepts, checked by parsing a
    trial's command line once, before any trial starts (a trial refused later would stay RUNNING)."""
    space = study_file.get("space", {})
    for key, spec in space.items():
        try:
            check_range(key, spec)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error.message()}") from None
    first = {key: spec["choices"][0] if "choices" in spec else spec["low"] for key, spec in space.items()}
    arguments = [item for config in study_file.get("configs", []) for item in ("-c", str(config))]
    arguments += [*map(str, study_file.get("args", [])), *(f"--{key}={value}" for key, value in first.items())]
    try:
        check_config_files(arguments)
        parse_only(arguments)
    except ArgumentError as refused:
        raise ConfigError(f"{path}: {describe_parse_error(refused, arguments)}") from None


def run_trial(trial: Any, study_file: dict[str, Any], out: Path) -> float:
    """Train one trial; its value is the last ``metric`` the run logged, NaN (a failed trial, in Optuna) for a
    run that diverged."""
    metric = study_file["study"].get("metric", "val/mrr")
    arguments = [item for config in study_file.get("configs", []) for item in ("-c", config)]
    arguments += [*study_file.get("args", []), *suggest(trial, study_file.get("space", {}))]
    arguments += [f"--trainer.default_root_dir={out / f'trial_{trial.number}'}", "--test_after_fit=false"]
    cli = cli_main(arguments, run=False)
    cli.trainer.callbacks.append(PruneTrial(trial, metric))
    try:
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    except DivergedError as diverged:
        # a failed trial, never a value (NaN scores would have ranked every answer first); the study goes on
        trial.set_user_attr("diverged", diverged.message())
        print(f"lit-kgns-tune: trial {trial.number} diverged: {diverged.message()}", file=sys.stderr)
        return float("nan")
    if metric not in cli.trainer.callback_metrics:
        raise ConfigError(f"study.metric {metric!r} was never logged (validation on?)")
    return float(cli.trainer.callback_metrics[metric])


def tune(study_path: str | Path, out: str | Path = "runs/tune", n_trials: int | None = None) -> Any:
    """Run (or resume) the study of ``study_path`` until it has ``n_trials`` finished trials; trials left
    running by an interrupted session are marked failed first. Returns the Optuna study."""
    import optuna
    from optuna.trial import TrialState

    study_file = read_study(Path(study_path))
    check_study_keys(study_file, Path(study_path))
    settings = study_file["study"]
    storage = settings.get("storage", "sqlite:///runs/studies.db")
    try:
        study = optuna.create_study(
            study_name=settings["name"],
            storage=storage,
            direction=settings.get("direction", "maximize"),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=settings.get("startup_trials", 2)),
            load_if_exists=True,
        )
    except Exception as error:  # SQLAlchemy's errors, many lines each: the file is not a study database
        reason = str(error).strip().splitlines()[0][:200]
        raise ConfigError(
            f"{study_path}: study.storage {storage!r} cannot be opened as an Optuna storage ({reason})"
        ) from None
    for stale in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(stale.number, state=TrialState.FAIL)  # its session was interrupted
    wanted = n_trials if n_trials is not None else settings.get("n_trials", 10)
    finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    if wanted > finished:
        study.optimize(lambda trial: run_trial(trial, study_file, Path(out)), n_trials=wanted - finished)
    return study


def write_best(study: Any, out: Path) -> str:
    """Copy the best finished trial's resolved config to ``out / "best.yaml"`` (a ``lit-kgns fit -c`` config,
    with the trial's run folder as its ``default_root_dir``); a line naming both, or why there is none."""
    from optuna.trial import TrialState

    if not any(trial.state == TrialState.COMPLETE for trial in study.trials):
        return "no finished trial: no best.yaml"
    best = study.best_trial
    run_dir = out / f"trial_{best.number}"
    saved = sorted(run_dir.glob("**/config.yaml"))
    if not saved:
        return f"best trial {best.number} ({best.value:.4f}) in {run_dir}: its config.yaml is missing, no best.yaml"
    target = out / "best.yaml"
    staged = target.with_suffix(".yaml.partial")  # never a half-written best.yaml
    staged.write_text(saved[-1].read_text())
    staged.replace(target)
    return f"best trial {best.number} ({best.value:.4f}), run folder {run_dir}; retrain it: lit-kgns fit -c {target}"


def read_study(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: study file not found")
    content = read_config(path) or {}  # YAML, each key once: errors name the line
    if not isinstance(content.get("study"), dict) or "name" not in content["study"]:
        raise ConfigError(f"{path}: expected a `study:` mapping with at least `name`")
    if not isinstance(content.get("space", {}), dict):
        raise ConfigError(f"{path}: `space` must map config keys to ranges or choices")
    return content


def best_trials_table(study: Any, top: int = 5) -> str:
    """Markdown table of the best finished trials, best first."""
    from optuna.trial import TrialState

    done = [trial for trial in study.trials if trial.state == TrialState.COMPLETE]
    done.sort(key=lambda trial: trial.value, reverse=study.direction.name == "MAXIMIZE")
    keys = sorted({key for trial in done for key in trial.params})
    lines = ["| trial | value | " + " | ".join(keys) + " |", "| ---: | ---: |" + " --- |" * len(keys)]
    for trial in done[:top]:
        cells = " | ".join(str(trial.params.get(key, "")) for key in keys)
        lines.append(f"| {trial.number} | {trial.value:.4f} | {cells} |")
    counts = {state.name.lower(): sum(trial.state == state for trial in study.trials) for state in TrialState}
    summary = ", ".join(f"{count} {name}" for name, count in counts.items() if count)
    return "\n".join(lines) + f"\n\n{summary}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="lit-kgns-tune", description=__doc__.split("\n\n")[0])
    parser.add_argument("study", help="the study file (YAML)")
    parser.add_argument("--out", default="runs/tune", help="folder of the trials' runs")
    parser.add_argument("--n-trials", type=int, default=None, help="finished trials wanted (default: the file's)")
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # each trial's command line is built from the study file, not from this one
    try:
        study = tune(args.study, args.out, args.n_trials)
    except LitKGNSError as error:
        sys.stderr.write(f"lit-kgns-tune: error: {error.message()}\n")
        raise SystemExit(1) from None
    print(best_trials_table(study))
    print(write_best(study, Path(args.out)))


if __name__ == "__main__":
    main()
