"""Bad input through the console entry point, as a user meets it: every case ends with the exit status it
should (2: jsonargparse refused the command line; 1: lit_kgns refused the input; 0: accepted, perhaps with
a warning) and a message holding its key words, in a line or two, without a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lit_kgns.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = [
    "--trainer.fast_dev_run=true",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--trainer.logger=false",
    "--test_after_fit=false",
    "--model.backbone.init_args.dim=8",
    "--model.backbone.init_args.num_relation_layers=1",
    "--model.backbone.init_args.num_entity_layers=1",
    "--sampler.init_args.num_negatives=4",
]
KMAS = ["--sampler=lit_kgns.samplers.KMASSampler", "--sampler.init_args.num_negatives=4"]
GOOD_TRIPLES = "".join(f"e{i}\tr{i % 3}\te{(i * 7 + 1) % 20}\n" for i in range(60))
TEST_TRIPLES = "e1\tr0\te3\ne2\tr1\te4\n"  # none of them a training triple

# (case, extra command-line arguments, files of a crafted "nations" folder, exit status, key words)
CASES: list[tuple[str, list[str], dict[str, str | bytes] | None, int, list[str]]] = [
    # the command line and config files
    ("unknown option", ["--trainer.max_epocs=1"], None, 2, ["max_epocs"]),
    ("option of the wrong type", ["--trainer.max_epochs=abc"], None, 2, ["--trainer.max_epochs: expected int"]),
    (
        "unknown option in a config file",
        ["-c", "{tmp}/typo.yaml"],
        {"../typo.yaml": "trainer:\n  max_epoch: 1\n"},
        2,
        ["typo.yaml:2: trainer.max_epoch: no such option"],
    ),
    ("missing config file", ["-c", "{tmp}/nope.yaml"], None, 1, ["nope.yaml: config file not found"]),
    (
        "value of the wrong type in a config file",
        ["-c", "{tmp}/wrong.yaml"],
        {"../wrong.yaml": "trainer:\n  max_epochs: 1\nseed_everything: abc\n"},
        2,
        ["wrong.yaml:3: seed_everything: expected bool or int, got 'abc'"],
    ),
    (
        "key given twice in a config file",
        ["-c", "{tmp}/twice.yaml"],
        {"../twice.yaml": "trainer:\n  max_epochs: 1\n  devices: 1\n  max_epochs: 2\n"},
        1,
        ["twice.yaml:4: key 'max_epochs' is given twice (first on line 2)"],
    ),
    (
        "YAML syntax error",
        ["-c", "{tmp}/broken.yaml"],
        {"../broken.yaml": "trainer:\n  max_epochs: [1\nx: 1\n"},
        1,
        ["broken.yaml:3: not valid YAML"],
    ),
    ("unknown sampler class", ["--sampler=nope.Sampler"], None, 2, ["nope.Sampler"]),
    ("sampler side outside its choices", ["--sampler.init_args.side=left"], None, 2, ["side", "left"]),
    (
        "message passing outside its choices",
        ["--model.backbone.init_args.message_passing.implementation=fast"],
        None,
        2,
        ["implementation"],
    ),
    ("on_data_issue outside its choices", ["--data.on_data_issue=maybe"], None, 2, ["on_data_issue"]),
    ("test_after_fit not a boolean", ["--test_after_fit=maybe"], None, 2, ["test_after_fit"]),
    (
        "checkpoint_every_n_steps not an integer",
        ["--checkpoint_every_n_steps=abc"],
        None,
        2,
        ["checkpoint_every_n_steps"],
    ),
    # option values
    ("unknown dataset", ["--data.dataset=nope"], None, 1, ["unknown dataset 'nope'", "available"]),
    (
        "data root is a file",
        ["--data.root={tmp}/file.txt", "--data.dataset=fb15k-237"],
        {"../file.txt": "x"},
        1,
        ["is a file, not a folder"],
    ),
    (
        "negative eval_batch_size",
        ["--data.eval_batch_size=-4"],
        None,
        1,
        ["data.eval_batch_size must be a positive integer"],
    ),
    ("zero batch_size", ["--data.batch_size=0"], None, 1, ["data.batch_size must be a positive integer"]),
    ("zero batches_per_epoch", ["--data.batches_per_epoch=0"], None, 1, ["batches_per_epoch must be positive"]),
    ("dim 0", ["--model.backbone.init_args.dim=0"], None, 1, ["dim must be a positive integer, got 0"]),
    (
        "no entity layers",
        ["--model.backbone.init_args.num_entity_layers=0"],
        None,
        1,
        ["number of layers must be a positive integer"],
    ),
    (
        "KGE embedding_dim 0",
        ["--model.backbone=lit_kgns.backbones.TransE", "--model.backbone.init_args.embedding_dim=0"],
        None,
        1,
        ["embedding_dim must be a positive integer"],
    ),
    (
        "KGE on a mixture",
        ["--model.backbone=lit_kgns.backbones.TransE", "--data.train_datasets=[nations,umls]"],
        None,
        1,
        ["single dataset"],
    ),
    ("zero negatives", ["--sampler.init_args.num_negatives=0"], None, 1, ["num_negatives must be a positive integer"]),
    (
        "negative loss temperature",
        ["--model.loss=lit_kgns.losses.SelfAdversarialBCE", "--model.loss.init_args.temperature=-1"],
        None,
        1,
        ["temperature must be >= 0"],
    ),
    ("KMAS temperature 0", [*KMAS, "--sampler.init_args.temperature=0"], None, 1, ["temperature must be positive"]),
    (
        "KMAS hard_weight above 1",
        [*KMAS, "--sampler.init_args.hard_weight=2"],
        None,
        1,
        ["hard_weight must be in (0, 1]"],
    ),
    (
        "KMAS log_q_correction above 1",
        [*KMAS, "--sampler.init_args.log_q_correction=2"],
        None,
        1,
        ["log_q_correction must be in [0, 1]"],
    ),
    (
        "KMAS refresh every 0 steps",
        [*KMAS, "--sampler.init_args.refresh_every_n_steps=0"],
        None,
        1,
        ["refresh_every_n_steps must be a positive integer or null"],
    ),
    (
        "KMAS schedule breakpoints out of order",
        [*KMAS, "--sampler.init_args.schedule.warmup_end=0.6", "--sampler.init_args.schedule.peak_at=0.2"],
        None,
        1,
        ["warmup_end <= peak_at"],
    ),
    (
        "two schedulers",
        ["--lr_scheduler=torch.optim.lr_scheduler.LinearLR", "--model.lr_scheduler=torch.optim.lr_scheduler.LinearLR"],
        None,
        1,
        ["--lr_scheduler or --model.lr_scheduler, not both"],
    ),
    (
        "unknown released checkpoint",
        ["--model.backbone.init_args.checkpoint=nope"],
        None,
        1,
        ["checkpoint 'nope'", "known names"],
    ),
    # checkpoints
    ("ckpt_path last without a run", ["--ckpt_path=last"], None, 1, ["no last.ckpt under"]),
    ("ckpt_path to no file", ["--ckpt_path={tmp}/missing.ckpt"], None, 1, ["missing.ckpt: no such checkpoint file"]),
    (
        "garbage checkpoint",
        ["--ckpt_path={tmp}/garbage.ckpt"],
        {"../garbage.ckpt": "not a checkpoint"},
        1,
        ["garbage.ckpt: not a readable PyTorch checkpoint"],
    ),
    (
        "truncated checkpoint",
        ["--ckpt_path={tmp}/cut.ckpt"],
        {"../cut.ckpt": b"PK\x03\x04\x14\x00"},
        1,
        ["cut.ckpt: not a readable PyTorch checkpoint"],
    ),
    ("ckpt_path to a folder", ["--ckpt_path={tmp}"], None, 1, ["is a folder, not a checkpoint"]),
    # data files (a "nations" folder of our own under the data root)
    ("too few fields", [], {"train.txt": GOOD_TRIPLES + "e1\tr1\n"}, 1, ["train.txt:61: expected 3 fields", "got 2"]),
    (
        "too many fields",
        [],
        {"train.txt": "e1 r1 e2 e3\n" + GOOD_TRIPLES},
        1,
        ["train.txt:1: expected 3 fields", "got 4"],
    ),
    ("empty field", [], {"train.txt": GOOD_TRIPLES + "e1\t\te2\n"}, 1, ["train.txt:61: empty relation field"]),
    ("empty file", [], {"train.txt": ""}, 1, ["train.txt: empty triple file"]),
    ("not UTF-8", [], {"train.txt": GOOD_TRIPLES.encode() + b"e1\tr\xff\te2\n"}, 1, ["train.txt:61: not UTF-8"]),
    (
        "missing split file",
        [],
        {"train.txt": GOOD_TRIPLES, "valid.txt": TEST_TRIPLES, "test.txt": None},
        1,
        ["lacks test.txt", "differ from the published files"],
    ),
    (
        "duplicates refused on request",
        ["--data.on_data_issue=error"],
        {"train.txt": GOOD_TRIPLES + "e0\tr0\te1\n"},
        1,
        ["1 duplicated training triples"],
    ),
    # accepted, with a warning where something is suspicious
    ("byte-order mark", [], {"train.txt": "\ufeff" + GOOD_TRIPLES}, 0, []),
    (
        "header line",
        [],
        {"train.txt": "head\trelation\ttail\n" + GOOD_TRIPLES},
        0,
        ["header line 'head\\trelation\\ttail' skipped"],
    ),
    ("duplicated triples", [], {"train.txt": GOOD_TRIPLES + "e0\tr0\te1\n"}, 0, ["1 duplicated training triples"]),
    (
        "test triples in training",
        [],
        {"test.txt": "e0\tr0\te1\n" + TEST_TRIPLES},
        0,
        ["1 test triples are also training triples"],
    ),
    (
        "test entity never trained on",
        [],
        {"test.txt": "e1\tr1\tnew_entity\n" + TEST_TRIPLES},
        0,
        ["1 test triples have an entity without edges"],
    ),
    (
        "a learning rate that diverges",
        ["--model.optimizer.init_args.lr=1e8", "--trainer.fast_dev_run=5"],
        {},
        1,
        ["training diverged at step", "train/loss is nan", "--trainer.gradient_clip_val"],
    ),
    ("no training step", ["--trainer.fast_dev_run=false", "--trainer.max_steps=0"], {}, 0, ["weights are untrained"]),
    (
        "num_negatives above the entities",
        ["--sampler.init_args.num_negatives=64"],
        {},
        0,
        ["num_negatives=64 is not below the 60 entities"],
    ),
]


def write_nations(root: Path, files: dict[str, str | bytes | None]) -> None:
    folder = root / "nations"
    folder.mkdir(parents=True)
    contents: dict[str, str | bytes | None] = {
        "train.txt": GOOD_TRIPLES,
        "valid.txt": TEST_TRIPLES,
        "test.txt": TEST_TRIPLES,
    }
    contents.update({name: value for name, value in files.items() if not name.startswith("../")})
    for name, content in contents.items():
        if content is None:
            continue
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.mark.parametrize(("case", "extra", "files", "status", "words"), CASES, ids=[case[0] for case in CASES])
def test_bad_input(
    case: str,
    extra: list[str],
    files: dict[str, str | bytes | None] | None,
    status: int,
    words: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    recwarn: pytest.WarningsRecorder,
) -> None:
    monkeypatch.delenv("LIT_KGNS_DATA", raising=False)
    monkeypatch.delenv("LIT_KGNS_TRACEBACK", raising=False)
    data = ["--data.dataset=nations"]
    for name, content in (files or {}).items():
        if name.startswith("../"):
            path = tmp_path / name[3:]
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if files is not None and (files == {} or any(not name.startswith("../") for name in files)):
        write_nations(tmp_path / "root", files)
        data.append(f"--data.root={tmp_path / 'root'}")
    arguments = [argument.replace("{tmp}", str(tmp_path)) for argument in extra]
    config = ["-c", str(REPO / "configs/quickstart.yaml")]
    monkeypatch.setattr(
        sys,
        "argv",
        ["lit-kgns", "fit", *config, *TINY, *data, *arguments, f"--trainer.default_root_dir={tmp_path}/run"],
    )
    code = 0
    try:
        main()
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    output = capsys.readouterr()
    said = output.err + output.out + "\n".join(str(warning.message) for warning in recwarn)
    assert code == status, said[-2000:]
    for word in words:
        assert word in said, said[-2000:]
    assert "Traceback" not in output.err
    if status in (1, 2):  # one line, and where to look next: no usage dump
        assert output.err.startswith("lit-kgns: error: ") and len(output.err.strip().splitlines()) == 2


def test_the_traceback_comes_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIT_KGNS_TRACEBACK", "1")
    config = str(REPO / "configs/quickstart.yaml")
    monkeypatch.setattr(sys, "argv", ["lit-kgns", "fit", "-c", config, "--data.dataset=nope"])
    from lit_kgns.errors import UnknownDatasetError

    with pytest.raises(UnknownDatasetError, match="unknown dataset 'nope'"):
        main()
