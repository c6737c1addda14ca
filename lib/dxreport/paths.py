"""Where the project's folders are, the error of a bad parameter, and how a path is shown.

The lowest module of dxreport: everything may import it, it imports nothing of dxreport.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PARAMS_DIR = PROJECT_ROOT / "params"
DATA_DIR = PROJECT_ROOT / "data"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"
#: Where notebooks run by hand (JupyterLab, the papermill CLI) write, unless given `outputs`.
SCRATCH_DIR = OUTPUTS_DIR / "_scratch"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
SOURCES_FILE = PARAMS_DIR / "sources.yaml"
#: The warehouse of an outputs folder: <outputs>/warehouse.duckdb.
WAREHOUSE_NAME = "warehouse.duckdb"


class ParamError(ValueError):
    """A run parameter or a params/ file that is not valid."""


def shown_path(path: Path | str) -> str:
    """A path as the user reads it: relative to the project folder when inside it, else absolute."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
