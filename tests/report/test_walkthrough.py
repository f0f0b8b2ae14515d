"""notebooks/walkthrough.ipynb runs from a clean kernel, start to end, without errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "walkthrough.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_walkthrough_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = Path(shutil.copy(NOTEBOOK, tmp_path / "walkthrough.ipynb"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's outputs stay in tmp_path
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows plots
    notebook = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the four plots, then the comparison plots
    last = notebook.cells[-1].outputs[0]["data"]["text/plain"]
    assert "compare.xlsx" in last and "plots/fairness.png" in last
