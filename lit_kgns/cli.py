"""``lit-kgns fit|validate|test|predict``: LightningCLI over the module, the DataModule and the sampler."""

from __future__ import annotations

import inspect
import os
import signal
import sys
from argparse import ArgumentError
from functools import partial
from pathlib import Path
from typing import Any, Literal

import torch
from jsonargparse import Namespace
from jsonargparse.typing import import_object
from pytorch_lightning import Callback, Trainer
from pytorch_lightning.cli import ArgsType, LightningArgumentParser, LightningCLI
from pytorch_lightning.utilities.exceptions import SIGTERMException

from lit_kgns.backbones.checkpoints import load_checkpoint_file
from lit_kgns.config_files import check_config_files, describe_parse_error
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.errors import ConfigError, LitKGNSError
from lit_kgns.module import KGLinkPrediction
from lit_kgns.options import check_positive
from lit_kgns.quiet import silence_known_noise
from lit_kgns.resume import ResumeCheckpoint, find_last_checkpoint, logger_for
from lit_kgns.samplers.base import NegativeSampler
from lit_kgns.threads import FollowFreeCores

SIZES = ("num_entities", "num_relations")
RUN_OPTIONS = ("predict_top_k", "predict_filtered")  # model options that belong to a predict run
# not chosen by the user: where files live (may differ when a run resumes), and sizes taken from the data
# (which on_load_checkpoint checks by the training graphs' fingerprints)
DERIVED = tuple(f"model.backbone.init_args.{name}" for name in ("data_root", "num_entities", "num_relations"))
TRACEBACK_ENV = "LIT_KGNS_TRACEBACK"


