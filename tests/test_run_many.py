"""lit-kgns-run-many: runs each (config, dataset, seed) in its own process into a resumable CSV and a table."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from metric_checks import answers_of_first_queries, assert_ranking_metrics

from lit_kgns import child_runs
from lit_kgns.analysis.run_tables import METRICS, comparison_table, results_table
from lit_kgns.commands import run_many as run_many_module
from lit_kgns.commands.run_many import budget, main, run_arguments
from lit_kgns.data.catalog import load_dataset
from lit_kgns.errors import ConfigError
from lit_kgns.results_csv import read_rows

REPO = Path(__file__).resolve().parents[1]


def test_budgets_follow_upstream_run_many() -> None:
    assert budget("grail_fb237_v2", "finetune") == (1, None)
    assert budget("grail_nell_v3", "finetune") == (3, None)
    assert budget("ilpc2022_large", "finetune") == (1, 1000)
    assert budget("hm_1k", "finetune") == (1, 100)
    assert budget("codex-m", "finetune") == (1, 4000)
    assert budget("umls", "scratch") == (10, 1000)
    arguments = run_arguments("c.yaml", "finetune", "codex-m", 7, Path("out"), ["--x=1"])
    assert arguments[:2] == ["fit", "-c"] and "--trainer.max_epochs=1" in arguments
    assert "--data.batches_per_epoch=4000" in arguments and "--x=1" in arguments
    assert run_arguments("c.yaml", "zero_shot", "umls", 7, Path("out"), [])[0] == "test"


def test_zero_shot_over_two_graphs_writes_rows_and_group_means_and_resumes(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["--configs", str(REPO / "configs/zero_shot/ultra_3g.yaml")]
    argv += ["--datasets", "grail_nell_v1", "grail_wn18rr_v1"]
    argv += ["--data-root", str(shared_data), "--out", str(out), "--", "--trainer.limit_test_batches=1"]
    main(argv)
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(row["config"], row["dataset"], row["group"]) for row in rows] == [
        ("ultra_3g", "grail_nell_v1", "inductive_e"),
        ("ultra_3g", "grail_wn18rr_v1", "inductive_e"),
    ]
    for row in rows:
        # one test batch: 32 triples' worth of distinct queries, with every test triple asking them
        test = load_dataset(row["dataset"], shared_data).test
        rows_asked = answers_of_first_queries(test.targets.tolist(), 64)
        assert_ranking_metrics({f"test/{key}": row[key] for key in METRICS if row[key]}, "test", rows_asked)
    # a NELL v1 query has fewer than 49 filtered candidates: no Hits@10 against 50 sampled negatives there
    assert rows[0]["hits@10_50"] in ("", "None") and 0 < float(rows[1]["hits@10_50"]) <= 1
    table = (out / "results.md").read_text()
    mean = (float(rows[0]["mrr"]) + float(rows[1]["mrr"])) / 2
    assert f"| ultra_3g | zero_shot | inductive_e | 2 | {mean:.4f} |" in table
    assert "0.420 | 0.562" in table  # the published inductive(e) group mean beside ours
    logs = sorted(out.glob("*.log"))
    stamps = [log.stat().st_mtime for log in logs]
    main(argv)  # everything finished: nothing runs again
    assert len(list(csv.DictReader((out / "results.csv").open()))) == 2
    assert [log.stat().st_mtime for log in logs] == stamps
    assert table in capsys.readouterr().out


def test_the_table_averages_seeds_per_graph_then_graphs_per_group() -> None:
    rows = [
        {"config": "trix", "mode": "zero_shot", "dataset": d, "group": "inductive_e", "seed": s, "mrr": m,
         "hits@1": "0.1", "hits@3": "0.2", "hits@10": h, "hits@10_50": "", "num_queries": "10", "seconds": "1"}
        for d, s, m, h in (("grail_nell_v1", "1", "0.4", "0.6"), ("grail_nell_v1", "2", "0.6", "0.8"),
                           ("grail_nell_v2", "1", "0.2", "0.4"))
    ]  # fmt: skip
    table = results_table(rows)
    assert "| trix | zero_shot | grail_nell_v1 | inductive_e | 2 | 0.5000 |" in table
    assert "| trix | zero_shot | inductive_e | 2 | 0.3500 | 0.5500 | 0.455 | 0.592 |" in table


def _row(config: str, dataset: str, group: str, seed: str, mrr: str, hits: str) -> dict[str, str]:
    return {"config": config, "mode": "zero_shot", "dataset": dataset, "group": group, "seed": seed, "mrr": mrr,
            "hits@1": "0.1", "hits@3": "0.2", "hits@10": hits, "hits@10_50": "", "num_queries": "10",
            "seconds": "60"}  # fmt: skip


def test_the_comparison_averages_each_group_over_the_graphs_every_config_ran() -> None:
    rows = [
        _row("ultra_3g", "grail_nell_v1", "inductive_e", "1", "0.4", "0.6"),
        _row("ultra_3g", "grail_nell_v2", "inductive_e", "1", "0.2", "0.4"),
        _row("ultra_3g", "ingram_nl_0", "inductive_er", "1", "0.3", "0.5"),
        _row("trix", "grail_nell_v1", "inductive_e", "1", "0.5", "0.7"),
        _row("trix", "grail_nell_v1", "inductive_e", "2", "0.7", "0.9"),
    ]
    table = comparison_table(rows).splitlines()
    assert table[0] == "| graph | group | ultra_3g | trix |"
    assert "| grail_nell_v2 | inductive_e | 0.2000 / 0.4000 | — |" in table
    assert "| grail_nell_v1 | inductive_e | 0.4000 / 0.6000 | 0.6000 / 0.8000 |" in table  # trix: mean of 2 seeds
    # only grail_nell_v1 was run by both: the group mean is over it alone, beside the published 18-graph means
    assert "| **mean, 1 of 18 graphs** | inductive_e | 0.4000 / 0.6000 | 0.6000 / 0.8000 |" in table
    assert "| published mean, 18 graphs | inductive_e | 0.420 / 0.562 | 0.455 / 0.592 |" in table
    assert not any("inductive_er |" in line and "mean" in line for line in table)  # trix ran no (e,r) graph
    assert table[-1] == "| time, one seed | | 3 min | 1 min |"


def test_graphs_outside_the_57_are_listed_but_left_out_of_the_group_means() -> None:
    rows = [
        _row("ultra_3g", "umls", "other", "1", "0.9", "0.9"),
        _row("ultra_3g", "codex-s", "transductive", "1", "0.5", "0.7"),
    ]
    results, comparison = results_table(rows), comparison_table(rows).splitlines()
    assert "| ultra_3g | zero_shot | transductive | 1 | 0.5000 | 0.7000 | 0.329 | 0.479 |" in results
    assert "| umls | other | 0.9000 / 0.9000 |" in comparison
    assert "| **mean, 1 of 16 graphs** | transductive | 0.5000 / 0.7000 |" in comparison
    assert not any("other" in line and "mean" in line for line in results.splitlines() + comparison)


def test_table_only_writes_the_tables_of_the_selected_finished_runs(tmp_path: Path) -> None:
    rows = [_row("ultra_3g", "grail_nell_v1", "inductive_e", "1024", "0.4", "0.6"),
            _row("trix", "grail_nell_v1", "inductive_e", "1024", "0.5", "0.7")]  # fmt: skip
    with (tmp_path / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    main(["--configs", "configs/zero_shot/trix.yaml", "--datasets", "grail_nell_v1", "grail_nell_v2",
          "--out", str(tmp_path), "--table-only"])  # fmt: skip
    tables = (tmp_path / "results.md").read_text()
    assert "| trix | zero_shot | grail_nell_v1 |" in tables and "ultra_3g" not in tables
    assert not list(tmp_path.glob("*.log"))  # nothing ran
    configs = ["configs/zero_shot/trix.yaml", "configs/zero_shot/ultra_3g.yaml"]
    main(["--configs", *configs, "--datasets", "grail_nell_v1", "--out", str(tmp_path), "--table-only"])
    assert "| graph | group | trix | ultra_3g |" in (tmp_path / "results.md").read_text()  # the order given


def test_options_after_the_double_dash_cannot_replace_what_a_run_records() -> None:
    arguments = run_arguments("c.yaml", "zero_shot", "umls", 7, Path("out"), ["-c", "other.yaml"])
    # a config file after -- comes before the run's own options, which therefore win
    assert arguments.index("other.yaml") < arguments.index("--data.dataset=umls")
    assert arguments.index("other.yaml") < arguments.index("--seed_everything=7")
    for extra in (["--data.dataset=nations"], ["--seed_everything", "3"], ["--trainer.default_root_dir=x"]):
        with pytest.raises(ConfigError, match=rf"{extra[0].split('=')[0]} after --: run-many sets it"):
            run_arguments("c.yaml", "zero_shot", "umls", 7, Path("out"), extra)
    with pytest.raises(ConfigError, match=r"--trainer\.max_epochs after --"):
        run_arguments("c.yaml", "finetune", "umls", 7, Path("out"), ["--trainer.max_epochs=2"])
    assert "--trainer.max_epochs=2" in run_arguments(
        "c.yaml", "zero_shot", "umls", 7, Path("out"), ["--trainer.max_epochs=2"]
    )


def test_each_row_is_what_its_run_resolved_and_a_damaged_row_runs_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-- -c quickstart.yaml`` (dataset umls, seed 0, its own folder) once replaced every run's dataset, seed and
    folder while the CSV said otherwise; a dataset given as a folder once crashed on its log file's name."""
    out = tmp_path / "out"
    config = str(REPO / "configs/quickstart.yaml")
    argv = ["--configs", config, "--datasets", "nations", str(REPO / "examples/family"), "--seeds", "3"]
    argv += ["--out", str(out), "--", "-c", config, "--trainer.limit_test_batches=1"]
    argv += ["--model.backbone.init_args.num_relation_layers=1", "--model.backbone.init_args.num_entity_layers=1"]
    main(argv)
    rows = read_rows(out / "results.csv")
    assert [(row["dataset"], row["seed"]) for row in rows] == [("nations", "3"), (str(REPO / "examples/family"), "3")]
    for row in rows:
        run_dir = Path(row["run_dir"])
        assert run_dir.parent == out / "runs"
        saved = yaml.safe_load((run_dir / "config.yaml").read_text())
        assert (saved["data"]["dataset"], saved["seed_everything"]) == (row["dataset"], 3)

    text = (out / "results.csv").read_text()
    (out / "results.csv").write_text(text[: text.rindex(",")])  # the last append killed half way
    with pytest.warns(UserWarning, match=r"results\.csv:3: damaged row skipped"):
        main(argv)
    again = read_rows(out / "results.csv")
    assert [row["dataset"] for row in again] == ["nations", str(REPO / "examples/family")]
    assert again[0] == rows[0] and again[1]["mrr"] == rows[1]["mrr"]  # the same seed, the same number


