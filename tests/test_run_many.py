"""lit-kgns-run-many: runs each (config, dataset, seed) in its own process into a resumable CSV and a table."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lit_kgns.run_many import budget, main, run_arguments
from lit_kgns.run_tables import comparison_table, results_table

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
    assert "--data.batches_per_epoch=4000" in arguments and arguments[-1] == "--x=1"
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
        assert 0 < float(row["mrr"]) <= 1 and float(row["hits@1"]) <= float(row["hits@10"])
        assert float(row["num_queries"]) == 64  # one test batch of 32 triples, two queries each
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