class KGCLI(LightningCLI):
    """Adds the negative sampler as a forced Callback (``--sampler``, default strict uniform),
    ``--test_after_fit`` to evaluate the best checkpoint on the test graphs when ``fit`` ends, and what resuming
    needs (:mod:`lit_kgns.resume`): ``last.ckpt`` in every run directory (``--checkpoint_every_n_steps``),
    ``--ckpt_path last``, and ``--model_from_checkpoint``. ``--lr_scheduler`` reaches the module's
    ``lr_scheduler``. Embedding backbones (TransE, ...) take ``num_entities`` / ``num_relations`` from the
    training graph, so one config runs on any dataset."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(NegativeSampler, "sampler", subclass_mode=True, required=False)
        # --lr_scheduler as LightningCLI users write it; handed to the module, which builds its own optimizer
        parser.add_lr_scheduler_args()
        parser.set_defaults({"sampler": {"class_path": "lit_kgns.samplers.StrictUniformSampler"}})
        # an embedding backbone's table sizes come from the DataModule the run builds (backbones without them,
        # the KGFMs, are left alone); linked, they are no longer options: a size written in a config is dropped
        for name in SIZES:
            parser.link_arguments(
                "data", f"model.backbone.init_args.{name}", compute_fn=partial(size_of, name), apply_on="instantiate"
            )
        parser.add_argument(
            "--test_after_fit", type=bool, default=False, help="run `test` on the best checkpoint after `fit`"
        )
        parser.add_argument(
            "--checkpoint_every_n_steps",
            type=int | None,
            default=None,
            help="refresh the run's last.ckpt every n optimizer steps (epoch ends always), for --ckpt_path last",
        )
        parser.add_argument(
            "--threads",
            type=int | Literal["auto"],
            default="auto",
            help="torch's CPU threads: a number, or auto: the cores other processes leave free, measured at the "
            "start and every 10 batches (lit_kgns.threads.FollowFreeCores)",
        )
        parser.add_argument(
            "--model_from_checkpoint",
            type=bool,
            default=False,
            help="when resuming (fit --ckpt_path), take the model config from the checkpoint even where it "
            "differs from the one given (by default that is an error)",
        )

    def _parse_ckpt_path(self) -> None:
        """``--ckpt_path last`` resolves to the newest ``last.ckpt`` under ``trainer.default_root_dir``; a
        ``fit`` resumed with a model config other than the checkpoint's is an error unless
        ``--model_from_checkpoint`` (``validate`` / ``test`` / ``predict`` take the checkpoint's, as Lightning, but for
        :data:`RUN_OPTIONS`)."""
        subcommand = self.config.get("subcommand")
        if not subcommand:
            return
        config = self.config[subcommand]
        self.resumed_from: Path | None = None
        if config.get("ckpt_path") == "last":
            root = Path(config.trainer.default_root_dir or os.getcwd())
            self.resumed_from = find_last_checkpoint(root)
            config.ckpt_path = str(self.resumed_from)
        given = config.model.clone()
        if config.get("ckpt_path"):
            load_checkpoint_file(config.ckpt_path)  # a clear error for a missing, truncated or foreign file
        super()._parse_ckpt_path()
        if subcommand != "fit":
            # what predict lists is this run's choice, not the training run's (Lightning takes the checkpoint's)
            for name in RUN_OPTIONS:
                self.config[subcommand].model[name] = given.get(name)
        if subcommand == "fit" and config.get("ckpt_path") and not config.get("model_from_checkpoint"):
            changed = [
                key
                for key in differences(given.as_dict(), self.config[subcommand].model.as_dict())
                if key not in DERIVED
            ]
            if changed:
                raise ConfigError(
                    f"{config.ckpt_path}: the model config differs from the checkpoint's at "
                    f"{', '.join(changed[:5])}; resume with the config the checkpoint was trained with, pass "
                    "--model_from_checkpoint true to take the checkpoint's, or fine-tune from it with "
                    "model.backbone.init_args.checkpoint instead of --ckpt_path"
                )
        if config.get("ckpt_path"):
            # the weights come from ckpt_path: the released checkpoint the backbone was first built from is
            # neither needed nor, on another machine, where the stored data root says
            backbone = self.config[subcommand].model.backbone.init_args
            for name in ("checkpoint", "data_root"):
                if name in backbone:
                    backbone[name] = None

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Callback]) -> Trainer:
        threads = (self.config[self.subcommand] if self.subcommand else self.config).get("threads", "auto")
        if threads == "auto":
            callbacks = [*callbacks, FollowFreeCores()]
        else:
            check_positive("threads", threads)
            torch.set_num_threads(threads)
        if self.subcommand == "fit" and config.get("enable_checkpointing") is not False:
            every = self.config.fit.get("checkpoint_every_n_steps")
            callbacks = [*callbacks, ResumeCheckpoint(every_n_train_steps=every)]
            resumed = getattr(self, "resumed_from", None)
            root = Path(config.get("default_root_dir") or os.getcwd())
            if resumed is not None and config.get("logger") in (None, True):
                config = {**config, "logger": logger_for(resumed, root) or config.get("logger")}
        return super()._instantiate_trainer(config, callbacks)

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        root_for_checkpoints(config)
        if config.get("lr_scheduler") is not None:
            if config.model.get("lr_scheduler") is not None:
                raise ConfigError("give the scheduler once: --lr_scheduler or --model.lr_scheduler, not both")
            config.model.lr_scheduler, config.lr_scheduler = config.lr_scheduler, None

    def instantiate_classes(self) -> None:
        try:
            super().instantiate_classes()
        except ValueError as error:  # jsonargparse wraps what a link's compute_fn raised (the sizes' dataset load)
            if isinstance(error.__cause__, LitKGNSError):
                raise error.__cause__ from None
            raise

    def after_fit(self) -> None:
        if self.config.fit.get("test_after_fit"):
            # the path itself, not "best": Lightning warns about "multiple ModelCheckpoint callbacks" with ours
            selecting = self.trainer.checkpoint_callback
            checkpoint = selecting.best_model_path if selecting and selecting.best_model_path else None
            self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=checkpoint)


def root_for_checkpoints(config: Namespace) -> None:
    """Released checkpoints a backbone names (``checkpoint: ultra_3g``) live under the datasets' root: a
    backbone with a ``data_root`` option that leaves it unset gets ``--data.root``."""
    backbone = config.model.backbone
    parameters = inspect.signature(import_object(backbone.class_path)).parameters
    if config.data.root is not None and "data_root" in parameters and backbone.init_args.get("data_root") is None:
        backbone.init_args["data_root"] = str(config.data.root)


def size_of(name: str, datamodule: KGDataModule) -> int | None:
    """``num_entities`` or ``num_relations`` of the DataModule's training graph, for an embedding backbone."""
    return getattr(datamodule, name)