def test_a_clash_after_the_double_dash_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--configs", "c.yaml", "--datasets", "umls", "--out", str(tmp_path), "--", "--data.dataset", "nations"]
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 1
    assert capsys.readouterr().err == (
        "lit-kgns-run-many: error: --data.dataset after --: run-many sets it for each run (--data.dataset, "
        "--seed_everything, --trainer.default_root_dir); use its own --datasets, --seeds, --out or --mode instead\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_stops_the_children_and_exits_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    processes: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen:
        processes.append(real_popen(*args, **kwargs))
        return processes[-1]

    real_sleep, pressed = time.sleep, []

    def ctrl_c(seconds: float) -> None:  # pressed once, while the first two children run
        if not pressed:
            pressed.append(True)
            raise KeyboardInterrupt
        real_sleep(seconds)

    monkeypatch.setattr(child_runs.subprocess, "Popen", popen)
    monkeypatch.setattr(child_runs.time, "sleep", ctrl_c)
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    with pytest.raises(KeyboardInterrupt):
        child_runs.run_in_processes([1, 2, 3], lambda job: sleeper, lambda job: tmp_path / f"{job}.log", print, 2)
    monkeypatch.undo()
    assert len(processes) == 2 and all(process.poll() is not None for process in processes)  # none left orphaned

    def interrupted(argv: list[str], extra: list[str]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_many_module, "run_many", interrupted)
    with pytest.raises(SystemExit) as stopped:
        main(["--configs", "c.yaml", "--datasets", "umls"])
    assert stopped.value.code == 130
    error = capsys.readouterr().err
    assert error.startswith("lit-kgns-run-many: interrupted; the runs under way were stopped")
    assert len(error.splitlines()) == 1
