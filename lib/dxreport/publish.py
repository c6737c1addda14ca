"""Making a report in a staging folder and publishing it whole.

A unit's report is made in outputs/<month>/.staging/<unit>-<pid>/: the executed notebook,
kpis.csv and annex.xlsx (written there by the notebook), then report.html and report.pdf. Only
when all of them are complete are they moved into outputs/<month>/<unit>/, each by an atomic
rename; a report that fails leaves the unit's folder as it was, so a new HTML never sits beside
an old PDF. Whatever a killed run left (staging folders, temporary files) is removed by the
next run, which holds the outputs lock while it does so.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

STAGING = ".staging"
#: The files of a published report, in the order they are moved into place (the PDF first, the
#: notebook last: a report folder with a new notebook has all the new files).
REPORT_FILES = ("report.pdf", "report.html", "kpis.csv", "annex.xlsx", "04_report.ipynb")


def staging_dir(outputs: Path, month: str, unit: str) -> Path:
    """A new, empty staging folder for one unit's report."""
    folder = Path(outputs) / month / STAGING / f"{unit}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def is_staging(outputs: Path, month: str, folder: Path | str) -> bool:
    """Whether `folder` lies inside the month's staging area (what a notebook may be told to write to)."""
    root = (Path(outputs) / month / STAGING).resolve()
    try:
        Path(folder).resolve().relative_to(root)
    except ValueError:
        return False
    return True


def publish(stage: Path, unit_dir: Path) -> dict[str, str]:
    """Move the report files of `stage` into `unit_dir`; returns {kind: file name} of those moved."""
    unit_dir.mkdir(parents=True, exist_ok=True)
    kinds = {
        "report.pdf": "pdf",
        "report.html": "html",
        "kpis.csv": "kpis",
        "04_report.ipynb": "notebook",
        "annex.xlsx": "annex",
    }
    moved = {}
    for name in REPORT_FILES:
        source = stage / name
        if source.exists():
            os.replace(source, unit_dir / name)
            moved[kinds[name]] = name
    shutil.rmtree(stage, ignore_errors=True)
    return moved


def discard(stage: Path) -> None:
    """Remove a staging folder and what it holds."""
    shutil.rmtree(stage, ignore_errors=True)


def clean_leftovers(month_dir: Path) -> list[Path]:
    """Remove what an interrupted run left in a month's folder; returns what was removed.

    The staging area, notebooks being executed (`.*.running.ipynb`) and the temporary files of
    atomic writes (`.*.tmp`, `.*.tmp.pdf`) in the month's folder and its units' folders.
    """
    removed = []
    month_dir = Path(month_dir)
    if not month_dir.is_dir():
        return removed
    staging = month_dir / STAGING
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging)
    for folder in [month_dir, *(p for p in month_dir.iterdir() if p.is_dir() and not p.name.startswith("."))]:
        for path in folder.glob(".*"):
            if path.is_file() and (path.name.endswith((".tmp", ".tmp.pdf", ".running.ipynb"))):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed
