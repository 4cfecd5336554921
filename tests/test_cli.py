"""The CLI end to end: fit, print_config round trip, and zero-shot evaluation of the released checkpoints."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from metric_checks import answers_of_first_queries, assert_ranking_metrics

from lit_kgns.cli import cli_main
from lit_kgns.data.catalog import load_dataset

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]


@pytest.fixture(autouse=True)
def _clean_process_state(monkeypatch):
    """LightningCLI warns when sys.argv holds pytest's own arguments next to ``args``; each test starts
    without ``$LIT_KGNS_DATA``, so that only ``--data.root`` can lead a backbone to its released checkpoint."""
    monkeypatch.setattr("sys.argv", ["lit-kgns"])
    monkeypatch.delenv("LIT_KGNS_DATA", raising=False)


def run_cli(*args: str):
    return cli_main(list(args))


def test_fast_dev_run_fit_through_cli(tmp_path):
    cli = run_cli(
        "fit",
        "-c",
        str(REPO / "configs/quickstart.yaml"),
        "--trainer.fast_dev_run=true",
        f"--trainer.default_root_dir={tmp_path}",
        "--test_after_fit=false",
        "--model.backbone.init_args.message_passing.chunk_mb=0.25",
        *QUICK,
    )
    assert cli.trainer.state.finished
    assert "train/loss" in cli.trainer.callback_metrics
    # fast_dev_run validates one batch: quickstart's eval_batch_size 64 triples' worth, 128 distinct queries
    # with every validation triple asking one of them
    split = cli.datamodule.dataset(cli.datamodule.valid_names[0]).valid
    rows = answers_of_first_queries(split.targets.tolist(), 2 * 64)
    assert_ranking_metrics(cli.trainer.callback_metrics, "val", num_queries=rows)
    assert cli.model.backbone.entity_model.layers[0].options.chunk_bytes(torch.device("cpu")) == 2**18


def print_config(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        run_cli(*args, "--print_config")
    return out.getvalue()


def test_embedding_model_config_takes_its_sizes_from_any_dataset(tmp_path, monkeypatch):
    """The sizes come from the run's own DataModule (linked at instantiation): the dataset is loaded once."""
    import lit_kgns.data.datamodule as datamodule_module

    loads = []
    real_load = datamodule_module.load_dataset
    monkeypatch.setattr(datamodule_module, "load_dataset", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    cli = run_cli(
        "fit",
        "-c",
        str(REPO / "configs/kge/transe_umls.yaml"),
        "--data.dataset=nations",
        "--trainer.fast_dev_run=true",
        f"--trainer.default_root_dir={tmp_path}",
        *QUICK,
    )
    backbone = cli.model.backbone
    assert (backbone.num_entities, backbone.num_relations) == (14, 55)  # Nations, not the file's UMLS
    assert cli.trainer.state.finished
    assert [arguments[0] for arguments in loads] == ["nations"]
    assert cli.model.hparams["backbone"]["init_args"]["num_entities"] == 14  # a checkpoint rebuilds it


def test_embedding_model_on_a_mixture_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="num_entities must be a positive integer"):
        run_cli(
            "fit",
            "-c",
            str(REPO / "configs/kge/transe_umls.yaml"),
            "--data.train_datasets=[nations, umls]",
            "--trainer.fast_dev_run=true",
            f"--trainer.default_root_dir={tmp_path}",
            *QUICK,
        )


def test_print_config_round_trips(tmp_path):
    first = print_config("fit", "-c", str(REPO / "configs/quickstart.yaml"))
    saved = tmp_path / "config.yaml"
    saved.write_text(first)
    second = print_config("fit", "-c", str(saved))
    assert yaml.safe_load(first) == yaml.safe_load(second)
    parsed = yaml.safe_load(first)
    assert parsed["sampler"]["class_path"] == "lit_kgns.samplers.StrictUniformSampler"
    assert parsed["model"]["backbone"]["class_path"] == "lit_kgns.backbones.Ultra"


@pytest.mark.parametrize("recipe", ["ultra_3g", "trix", "motif_3g"])
def test_pretraining_recipes_compose_with_a_sampler_file(recipe):
    recipe_file, sampler_file = REPO / f"configs/pretrain/{recipe}.yaml", REPO / "configs/kmas/pretrain.yaml"
    config = yaml.safe_load(print_config("fit", "-c", str(recipe_file), "-c", str(sampler_file)))
    assert config["data"]["train_datasets"] == ["fb15k-237", "wn18rr", "codex-m"]
    loss = config["model"]["loss"]
    assert loss == {"class_path": "lit_kgns.losses.SelfAdversarialBCE", "init_args": {"temperature": 1.0}}
    assert config["model"]["optimizer"]["init_args"]["lr"] == 0.0005
    assert config["sampler"]["class_path"] == "lit_kgns.samplers.KMASSampler"
    assert config["sampler"]["init_args"]["num_negatives"] == 512


