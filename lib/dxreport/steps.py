"""The month-level steps behind notebooks 01–03: each reads files, writes the warehouse."""

from __future__ import annotations

import hashlib

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dxreport import catalog, intake, kpis, monthload, received, sample, store
from dxreport.fileio import write_atomic
from dxreport.months import history_start
from dxreport.params import (
    DATA_DIR,
    SCRATCH_DIR,
    ParamError,
    RunParams,
    inbox_months,
    load_settings,
    resolve_month,
    sample_months,
    validate_run,
)
from dxreport.units import load_registry


def month_folder(month: str, inbox: Path | str | None = None) -> tuple[Path, bool]:
    """The folder of the month's submissions and whether it is the embedded sample.

    As params.resolve_month (ParamError when there is none); the sample month is generated on
    first use into data/sample/<month>/.
    """
    source = resolve_month(month, inbox)
    if not source.is_sample:
        return source.folder, False
    return sample.ensure_sample(month, DATA_DIR / "sample"), True


def sample_history(month: str) -> list[str]:
    """The sample months a sample month loads first: those from January of the year before."""
    first = history_start(month)
    return [m for m in sample_months() if first <= m < month]


def run_params(
    month: str, unit: str, inbox: str = "", outputs: str = "", sources: str = "", offline: bool = False
) -> RunParams:
    """A notebook's parameters, validated (empty strings mean the project's defaults).

    `inbox` "" means not named: data/inbox/<month>/, else the embedded sample. A named inbox
    is never replaced by the sample (params.resolve_month). An empty `outputs` (a notebook run by
    hand) is the scratch folder outputs/_scratch/: only a run that names the outputs folder writes
    the published warehouse and files.
    """
    return validate_run(
        {
            "month": month,
            "unit": unit,
            "inbox": inbox or None,
            "outputs": outputs or str(SCRATCH_DIR),
            "sources": sources or None,
            "offline": offline,
        }
    )


def warehouse(run: RunParams) -> Path:
    """The warehouse file of this run's outputs."""
    return store.warehouse_path(run.outputs)


def scrape(run: RunParams, fetch: bool | None = None) -> catalog.ScrapeResult:
    """Fetch the catalogs of run.sources, load the snapshot in use, the fetch log and the changes.

    `fetch` None: fetch unless run.offline or the month runs on the embedded sample (which then
    uses the last good snapshot, else the bundled one). Writes catalog.csv, catalog_fetches.csv
    and catalog_changes.csv in the month's folder.
    """
    if fetch is None:
        _, is_sample = month_folder(run.month, run.inbox)
        fetch = not (run.offline or is_sample)
        reason = "dữ liệu mẫu: không tải danh mục" if is_sample and not run.offline else None
    else:
        reason = None
    result = catalog.scrape(run.sources, offline=not fetch, reason=reason)
    fetches = result.fetch_log(run.month)
    changes = result.changes.assign(month=run.month)
    with store.connect(warehouse(run)) as con:
        store.load_catalog_month(con, run.month, result.snapshot, fetches, changes)
    out = run.outputs / run.month
    catalog.write_csv(result.snapshot.platforms, out / "catalog.csv")
    catalog.write_csv(fetches, out / "catalog_fetches.csv")
    catalog.write_csv(changes[["month", *catalog.CHANGE_COLUMNS]], out / "catalog_changes.csv")
    return result


@dataclass
class CleanResult:
    """The month's intake: where the files came from and what was loaded."""

    folder: Path
    is_sample: bool
    submissions: pd.DataFrame
    issues: pd.DataFrame
    tracker: pd.DataFrame
    history_months: list[str]
    feedback: pd.DataFrame | None = None  # one row per feedback copy: submission_id, unit, file_name, path


def clean(run: RunParams) -> CleanResult:
    """Read the month's submissions, validate and load them; write validation.csv and .html.

    Every submission with an error or a warning gets a marked copy in outputs/<month>/feedback/,
    linked from validation.html together with the submission tracker.

    Earlier months first: every earlier month of the inbox (or of the sample) whose files are
    not in the warehouse as they are now is loaded again, so that month-on-month figures, trends
    and cross-month checks have their history, also after the warehouse was made anew.
    """
    registry = load_registry()
    settings = load_settings()
    snapshot = store.catalog_in_use(warehouse(run))
    folder, is_sample = month_folder(run.month, run.inbox)
    history = []
    for month in stale_history(run):
        src = _history_folder(run, month, is_sample)
        monthload.ingest_month(month, src, warehouse(run), registry=registry, snapshot=snapshot, settings=settings)
        history.append(month)
    # a month folder under an inbox root keeps its archive beside that root (<root>/../raw); a loose
    # folder of workbooks named with --inbox has no such place: the project's data/raw
    raw = None if folder.name == run.month else DATA_DIR / "raw"
    result = monthload.ingest_month(
        run.month, folder, warehouse(run), registry=registry, snapshot=snapshot, raw_dir=raw, settings=settings
    )
    out = run.outputs / run.month
    out.mkdir(parents=True, exist_ok=True)
    intake.write_validation(result.issues, out / "validation.csv", result.submissions)
    tracker = intake.tracker(run.month, registry, result.submissions, result.facts)
    feedback = intake.write_feedback_month(
        run.month, result.submissions, result.issues, out / intake.FEEDBACK_DIR, registry=registry, settings=settings
    )
    links = {
        sid: f"{intake.FEEDBACK_DIR}/{Path(path).name}"
        for sid, path in zip(feedback["submission_id"], feedback["path"])
    }
    page = intake.validation_page(result.issues, registry, run.month, tracker, links, result.submissions)
    write_atomic(out / "validation.html", page)
    return CleanResult(folder, is_sample, result.submissions, result.issues, tracker, history, feedback)


