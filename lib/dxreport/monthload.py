"""A month's load into the warehouse: read the folder, resolve what each file becomes, load.

`ingest_month` runs the three steps: `read` (dxreport.intake.read_month: every file read,
checked and archived), `resolve` (dxreport.intake.resolve_submissions: the latest `Ngày lập`
of each unit accepted, late files flagged) and `load` (checks against the warehouse's earlier
months, then the month replaced whole in the warehouse).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dxreport import intake, store
from dxreport.catalog import Matcher, Snapshot, load_aliases, load_bundled
from dxreport.params import check_month_format, load_settings
from dxreport.units import Registry, load_registry

__all__ = ["IngestResult", "ingest_month"]


@dataclass
class IngestResult:
    """What one month's load produced (the rows now in the warehouse for that month)."""

    month: str
    submissions: pd.DataFrame
    facts: pd.DataFrame
    issues: pd.DataFrame
    warehouse: Path


def ingest_month(
    month: str,
    inbox_dir: Path | str,
    warehouse_path: Path | str | None = None,
    *,
    registry: Registry | None = None,
    snapshot: Snapshot | None = None,
    raw_dir: Path | str | None = None,
    settings: dict | None = None,
    reader: str | None = None,
    cache: bool = True,
) -> IngestResult:
    """Read every file of `inbox_dir` for `month`, archive them, and replace the month in the warehouse.

    Every file is kept unchanged as raw_dir/<sha256>.<ext> (default: <inbox root>/../raw). The
    latest `Ngày lập` of each unit is accepted, the others are superseded; checks against the
    warehouse's earlier months add warnings. `received_at` is decided once (see
    dxreport.received): the folder's received.csv, else the record kept beside the archived copy,
    else first sight (the earlier of the file's modification time and now), as Asia/Ho_Chi_Minh
    wall time. A file is late when received after `deadline_day` of the following month.

    With `cache` (the default), what reading a file gave is kept in raw_dir/parsed by its
    content and reused while the file, the look-ups, the settings and the code are the same
    (dxreport.intake.cache); the month is loaded exactly as without it.
    """
    check_month_format(month)
    inbox_dir = Path(inbox_dir)
    settings = settings or load_settings()
    registry = registry or load_registry()
    snapshot = snapshot or load_bundled()
    matcher = Matcher(snapshot.platforms, load_aliases())
    raw_dir = Path(raw_dir) if raw_dir is not None else inbox_dir.parent.parent / "raw"
    warehouse_path = Path(warehouse_path) if warehouse_path is not None else store.DEFAULT_PATH
    due = intake.deadline(month, settings["submission"]["deadline_day"])

    files = read(
        month,
        inbox_dir,
        registry=registry,
        matcher=matcher,
        settings=settings,
        raw_dir=raw_dir,
        reader=reader,
        cache=cache,
    )
    resolved = resolve(files, due)
    return load(resolved, files, warehouse_path, registry=registry, snapshot=snapshot)


def read(
    month: str,
    inbox_dir: Path,
    *,
    registry: Registry,
    matcher: Matcher,
    settings: dict,
    raw_dir: Path,
    reader: str | None = None,
    cache: bool = True,
) -> intake.MonthFiles:
    """Step 1: every file of the folder read, checked and archived (dxreport.intake.read_month);
    with `cache`, a file read before as it is now is taken from raw_dir/parsed."""
    return intake.read_month(
        month,
        inbox_dir,
        registry=registry,
        matcher=matcher,
        settings=settings,
        raw_dir=raw_dir,
        reader=reader,
        cache=cache,
    )


def resolve(files: intake.MonthFiles, due: dt.date) -> intake.MonthResolution:
    """Step 2: what each file becomes, accepted, superseded or rejected (dxreport.intake.resolve_submissions)."""
    return intake.resolve_submissions(files, due)


def load(
    resolved: intake.MonthResolution,
    files: intake.MonthFiles,
    warehouse_path: Path,
    *,
    registry: Registry,
    snapshot: Snapshot,
) -> IngestResult:
    """Step 3: check against the warehouse's earlier months, then replace the month there whole."""
    month, facts = resolved.month, resolved.facts
    issue_rows = list(resolved.issues)
    con = store.connect(warehouse_path)
    try:
        history = con.execute(
            "SELECT month, unit, sheet, subject, metric, value FROM facts WHERE month < ? AND value IS NOT NULL",
            [month],
        ).df()
        issue_rows.extend(intake.history_issues(facts, history, month, resolved.names, registry))
        for row in issue_rows:
            row["month"] = month
        submissions = intake.rows_frame(resolved.submissions, store.columns("submissions") + ["sections_loaded"])
        issues = intake.rows_frame(issue_rows, store.columns("issues"))
        submissions["received_at"] = pd.to_datetime(submissions["received_at"])
        store.load_units(con, registry)
        store.load_catalog(con, snapshot)
        store.replace_month(
            con,
            month,
            submissions,
            facts,
            issues,
            run={
                "loaded_at": dt.datetime.now(intake.LOCAL_TZ).replace(tzinfo=None),
                "inbox": str(files.inbox.resolve()),
                "files": files.files,
                "accepted": resolved.accepted,
                "rejected": resolved.rejected,
            },
        )
    finally:
        con.close()
    return IngestResult(month=month, submissions=submissions, facts=facts, issues=issues, warehouse=warehouse_path)
