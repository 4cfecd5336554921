"""``lit-kgns fit|validate|test|predict``: LightningCLI over the module, the DataModule and the sampler."""

from __future__ import annotations

import inspect
import os

from jsonargparse import Namespace
from jsonargparse.typing import import_object
from pytorch_lightning.cli import ArgsType, LightningArgumentParser, LightningCLI

from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.root import DATA_ROOT_ENV
from lit_kgns.module import KGLinkPrediction
from lit_kgns.samplers.base import NegativeSampler

SIZES = ("num_entities", "num_relations")


class KGCLI(LightningCLI):
    """Adds the negative sampler as a forced Callback (``--sampler``, default strict uniform) and
    ``--test_after_fit`` to evaluate the best checkpoint on the test graphs when ``fit`` ends. Embedding
    backbones (TransE, ...) take ``num_entities`` / ``num_relations`` from the training graph, so one config
    runs on any dataset."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(NegativeSampler, "sampler", subclass_mode=True, required=False)
        parser.set_defaults({"sampler": {"class_path": "lit_kgns.samplers.StrictUniformSampler"}})
        parser.add_argument(
            "--test_after_fit", type=bool, default=False, help="run `test` on the best checkpoint after `fit`"
        )

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        # Released checkpoints named in a backbone (``checkpoint: ultra_3g``) live under the same data root
        # as the datasets; backbones read it from the environment, so ``--data.root`` reaches them too.
        if config.data.root is not None:
            os.environ[DATA_ROOT_ENV] = str(config.data.root)
        size_from_data(config)

    def after_fit(self) -> None:
        if self.config.fit.get("test_after_fit"):
            checkpoint = (
                "best"
                if self.trainer.checkpoint_callback and self.trainer.checkpoint_callback.best_model_path
                else None
            )
            self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=checkpoint)


def size_from_data(config: Namespace) -> None:
    """Fill in the ``num_entities`` / ``num_relations`` an embedding backbone leaves unset from its training
    graph, in the config itself: the saved config and the checkpoint then record the sizes."""
    backbone = config.model.backbone
    parameters = inspect.signature(import_object(backbone.class_path)).parameters
    unset = [name for name in SIZES if name in parameters and backbone.init_args.get(name) is None]
    if unset:
        datamodule = KGDataModule(**config.data.as_dict())
        for name in unset:
            backbone.init_args[name] = getattr(datamodule, name)


def cli_main(args: ArgsType = None) -> KGCLI:
    """Run the CLI and return it (its trainer, model and datamodule); for notebooks and tests."""
    return KGCLI(
        KGLinkPrediction,
        KGDataModule,
        subclass_mode_model=False,
        subclass_mode_data=False,
        auto_configure_optimizers=False,
        save_config_kwargs={"overwrite": True},
        args=args,
    )


def main() -> None:
    """Console entry point: returns nothing, so the exit status is 0 after a successful run."""
    cli_main()


if __name__ == "__main__":
    main()