KMAS_OVERLAYS = {"pretrain_medium_mixture.yaml": "pretrain_small_mixture.yaml"}  # run on top of their base
KMAS_RUN_CONFIGS = sorted(path.name for path in (REPO / "configs/kmas").glob("*.yaml") if path.name != "pretrain.yaml")


def kmas_config_options(name: str) -> list[str]:
    """The ``-c`` options that run ``configs/kmas/<name>``: its base first where it is an overlay."""
    names = [base, name] if (base := KMAS_OVERLAYS.get(name)) else [name]
    return [option for file in names for option in ("-c", str(REPO / "configs/kmas" / file))]


@pytest.mark.parametrize("name", [*KMAS_RUN_CONFIGS, "pretrain.yaml"])
def test_every_kmas_config_runs_the_method_as_published(name):
    options = ["-c", str(REPO / "configs/pretrain/ultra_3g.yaml")] if name == "pretrain.yaml" else []
    options += (
        ["-c", str(REPO / "configs/kmas/pretrain.yaml")] if name == "pretrain.yaml" else kmas_config_options(name)
    )
    sampler = yaml.safe_load(print_config("fit", *options))["sampler"]
    assert sampler["class_path"] == "lit_kgns.samplers.KMASSampler"
    init = sampler["init_args"]
    # the method (README, KMAS): the backbone's similarities, sharp, nothing in the loss undoing the hardness
    assert (init["similarity_source"], init["temperature"], init["top_k"]) == ("backbone", 0.1, 16)
    assert (init["log_q_correction"], init["hard_weight"], init["semi_hard_margin"]) == (0.0, 1.0, None)
    assert not init["oracle_filter"]
    # warm-up at 0, linear rise to the peak, linear decay
    schedule = init["schedule"]["init_args"] if "init_args" in init["schedule"] else init["schedule"]
    assert schedule["shape"] == "linear" and 0 < schedule["warmup_end"] < schedule["peak_at"] < 1
    assert schedule["end_ratio"] < schedule["peak_ratio"]


def test_a_bare_kmas_sampler_defaults_to_what_the_kmas_configs_set():
    bare = yaml.safe_load(
        print_config("fit", "-c", str(REPO / "configs/quickstart.yaml"), "--sampler=lit_kgns.samplers.KMASSampler")
    )
    configured = yaml.safe_load(print_config("fit", "-c", str(REPO / "configs/kmas/ultra_3g_finetune.yaml")))
    for option in ("temperature", "top_k", "include_self", "weighting", "log_q_correction"):
        assert bare["sampler"]["init_args"][option] == configured["sampler"]["init_args"][option], option


def test_unknown_message_passing_implementation_names_the_option_and_choices():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit):
        run_cli(
            "fit",
            "-c",
            str(REPO / "configs/quickstart.yaml"),
            "--model.backbone.init_args.message_passing.implementation=fused",
        )
    assert "message_passing.implementation" in err.getvalue()
    assert "chunked" in err.getvalue()


def test_bad_option_names_the_option():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit):
        run_cli("fit", "-c", str(REPO / "configs/quickstart.yaml"), "--data.batch_sizee=3")
    assert "batch_sizee" in err.getvalue()


def zero_shot(tmp_path: Path, shared_data: Path, dataset: str, *extra: str) -> dict[str, float]:
    cli = run_cli(
        "test",
        "-c",
        str(REPO / "configs/zero_shot/ultra_3g.yaml"),
        "--data.dataset",
        dataset,
        "--data.root",
        str(shared_data),
        f"--trainer.default_root_dir={tmp_path}",
        *QUICK,
        *extra,
    )
    return {key: float(value) for key, value in cli.trainer.callback_metrics.items()}


def test_zero_shot_ranks_two_queries_per_test_triple(tmp_path, shared_data):
    """A whole test set (MTDEA Metafam: its inference graph, ULTRA's filter): every triple gives a head and a
    tail query, each ranked once."""
    metrics = zero_shot(tmp_path, shared_data, "mtdea_metafam", "--data.eval_batch_size=64")
    assert_ranking_metrics(metrics, "test", num_queries=2 * 184)