def cli_main(args: ArgsType = None, run: bool = True, exit_on_error: bool = True) -> KGCLI:
    """Run the CLI and return it (its trainer, model and datamodule); for notebooks and tests. With
    ``run=False`` the arguments hold no subcommand and nothing runs: the caller drives ``cli.trainer``. With
    ``exit_on_error=False`` a refused command line raises ``argparse.ArgumentError`` instead of exiting."""
    silence_known_noise()
    return KGCLI(
        KGLinkPrediction,
        KGDataModule,
        save_config_kwargs={"overwrite": True},
        args=args,
        run=run,
        **_cli_options(exit_on_error),
    )


class _ParseOnly(KGCLI):
    """Parses and checks a command line, builds nothing and leaves the global seed alone."""

    def _set_seed(self) -> None: ...  # LightningCLI's (private) seeding step, skipped: nothing runs

    def before_instantiate_classes(self) -> None: ...

    def instantiate_classes(self) -> None: ...

    def after_instantiate_classes(self) -> None: ...


def parse_only(args: list[str]) -> Namespace:
    """The config ``args`` (no subcommand) resolve to, without loading data or building a model; a refused
    command line raises ``argparse.ArgumentError``."""
    return _ParseOnly(KGLinkPrediction, KGDataModule, args=args, run=False, **_cli_options(exit_on_error=False)).config


def _cli_options(exit_on_error: bool) -> dict[str, Any]:
    return {
        "subclass_mode_model": False,
        "subclass_mode_data": False,
        "auto_configure_optimizers": False,
        # omegaconf+: ``${data.batch_size}`` in a config resolves against the whole parsed config, overrides included
        "parser_kwargs": {"exit_on_error": exit_on_error, "parser_mode": "omegaconf+"},
    }


def differences(given: dict[str, Any], stored: dict[str, Any], prefix: str = "model") -> list[str]:
    """Dotted keys whose values differ between two nested config dicts."""
    keys = []
    for key in sorted(set(given) | set(stored)):
        left, right = given.get(key), stored.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            keys += differences(left, right, f"{prefix}.{key}")
        elif left != right:
            keys.append(f"{prefix}.{key}")
    return keys


def project_error(error: BaseException | None) -> LitKGNSError | None:
    """The :class:`LitKGNSError` that ``error`` is or was raised from, if any."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, LitKGNSError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def main() -> None:
    """Console entry point: exit status 0 after a successful run; an error about the input (a
    :class:`~lit_kgns.errors.LitKGNSError`) is printed as one line with exit status 1, its traceback only with
    ``LIT_KGNS_TRACEBACK=1``."""
    try:
        check_config_files(sys.argv[1:])
        cli_main(exit_on_error=False)
    except ArgumentError as refused:  # jsonargparse's: a few lines naming the file and key, not its usage
        sys.stderr.write(f"lit-kgns: error: {describe_parse_error(refused, sys.argv[1:])}\n")
        command = sys.argv[1] if sys.argv[1:2] in (["fit"], ["validate"], ["test"], ["predict"]) else "fit"
        sys.stderr.write(f"  (lit-kgns {command} --help lists the options)\n")
        raise SystemExit(2) from None
    except SIGTERMException:  # Lightning ends a run it was asked to stop with SystemExit(0): not a finished run
        sys.stderr.write(
            "lit-kgns: stopped by SIGTERM; last.ckpt holds the step it stopped at: the same command with "
            "--ckpt_path last resumes it\n"
        )
        raise SystemExit(128 + signal.SIGTERM) from None
    except Exception as raised:
        # jsonargparse wraps what a constructor raised (a Union-typed option): find the project's error
        error = project_error(raised)
        if error is None or os.environ.get(TRACEBACK_ENV):
            raise
        sys.stderr.write(f"lit-kgns: error: {error.message()}\n  (set {TRACEBACK_ENV}=1 for the traceback)\n")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
