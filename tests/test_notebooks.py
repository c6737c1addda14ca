"""Guards on the committed notebooks: thin, parameterised, clean."""

import ast
from pathlib import Path

import nbformat
import pytest

from dxreport.params import COMMON_PARAMETERS, NOTEBOOK_PARAMETERS

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_four_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS] == ["01_scrape", "02_clean", "03_analyse", "04_report"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exactly_one_parameters_cell_with_the_run_parameters(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    names = [t.id for node in ast.parse(cells[0].source).body for t in node.targets]
    assert names[:4] == list(COMMON_PARAMETERS)
    assert set(names) <= set(NOTEBOOK_PARAMETERS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_python3_kernel_and_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_function_or_class_definitions(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            assert not [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_valid(path):
    nbformat.validate(nbformat.read(path, as_version=4))


def test_notebooks_go_through_nbstripout_on_commit(tmp_path):
    """.gitattributes sends notebooks through nbstripout (installed by make setup), which drops outputs."""
    import subprocess
    import sys

    from nbformat.v4 import new_code_cell, new_notebook, new_output

    root = Path(__file__).resolve().parents[1]
    rules = (root / ".gitattributes").read_text(encoding="utf-8").splitlines()
    assert "*.ipynb filter=nbstripout" in rules
    nb = new_notebook(
        cells=[
            new_code_cell(
                "1 + 1",
                execution_count=3,
                metadata={"tags": ["parameters"]},
                outputs=[new_output("execute_result", {"text/plain": "2"}, execution_count=3)],
            )
        ]
    )
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    cell_id = nb.cells[0].id
    subprocess.run([sys.executable, "-m", "nbstripout", "--keep-id", str(path)], check=True)  # as make setup sets it
    cell = nbformat.read(path, as_version=4).cells[0]
    assert (cell.outputs, cell.execution_count, cell.metadata["tags"], cell.id) == ([], None, ["parameters"], cell_id)
