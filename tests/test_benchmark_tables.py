"""The paired table the KMAS comparisons print: per-graph differences to the baseline and the means over graphs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def common(monkeypatch: pytest.MonkeyPatch):
    """``benchmarks/common.py``, the benchmark scripts' shared helpers."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    import common

    return common


@pytest.fixture
def paired_table(common):
    return common.paired_table


def _rows(arm: str, dataset: str, scores: dict[int, float]) -> list[dict[str, str]]:
    return [{"dataset": dataset, "arm": arm, "seed": str(seed), "test_mrr": str(mrr)} for seed, mrr in scores.items()]


def test_the_difference_is_paired_by_seed_with_a_student_t_interval(paired_table) -> None:
    rows = [
        *_rows("uniform", "g1", {1: 0.5, 2: 0.6, 3: 0.7}),
        *_rows("hard", "g1", {1: 0.52, 2: 0.61, 3: 0.75}),
    ]
    table = paired_table(rows, baseline="uniform").splitlines()
    assert table[2] == "| g1 | uniform | 3 | 0.6000 ± 0.1000 |  |"
    # differences 0.02, 0.01, 0.05: mean 0.0267, std 0.0208, t(0.975, 2) = 4.3027 -> half width 0.0517
    assert table[3] == "| g1 | hard | 3 | 0.6267 ± 0.1159 | +0.0267 [-0.0250, +0.0784] (n=3) |"
    assert table[-1] == "| **mean of 1 graph** | hard | 3 | 0.6267 ± 0.1159 | +0.0267 [-0.0250, +0.0784] (n=3) |"


def test_each_arm_is_averaged_over_the_graphs_it_shares_with_the_baseline(paired_table) -> None:
    rows = [
        *_rows("uniform", "g1", {1: 0.4, 2: 0.6}),
        *_rows("uniform", "g2", {1: 0.2, 2: 0.4}),
        *_rows("both", "g1", {1: 0.5, 2: 0.6}),
        *_rows("both", "g2", {1: 0.3, 2: 0.5}),
        *_rows("only_g1", "g1", {1: 0.1, 2: 0.35}),
    ]
    means = [line for line in paired_table(rows, baseline="uniform").splitlines() if "**mean" in line]
    assert means == [
        # per seed, the mean over graphs of both minus that of uniform: 0.4 - 0.3 = 0.1, 0.55 - 0.5 = 0.05
        "| **mean of 2 graphs** | uniform | 2 | 0.4000 ± 0.1414 |  |",
        "| **mean of 2 graphs** | both | 2 | 0.4750 ± 0.1061 | +0.0750 [-0.2427, +0.3927] (n=2) |",
        # only_g1 is not left out of the means, nor does it shrink both's: it gets a block of its own
        "| **mean of 1 graph** (not g2) | uniform | 2 | 0.5000 ± 0.1414 |  |",
        "| **mean of 1 graph** (not g2) | only_g1 | 2 | 0.2250 ± 0.1768 | -0.2750 [-0.5927, +0.0427] (n=2) |",
    ]


def test_a_seed_enters_the_mean_over_graphs_only_when_it_finished_every_graph_in_both_arms(paired_table) -> None:
    rows = [
        *_rows("uniform", "g1", {1: 0.4, 2: 0.6, 3: 0.5}),
        *_rows("uniform", "g2", {1: 0.2, 2: 0.4, 3: 0.3}),
        *_rows("full", "g1", {1: 0.5, 2: 0.7, 3: 0.6}),
        *_rows("full", "g2", {1: 0.3, 2: 0.5, 3: 0.4}),
        *_rows("hard", "g1", {1: 0.5, 2: 0.6, 3: 0.9}),
        *_rows("hard", "g2", {1: 0.3, 2: 0.5}),  # seed 3 did not finish g2
    ]
    table = paired_table(rows, baseline="uniform").splitlines()
    assert "| g1 | hard | 3 | 0.6667 ± 0.2082 | +0.1667 [-0.3504, +0.6838] (n=3) |" in table
    assert table[-4:] == [
        "| **mean of 2 graphs** | uniform | 3 | 0.4000 ± 0.1000 |  |",
        "| **mean of 2 graphs** | full | 3 | 0.5000 ± 0.1000 | +0.1000 [+0.1000, +0.1000] (n=3) |",
        # hard is paired over seeds 1 and 2 alone, and so is the baseline row that leads its block
        "| **mean of 2 graphs** (seeds 1, 2) | uniform | 2 | 0.4000 ± 0.1414 |  |",
        "| **mean of 2 graphs** (seeds 1, 2) | hard | 2 | 0.4750 ± 0.1061 | +0.0750 [-0.2427, +0.3927] (n=2) |",
    ]


