"""The month-level steps behind notebooks 01–03: each reads files, writes the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dxreport import catalog, kpis, store
from dxreport.params import RunParams, month_source, sample_months, validate_run
from dxreport.units import load_registry


def run_params(month: str, unit: str, inbox: str = "", outputs: str = "") -> RunParams:
    """A notebook's parameters, validated (empty strings mean the project's defaults)."""
    return validate_run({"month": month, "unit": unit, "inbox": inbox or None, "outputs": outputs or None})


def warehouse(run: RunParams) -> Path:
    """The warehouse file of this run's outputs."""
    return store.warehouse_path(run.outputs)


def scrape(run: RunParams) -> catalog.Snapshot:
    """Load the catalog snapshot into the warehouse and keep a copy in the month's folder."""
    snapshot = catalog.load_bundled()
    with store.connect(warehouse(run)) as con:
        store.ensure_schema(con)
        store.load_catalog(con, snapshot)
    out = run.outputs / run.month
    out.mkdir(parents=True, exist_ok=True)
    snapshot.platforms.assign(snapshot_date=snapshot.date).to_csv(out / "catalog.csv", index=False, encoding="utf-8-sig")
    return snapshot


@dataclass
class CleanResult:
    """The month's intake: where the files came from and what was loaded."""

    folder: Path
    is_sample: bool
    submissions: pd.DataFrame
    issues: pd.DataFrame
    tracker: pd.DataFrame
    history_months: list[str]


def clean(run: RunParams) -> CleanResult:
    """Read the month's submissions, validate and load them; write validation.csv and .html.

    On the embedded sample, earlier sample months missing from the warehouse are loaded first,
    so that month-on-month figures and trends have their history.
    """
    from dxreport import intake

    registry = load_registry()
    snapshot = catalog.load_bundled()
    folder, is_sample = month_source(run.month, run.inbox)
    history = []
    if is_sample:
        with store.connect(warehouse(run)) as con:
            store.ensure_schema(con)
            loaded = set(store.months_loaded(con))
        for month in sample_months():
            if month < run.month and month not in loaded:
                src, _ = month_source(month, run.inbox)
                intake.ingest_month(month, src, warehouse(run), registry=registry, snapshot=snapshot)
                history.append(month)
    result = intake.ingest_month(run.month, folder, warehouse(run), registry=registry, snapshot=snapshot)
    out = run.outputs / run.month
    out.mkdir(parents=True, exist_ok=True)
    intake.write_validation(result.issues, out / "validation.csv")
    (out / "validation.html").write_text(intake.validation_page(result.issues, registry, run.month), encoding="utf-8")
    tracker = intake.tracker(run.month, registry, result.submissions)
    return CleanResult(folder, is_sample, result.submissions, result.issues, tracker, history)


def analyse(run: RunParams) -> pd.DataFrame:
    """Compute every indicator for every unit and every loaded month, once; store and return them."""
    registry = load_registry()
    with store.connect(warehouse(run)) as con:
        facts = store.facts_frame(con)
        subs = con.execute("SELECT month, unit FROM submissions WHERE status = 'accepted'").df()
        values = kpis.with_changes(kpis.compute(kpis.base_table(facts, registry, subs)))
        store.write_indicators(con, values)
    out = run.outputs / run.month
    out.mkdir(parents=True, exist_ok=True)
    values[values["month"] == run.month].to_csv(out / "indicators.csv", index=False, encoding="utf-8-sig")
    return values
