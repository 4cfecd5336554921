"""Run the research notebooks top to bottom with small parameters (papermill) and check what they write.

Each notebook ends with its own assertion cell, so a passing execution already means its sanity bounds held;
these tests also check the table and figure files in the output folder. Outputs go to ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

papermill = pytest.importorskip("papermill")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name: str, tmp_path: Path, **parameters) -> Path:
    """Execute ``notebooks/<name>.ipynb`` in the notebooks folder; returns its output folder."""
    out_dir = tmp_path / "out"
    papermill.execute_notebook(
        str(NOTEBOOKS / f"{name}.ipynb"),
        str(tmp_path / f"{name}.ipynb"),
        parameters={"out_dir": str(out_dir), **parameters},
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    return out_dir


def assert_files(out_dir: Path, *names: str) -> None:
    for name in names:
        path = out_dir / name
        assert path.is_file() and path.stat().st_size > 0, f"{path} missing or empty"


def test_notebooks_have_parameters_cell_and_no_outputs():
    import nbformat

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: expected one `parameters` cell"
        assert "out_dir" in tagged[0].source, f"{path.name}: the output folder must be a parameter"
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs not stripped"


@pytest.mark.slow
def test_sampler_ablation(tmp_path):
    out_dir = execute(
        "sampler_ablation",
        tmp_path,
        backbones=["ultra_small", "transe"],
        samplers=["strict_uniform", "corrupt", "kmas"],
        max_steps=3,
        eval_batch_size=16,
        limit_test_batches=1,
    )
    assert_files(out_dir, "results.csv", "sampler_ablation.png")
    results = pd.read_csv(out_dir / "results.csv")
    assert len(results) == 6 and results["test MRR"].between(0, 1).all()


@pytest.mark.slow
def test_kmas_schedule_ablation(tmp_path):
    out_dir = execute(
        "kmas_schedule_ablation",
        tmp_path,
        variants=["baseline", "uniform", "no_warmup", "temperature_0.01"],
        max_steps=6,
        limit_test_batches=1,
    )
    assert_files(out_dir, "results.csv", "hard_ratio_curves.csv", "hard_ratio_curves.png", "kmas_schedule_ablation.png")
    results = pd.read_csv(out_dir / "results.csv", index_col="variant")
    assert list(results.index) == ["baseline", "uniform", "no_warmup", "temperature_0.01"]
    assert results.loc["uniform", "max logged ratio"] == 0
    assert results.loc["baseline", "max logged ratio"] == pytest.approx(0.5)


@pytest.mark.slow
@pytest.mark.shared_data
def test_zero_shot_transfer(tmp_path, shared_data):
    out_dir = execute(
        "zero_shot_transfer",
        tmp_path,
        models=["ultra_3g", "trix"],
        graphs=["grail_wn18rr_v1"],
        limit_test_batches=1,
        eval_batch_size=4,
        data_root=str(shared_data),
    )
    assert_files(out_dir, "per_graph.csv", "group_means.csv", "zero_shot_transfer.png")
    per_graph = pd.read_csv(out_dir / "per_graph.csv")
    assert len(per_graph) == 2 and per_graph["MRR"].between(0, 1).all()


@pytest.mark.slow
def test_zero_shot_transfer_without_data(tmp_path):
    out_dir = execute("zero_shot_transfer", tmp_path, data_root=str(tmp_path / "absent"))
    assert_files(out_dir, "per_graph.csv", "zero_shot_transfer.png")
    assert pd.read_csv(out_dir / "per_graph.csv").empty