def test_seed_list_names_runs_of_seeds_compactly(common) -> None:
    seed_list = common.seed_list
    assert [seed_list((1, 2, 3, 4, 5)), seed_list((1, 2)), seed_list((1, 2, 4)), seed_list((6,))] == [
        "seeds 1-5",
        "seeds 1, 2",
        "seeds 1, 2, 4",
        "seed 6",
    ]


def test_the_means_without_a_graph_leave_only_its_rows_out(common) -> None:
    rows = [
        *_rows("uniform", "seen", {1: 0.9, 2: 0.9}),
        *_rows("hard", "seen", {1: 0.1, 2: 0.1}),
        *_rows("uniform", "g1", {1: 0.4, 2: 0.6}),
        *_rows("hard", "g1", {1: 0.5, 2: 0.6}),
    ]
    lines = common.means_without(rows, {"seen"}, baseline="uniform", why="leaked").splitlines()
    assert lines[1] == "Without seen (leaked):"
    assert lines[-2:] == [
        "| **mean of 1 graph** | uniform | 2 | 0.5000 ± 0.1414 |  |",
        "| **mean of 1 graph** | hard | 2 | 0.5500 ± 0.0707 | +0.0500 [-0.5853, +0.6853] (n=2) |",
    ]
    # nothing to leave out, or nothing left: no second table
    assert common.means_without(rows, {"other"}, baseline="uniform", why="") == ""
    assert common.means_without(rows, {"seen", "g1"}, baseline="uniform", why="") == ""


def test_a_pretraining_results_folder_resumes_only_runs_of_the_same_mixture(common) -> None:
    import kmas_pretraining

    rows = [{**row, "mixture": mixture} for mixture in ("small", "medium") for row in _rows("hard", "g1", {1: 0.5})]
    path = Path("results.csv")
    assert kmas_pretraining.rows_of_mixture(rows, "medium", path) == [rows[1]]
    # a row without its mixture (a CSV from before the column) is refused with its line, not taken for either
    with pytest.raises(ValueError, match=r"results.csv, line 3: mixture is None, expected one of small, medium"):
        kmas_pretraining.rows_of_mixture([rows[0], {k: v for k, v in rows[1].items() if k != "mixture"}], "small", path)


def test_each_ablation_level_pairs_kmas_with_the_uniform_arm_that_shares_everything_else(common) -> None:
    import kmas_arms

    mechanisms = {"loss weighting": [("T = 1", "u", "k"), ("T = 0", "u_t0", "k_t0")], "source": [("x", "u", "k_x")]}
    assert kmas_arms.arms_of(mechanisms, ["all"]) == ["u", "k", "u_t0", "k_t0", "k_x"]
    assert kmas_arms.arms_of(mechanisms, ["source"]) == ["u", "k_x"]
    rows = [
        *_rows("u", "g1", {1: 0.5, 2: 0.6}),
        *_rows("k", "g1", {1: 0.4, 2: 0.6}),
        *_rows("u_t0", "g1", {1: 0.3, 2: 0.4}),
        *_rows("k_t0", "g1", {1: 0.4, 2: 0.5}),
    ]
    report = kmas_arms.ablation_report(rows, mechanisms, "Ablations", "python x.py").splitlines()
    # T = 0 is paired with its own uniform arm (+0.1 on both seeds), not with the T = 1 one
    assert "| **mean of 1 graph** | k_t0 | 2 | 0.4500 ± 0.0707 | +0.1000 [+0.1000, +0.1000] (n=2) |" in report
    assert "| **mean of 1 graph** | k | 2 | 0.5000 ± 0.1414 | -0.0500 [-0.6853, +0.5853] (n=2) |" in report
    assert report[report.index("### x: `k_x` against `u`") + 2] == "Not run yet."


def test_curves_belong_to_the_longest_arm_their_folder_ends_with(common) -> None:
    from kmas_curves import arm_of

    arms = ["strict_uniform", "strict_uniform_t0", "kmas_paper", "kmas_paper_t0"]
    assert arm_of("grail_nell_v2_kmas_paper_t0", arms) == "kmas_paper_t0"
    assert arm_of("ingram_nl_25_strict_uniform", arms) == "strict_uniform"
    assert arm_of("kmas_paper", arms) == "kmas_paper"  # pretraining runs are named by their arm alone
    assert arm_of("grail_nell_v2_kmas_wide", arms) is None