def _file_hashes(folder: Path) -> set[str]:
    """The submissions of a folder by content (its received.csv is not one)."""
    return {
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not received.is_list(p)
    }


def _history_folder(run: RunParams, month: str, is_sample: bool) -> Path:
    """The folder of an earlier `month`: from the sample, or beside the run's month in its inbox root."""
    if is_sample:
        return month_folder(month, None)[0]
    return resolve_month(run.month, run.inbox).root / month


def stale_history(run: RunParams) -> list[str]:
    """Earlier months whose submissions in the warehouse differ from the files of their folder
    or from the received times its received.csv gives.

    History comes from where the month itself comes from: for a sample month, the sample months
    from January of the year before (sample_history: the month before, the same month last year
    and both years to date), each generated when first needed; else the YYYY-MM folders of the
    month's inbox root (none when the named folder holds the month's workbooks directly); never
    sample months behind real data.
    """
    with store.connect(warehouse(run)) as con:
        loaded = con.execute("SELECT month, list(DISTINCT submission_id) FROM submissions GROUP BY month").fetchall()
        times = con.execute(
            "SELECT month, file_name, received_at, received_source, received_channel FROM submissions"
        ).fetchall()
    loaded = {month: set(ids) for month, ids in loaded}
    received_times: dict[str, dict] = {}
    for month, name, *when in times:
        received_times.setdefault(month, {})[name] = tuple(when)
    source = resolve_month(run.month, run.inbox)
    months = sample_history(run.month) if source.is_sample else inbox_months(source.root)
    stale = []
    for month in months:
        if month >= run.month:
            continue
        if source.is_sample:
            try:
                if not resolve_month(month, None).is_sample:
                    continue
            except ParamError:  # an empty data/inbox/<month>/ of a sample month: not sample history
                continue
            folder = sample.ensure_sample(month, DATA_DIR / "sample")  # as month_folder, resolved once
        else:
            folder = source.root / month
        if _file_hashes(folder) != loaded.get(month, set()) or received.differs(folder, received_times.get(month, {})):
            stale.append(month)
    return stale


def analyse(run: RunParams) -> pd.DataFrame:
    """Compute every indicator for every unit and every loaded month, once; store and return them.

    The returned table also has the same month last year and the year to date (kpis.with_year),
    which the report recomputes from the stored months; outputs/<month>/indicators.csv has them.
    """
    registry = load_registry()
    with store.connect(warehouse(run)) as con:
        facts = store.facts_frame(con)
        subs = con.execute("SELECT month, unit, late FROM submissions WHERE status = 'accepted'").df()
        catalog_table = con.execute("SELECT platform_id, catalog, name FROM catalog").df()
        values = kpis.with_changes(kpis.compute(kpis.base_table(facts, registry, subs, catalog_table)))
        store.write_indicators(con, values)
    values = kpis.with_year(values, registry, facts)
    out = run.outputs / run.month
    out.mkdir(parents=True, exist_ok=True)
    values[values["month"] == run.month].to_csv(out / "indicators.csv", index=False, encoding="utf-8-sig")
    return values


def mail_status(run: RunParams, tracker: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """What the mail of the month stands at, for 02_clean: the rows of the last fetch from the
    mailbox (None when nothing was ever fetched), and who a reminder would go to (the units that
    have not submitted or were rejected, with the addresses of params/contacts.csv; an empty
    address is a contact still to be set). Nothing is written or sent."""
    from dxreport import contacts, mailbox

    root = run.inbox if run.inbox is not None else DATA_DIR / "inbox"
    if root.name == run.month:
        root = root.parent
    registry = load_registry()
    book = contacts.load_contacts(registry=registry)
    due = tracker[tracker["status"].isin(["missing", "rejected"])]
    reminders = pd.DataFrame(
        {
            "unit": due["unit"],
            "unit_name": due["unit_name"],
            "status_label": due["status_label"],
            "to": ["; ".join(book.addresses(code, run.month)) for code in due["unit"]],
        }
    ).reset_index(drop=True)
    return mailbox.last_fetch(root), reminders
