"""Old reports stay true: the 12/2022 reports made today equal the ones pinned in tests/golden/.

The month is run from the embedded sample in a copy of the project (lib, params, notebooks, the bundled catalog), so a
developer's own data/inbox never enters. What is compared is what a reader sees: the HTML and
SVG the report notebook displays, and each unit's kpis.csv (its pinned columns).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dxreport.paths import PROJECT_ROOT

GOLDEN = Path(__file__).parent / "golden" / "2022-12"
UNITS = ("tinh", "474", "478", "snv", "hueioc")


def _shown(notebook: Path) -> str:
    """The HTML and SVG outputs of an executed notebook, in order."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for mime in ("text/html", "image/svg+xml"):
                if mime in data:
                    value = data[mime]
                    parts.append("".join(value) if isinstance(value, list) else value)
    return "\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def december_2022(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    for folder in ("lib", "params", "notebooks", "data/catalog"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(root / "lib")}
    outputs = root / "outputs"
    for unit in UNITS:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from dxreport.cli import main; main()",
                "run",
                "--month",
                "2022-12",
                "--unit",
                unit,
                "--quiet",
            ]
            + ["--outputs", str(outputs), "--report-date", "2023-01-06"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return outputs / "2022-12"


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_december_2022_report_is_unchanged(december_2022, unit):
    shown = _shown(december_2022 / unit / "04_report.ipynb")
    assert shown == (GOLDEN / f"{unit}.html").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_december_2022_indicators_are_unchanged(december_2022, unit):
    # columns may be added at the end; the pinned ones keep their order and every value
    made = (december_2022 / unit / "kpis.csv").read_text(encoding="utf-8-sig").splitlines()
    pinned = (GOLDEN / f"{unit}.kpis.csv").read_text(encoding="utf-8-sig").splitlines()
    width = len(next(csv.reader(pinned[:1])))
    assert len(made) == len(pinned)
    assert [row[:width] for row in csv.reader(made)] == list(csv.reader(pinned))