@pytest.mark.parametrize("dataset", ["ilpc2022_small", "ingram_nl_100", "hm_1k", "codex-s", "grail_nell_v4"])
def test_zero_shot_runs_on_each_benchmark_family(tmp_path, shared_data, dataset):
    """Two test batches of four triples' worth of queries on a graph of each family: loaders, filters and graphs
    fit."""
    metrics = zero_shot(tmp_path, shared_data, dataset, "--trainer.limit_test_batches=2", "--data.eval_batch_size=4")
    test = load_dataset(dataset, shared_data).test
    rows = answers_of_first_queries(test.targets.tolist(), 2 * 4 * (1 if test.tail_only else 2), test.tail_only)
    assert_ranking_metrics(metrics, "test", num_queries=rows)


def test_several_test_graphs_report_each_and_their_mean(tmp_path, shared_data):
    cli = run_cli(
        "test",
        "-c",
        str(REPO / "configs/zero_shot/ultra_3g.yaml"),
        "--data.dataset=null",
        "--data.test_datasets=[grail_nell_v1,grail_wn18rr_v1]",
        "--data.root",
        str(shared_data),
        f"--trainer.default_root_dir={tmp_path}",
        "--trainer.limit_test_batches=2",
        *QUICK,
    )
    metrics = {key: float(value) for key, value in cli.trainer.callback_metrics.items()}
    per_graph = [metrics["test/grail_nell_v1/mrr"], metrics["test/grail_wn18rr_v1/mrr"]]
    assert metrics["test/mrr"] == pytest.approx(sum(per_graph) / 2, rel=1e-6)


def test_predict_returns_filtered_top_entities_and_ranks(tmp_path, shared_data):
    cli = run_cli(
        "predict",
        "-c",
        str(REPO / "configs/zero_shot/ultra_3g.yaml"),
        "--data.dataset",
        "grail_nell_v1",
        "--data.root",
        str(shared_data),
        f"--trainer.default_root_dir={tmp_path}",
        "--trainer.limit_predict_batches=1",
        "--data.eval_batch_size=4",
        *QUICK,
    )
    [batch] = cli.trainer.predict_loop.predictions
    assert batch["top_entities"].shape == (8, 10)
    triples = batch["triples"]
    answers = torch.cat([triples[:, 2], triples[:, 0]])
    # Pessimistic ranks count ties against the answer: it is listed no later than its rank, first at rank 1.
    for row, rank in enumerate(batch["rank"].tolist()):
        top = batch["top_entities"][row].tolist()
        if rank == 1:
            assert top[0] == answers[row]
        if answers[row] in top:
            assert top.index(answers[row]) + 1 <= rank


def test_console_script_exits_zero_on_success(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lit_kgns",
            "fit",
            "-c",
            str(REPO / "configs/quickstart.yaml"),
            "--trainer.fast_dev_run=true",
            f"--trainer.default_root_dir={tmp_path}",
            "--test_after_fit=false",
            *QUICK,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("key", ["lr_scheduler", "model.lr_scheduler"])
def test_a_learning_rate_scheduler_steps_with_the_optimizer(tmp_path, key):
    cli = run_cli(
        "fit",
        "-c",
        str(REPO / "configs/quickstart.yaml"),
        "--trainer.max_steps=2",
        "--trainer.limit_val_batches=0",
        "--test_after_fit=false",
        f"--trainer.default_root_dir={tmp_path}",
        "--model.backbone.init_args.dim=8",
        f"--{key}=torch.optim.lr_scheduler.LinearLR",
        f"--{key}.start_factor=0.5",
        f"--{key}.total_iters=4",
        *QUICK,
    )
    # LinearLR from 0.5 to 1 over 4 steps: after 2 steps the factor is 0.75 of the config's 0.005
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.005 * 0.75)


