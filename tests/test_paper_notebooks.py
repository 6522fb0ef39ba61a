"""The fig3 notebook executes end to end (at tiny scale) and shows its figure."""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_fig3_notebook_runs_tiny(tmp_path, monkeypatch):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / "fig3.ipynb", as_version=4)
    monkeypatch.setenv("ADAPTIVE_RNN_NOTEBOOK_SCALE", "tiny")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the figure was not displayed"
    assert nb.cells[1].cell_type == "code" and "Config" in nb.cells[1].source


def test_every_experiment_has_a_notebook():
    from adaptive_rnn.paper import EXPERIMENTS

    for name in EXPERIMENTS:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert f"from adaptive_rnn.paper import {name}" in nb.cells[1].source