@pytest.mark.parametrize(
    ("config", "script", "narrow_top_k"),
    [
        ("ultra_3g_finetune.yaml", "kmas_leak_free", 16),
        ("pretrain_small_mixture.yaml", "kmas_pretraining", 8),
        ("pretrain_medium_mixture.yaml", "kmas_pretraining", 8),
    ],
)
def test_benchmark_kmas_arms_set_the_options_they_compare_whatever_the_config_default(
    monkeypatch, config, script, narrow_top_k
):
    # the CSVs under benchmarks/results/ keep their meaning only if no arm inherits a default that may change
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    arms = importlib.import_module(script).ARMS
    num_negatives = 256 if script == "kmas_leak_free" else 128
    for arm, overrides in arms.items():
        parsed = yaml.safe_load(print_config("fit", *kmas_config_options(config), *overrides))
        sampler = parsed["sampler"]["init_args"]
        schedule = sampler.get("schedule") or {}
        schedule = schedule.get("init_args", schedule)
        if arm.startswith("strict_uniform"):
            assert parsed["sampler"]["class_path"] == "lit_kgns.samplers.StrictUniformSampler", arm
        elif arm.startswith("kmas_paper") or arm in ("kmas_jaccard", "kmas_typed"):
            assert (sampler["temperature"], sampler["top_k"], sampler["log_q_correction"]) == (0.1, 16, 0.0), arm
            assert (schedule["warmup_end"], schedule["peak_at"]) == (0.1, 0.5), arm
            source = {"kmas_jaccard": "jaccard", "kmas_typed": "typed"}.get(arm, "backbone")
            assert sampler["similarity_source"] == source, arm
        else:  # the first comparisons' arms, with the schedule they ran with
            expected_similarity = (1.0, 64) if arm.startswith("kmas_wide") else (0.1, narrow_top_k)
            assert (sampler["temperature"], sampler["top_k"]) == expected_similarity, arm
            assert sampler["log_q_correction"] == (1.0 if "logq" in arm else 0.0), arm
            first_peak = 0.0 if script == "kmas_leak_free" else 0.5
            assert schedule["peak_at"] == first_peak, arm
        count = int(arm.rsplit("_k", 1)[1]) if "_k" in arm and arm.rsplit("_k", 1)[1].isdigit() else num_negatives
        assert sampler["num_negatives"] == count, arm
        assert sampler.get("oracle_filter", False) == arm.endswith("_oracle"), arm
        temperature = parsed["model"]["loss"]["init_args"]["temperature"] if parsed["model"].get("loss") else 1.0
        assert temperature == (0.0 if arm.endswith("_t0") else 1.0), arm


def test_data_root_reaches_a_released_checkpoint_through_the_config_not_the_environment(
    tmp_path: Path, shared_data: Path
) -> None:
    cli = run_cli(
        "test",
        "-c",
        str(REPO / "configs/zero_shot/ultra_3g.yaml"),
        "--data.dataset=grail_nell_v1",
        f"--data.root={shared_data}",
        "--trainer.limit_test_batches=1",
        f"--trainer.default_root_dir={tmp_path}",
        *QUICK,
    )
    assert "LIT_KGNS_DATA" not in os.environ
    saved = yaml.safe_load(next(tmp_path.rglob("config.yaml")).read_text())
    assert saved["model"]["backbone"]["init_args"]["data_root"] == str(shared_data)
    test = load_dataset("grail_nell_v1", shared_data).test
    assert cli.trainer.callback_metrics["test/num_queries"] == answers_of_first_queries(test.targets.tolist(), 64)


def test_configs_interpolate_against_the_whole_parsed_config() -> None:
    """parser_mode omegaconf+: configs/pretrain/trix.yaml evaluates in batches of ``${.batch_size}`` (its sibling
    in ``data``: relative, so it resolves under a subcommand too), and an override of the batch size on the
    command line reaches the evaluation batches."""
    from lit_kgns.cli import parse_only

    config = REPO / "configs/pretrain/trix.yaml"
    assert "${.batch_size}" in config.read_text()
    assert parse_only(["-c", str(config)]).data.eval_batch_size == 32
    overridden = parse_only(["-c", str(config), "--data.batch_size=8"])
    assert (overridden.data.batch_size, overridden.data.eval_batch_size) == (8, 8)
    printed = yaml.safe_load(print_config("fit", "-c", str(config), "--data.batch_size=8"))["data"]
    assert (printed["batch_size"], printed["eval_batch_size"]) == (8, 8)


def test_a_run_and_a_prediction_from_its_checkpoint_print_no_third_party_noise(tmp_path: Path) -> None:
    tiny = ["-c", str(REPO / "configs/quickstart.yaml"), "--data.dataset=nations", "--trainer.max_epochs=1"]
    tiny += ["--data.batches_per_epoch=2", "--trainer.limit_val_batches=1", "--trainer.log_every_n_steps=1"]
    tiny += ["--model.backbone.init_args.dim=8", "--sampler.init_args.num_negatives=8", *QUICK]
    tiny.append(f"--trainer.default_root_dir={tmp_path}")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}

    def lit_kgns(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "lit_kgns", *args], capture_output=True, text=True, timeout=600, env=environment
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout + done.stderr

    fitted = lit_kgns("fit", *tiny)
    assert "test/mrr" in fitted
    (checkpoint,) = tmp_path.glob("lightning_logs/version_0/checkpoints/epoch=*.ckpt")
    predicted = lit_kgns("predict", *tiny, f"--ckpt_path={checkpoint}")
    for said in (fitted, predicted):
        for noise in ("LeafSpec", "💡 Tip", "multiple `ModelCheckpoint`", "Please add the following callbacks"):
            assert noise not in said, said[-3000:]
    assert "The dirpath has changed" not in predicted
