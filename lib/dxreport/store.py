"""The warehouse: one DuckDB file with the units, the catalog and every loaded month.

Only the month-level steps write it; report processes open it read-only. A month is always
replaced whole, in one transaction, so loading the same month twice gives the same warehouse
and a load that fails half-way leaves the previous state untouched.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Iterable

import duckdb
import pandas as pd

from dxreport import received
from dxreport.catalog import Snapshot, load_bundled
from dxreport.warehouse import (  # noqa: F401 - read as store.X too
    DEFAULT_PATH,
    StoreError,
    connect_read_only,
    holds_month,
    months_loaded,
    warehouse_path,
)

log = logging.getLogger(__name__)


SUBMISSION_STATUSES = ("accepted", "superseded", "rejected")
# Where a submission's received_at comes from, and how the file came (dxreport.received).
RECEIVED_SOURCES = received.SOURCES
RECEIVED_CHANNELS = received.CHANNELS
SEVERITIES = ("error", "warning")
SUBJECT_KINDS = ("platform", "commune", "unit")

# Table name -> ordered (column, SQL type) pairs. Other modules read these tables: the names
# and columns are a contract. Timestamps are Asia/Ho_Chi_Minh wall time, without a zone.
SCHEMA: dict[str, tuple[tuple[str, str], ...]] = {
    "units": (
        ("code", "VARCHAR"),
        ("name", "VARCHAR"),
        ("short_name", "VARCHAR"),
        ("type", "VARCHAR"),
        ("parent", "VARCHAR"),
        ("population", "BIGINT"),
        ("population_year", "INTEGER"),
        ("valid_from", "VARCHAR"),
        ("valid_to", "VARCHAR"),
    ),
    "catalog": (
        ("platform_id", "VARCHAR"),
        ("catalog", "VARCHAR"),
        ("name", "VARCHAR"),
        ("provider", "VARCHAR"),
        ("field", "VARCHAR"),
        ("link", "VARCHAR"),
        ("source", "VARCHAR"),
        ("snapshot_date", "DATE"),
        ("first_seen", "DATE"),
        ("last_seen", "DATE"),
    ),
    # Per month: the catalog fetch of each catalog (dxreport.catalog.ScrapeResult.fetch_log) and
    # the platforms added, removed or renamed since the previous month's snapshot.
    "catalog_fetches": (
        ("month", "VARCHAR"),
        ("catalog", "VARCHAR"),
        ("url", "VARCHAR"),
        ("status", "INTEGER"),
        ("fetched_at", "TIMESTAMP"),
        ("bytes", "BIGINT"),
        ("items", "INTEGER"),
        ("outcome", "VARCHAR"),
        ("message", "VARCHAR"),
        ("snapshot_date", "DATE"),
    ),
    "catalog_changes": (
        ("month", "VARCHAR"),
        ("change", "VARCHAR"),
        ("platform_id", "VARCHAR"),
        ("catalog", "VARCHAR"),
        ("name", "VARCHAR"),
        ("previous_name", "VARCHAR"),
        ("snapshot_date", "DATE"),
    ),
    "submissions": (
        ("submission_id", "VARCHAR"),
        ("month", "VARCHAR"),
        ("unit", "VARCHAR"),
        ("file_name", "VARCHAR"),
        ("archived_path", "VARCHAR"),
        ("received_at", "TIMESTAMP"),
        ("received_source", "VARCHAR"),
        ("received_channel", "VARCHAR"),
        ("prepared_on", "DATE"),
        ("preparer", "VARCHAR"),
        ("status", "VARCHAR"),
        ("superseded_by", "VARCHAR"),
        ("is_sample", "BOOLEAN"),
        ("late", "BOOLEAN"),
        ("rows_loaded", "INTEGER"),
        ("rows_rejected", "INTEGER"),
    ),
    "facts": (
        ("month", "VARCHAR"),
        ("unit", "VARCHAR"),
        ("sheet", "VARCHAR"),
        ("subject_kind", "VARCHAR"),
        ("subject", "VARCHAR"),
        ("subject_name", "VARCHAR"),
        ("metric", "VARCHAR"),
        ("value", "DOUBLE"),
        ("text", "VARCHAR"),
        ("submission_id", "VARCHAR"),
        ("cell", "VARCHAR"),
    ),
    "issues": (
        ("month", "VARCHAR"),
        ("unit", "VARCHAR"),
        ("file_name", "VARCHAR"),
        ("sheet", "VARCHAR"),
        ("cell", "VARCHAR"),
        ("rule", "VARCHAR"),
        ("severity", "VARCHAR"),
        ("message", "VARCHAR"),
        ("submission_id", "VARCHAR"),
    ),
    "runs": (
        ("month", "VARCHAR"),
        ("loaded_at", "TIMESTAMP"),
        ("inbox", "VARCHAR"),
        ("files", "INTEGER"),
        ("accepted", "INTEGER"),
        ("rejected", "INTEGER"),
    ),
    # Every indicator of every unit and loaded month (dxreport.kpis), rewritten whole by analyse.
    "indicators": (
        ("month", "VARCHAR"),
        ("unit", "VARCHAR"),
        ("indicator", "VARCHAR"),
        ("value", "DOUBLE"),
        ("previous", "DOUBLE"),
        ("change", "DOUBLE"),
        ("change_pct", "DOUBLE"),
    ),
}

_CONSTRAINTS = {
    "units": ("CHECK (code IS NOT NULL)",),
    "catalog": ("CHECK (platform_id IS NOT NULL)",),
    "catalog_fetches": (
        "CHECK (month IS NOT NULL AND catalog IS NOT NULL)",
        "CHECK (outcome IN ('ok', 'failed', 'offline', 'not_configured'))",
    ),
    "catalog_changes": (
        "CHECK (month IS NOT NULL AND platform_id IS NOT NULL)",
        "CHECK (change IN ('added', 'removed', 'renamed'))",
    ),
    "submissions": (
        "CHECK (submission_id IS NOT NULL AND month IS NOT NULL)",
        f"CHECK (status IN {SUBMISSION_STATUSES})",
        f"CHECK (received_source IN {RECEIVED_SOURCES})",
        f"CHECK (received_channel IN {RECEIVED_CHANNELS})",
    ),
    "facts": (
        "CHECK (month IS NOT NULL AND unit IS NOT NULL AND sheet IS NOT NULL AND metric IS NOT NULL)",
        f"CHECK (subject_kind IN {SUBJECT_KINDS})",
    ),
    "issues": ("CHECK (month IS NOT NULL AND rule IS NOT NULL)", f"CHECK (severity IN {SEVERITIES})"),
    "runs": ("CHECK (month IS NOT NULL)",),
    "indicators": ("CHECK (month IS NOT NULL AND unit IS NOT NULL AND indicator IS NOT NULL)",),
}

# Tables holding one month's load; replace_month rewrites their rows for that month.
MONTH_TABLES = ("submissions", "facts", "issues")

_ORDER = {
    "units": "code, valid_from",
    "catalog": "platform_id",
    "catalog_fetches": "month, catalog",
    "catalog_changes": "month, catalog, change, name, platform_id",
    "submissions": "month, unit, received_at, file_name, submission_id",
    "facts": "month, unit, sheet, subject_kind, subject, metric, submission_id",
    "issues": "month, unit, file_name, sheet, cell, rule, message",
    "runs": "month",
    "indicators": "month, unit, indicator",
}


class SchemaMismatch(StoreError):
    """A warehouse file made by another version of the schema."""


def columns(table: str) -> list[str]:
    """The column names of a warehouse table, in order."""
    return [name for name, _ in SCHEMA[table]]


def connect(path: Path | str | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (default outputs/warehouse.duckdb); a writable one gets the schema."""
    path = Path(path) if path is not None else DEFAULT_PATH
    if read_only:
        return connect_read_only(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
    except SchemaMismatch as exc:
        # The warehouse is rebuilt from data/ and params/; the old file is kept beside it.
        con.close()
        kept = path.with_name(f"{path.stem}.{datetime.now():%Y%m%d-%H%M%S}.cu{path.suffix}")
        path.rename(kept)
        log.warning("%s; tệp cũ được giữ lại ở %s và kho dữ liệu được lập lại", exc, kept)
        con = duckdb.connect(str(path))
        ensure_schema(con)
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables that do not exist; refuse a file whose tables have other columns."""
    existing: dict[str, list[str]] = {table: [] for table in SCHEMA}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ).fetchall():
        if table in existing:
            existing[table].append(column)
    for table, cols in SCHEMA.items():
        if existing[table]:
            if existing[table] != columns(table):
                raise SchemaMismatch(
                    f"bảng {table} trong kho dữ liệu có cột {', '.join(existing[table])}, "
                    f"khác với cấu trúc hiện hành ({', '.join(columns(table))})"
                )
            continue
        body = ", ".join([f"{name} {sql_type}" for name, sql_type in cols] + list(_CONSTRAINTS.get(table, ())))
        con.execute(f"CREATE TABLE {table} ({body})")


def _conform(frame: pd.DataFrame | None, table: str) -> pd.DataFrame:
    """`frame` with exactly the table's columns, in order (missing columns are NULL)."""
    cols = columns(table)
    if frame is None:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    extra = set(frame.columns) - set(cols)
    out = frame.drop(columns=sorted(extra)).copy() if extra else frame.copy()
    for c in cols:
        if c not in out.columns:
            out[c] = None
    return out[cols].reset_index(drop=True)


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | None) -> int:
    """Insert `frame` into `table`, casting every column to the table's type."""
    data = _conform(frame, table)
    if data.empty:
        return 0
    name = f"_dxreport_in_{table}"
    select = ", ".join(f'CAST("{c}" AS {t})' for c, t in SCHEMA[table])
    con.register(name, data)
    try:
        con.execute(f"INSERT INTO {table} SELECT {select} FROM {name}")
    finally:
        try:
            con.unregister(name)
        except duckdb.TransactionException:
            pass  # the insert failed and aborted the transaction: its own error is the one to raise
    return len(data)


def _check_month(frame: pd.DataFrame | None, month: str, table: str) -> None:
    if frame is not None and "month" in frame.columns and len(frame):
        other = set(frame["month"].dropna().astype(str)) - {month}
        if other or frame["month"].isna().any():
            raise StoreError(f"bảng {table}: có dòng không thuộc tháng {month} ({', '.join(sorted(other)) or 'trống'})")


def replace_month(
    con: duckdb.DuckDBPyConnection,
    month: str,
    submissions: pd.DataFrame | None,
    facts: pd.DataFrame | None,
    issues: pd.DataFrame | None,
    *,
    run: dict | None = None,
) -> None:
    """Replace everything loaded for `month` in one transaction.

    The month's rows of submissions, facts and issues (and its row of runs when `run` is
    given) are deleted and the new ones inserted; on any error nothing changes.
    """
    for table, frame in (("submissions", submissions), ("facts", facts), ("issues", issues)):
        _check_month(frame, month, table)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in MONTH_TABLES:
            con.execute(f"DELETE FROM {table} WHERE month = ?", [month])
        if run is not None:
            con.execute("DELETE FROM runs WHERE month = ?", [month])
        _insert(con, "submissions", submissions)
        _insert(con, "facts", facts)
        _insert(con, "issues", issues)
        if run is not None:
            _insert(con, "runs", pd.DataFrame([{**run, "month": month}]))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {table}")
        _insert(con, table, frame)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def load_units(con: duckdb.DuckDBPyConnection, registry) -> None:
    """Refresh the units table from a units Registry."""
    frame = pd.DataFrame(
        [
            {
                "code": u.code,
                "name": u.name,
                "short_name": u.short_name,
                "type": u.type,
                "parent": u.parent or None,
                "population": u.population,
                "population_year": u.population_year,
                "valid_from": u.valid_from or None,
                "valid_to": u.valid_to or None,
            }
            for u in registry.units
        ],
        columns=columns("units"),
    )
    _replace_table(con, "units", frame)


def _catalog_frame(snapshot) -> pd.DataFrame:
    frame = snapshot.platforms.copy()
    if "snapshot_date" not in frame.columns:
        frame["snapshot_date"] = str(snapshot.date)
    for c in ("provider", "field", "link", "source", "first_seen", "last_seen"):
        if c in frame.columns:
            frame[c] = frame[c].where(frame[c].notna() & (frame[c].astype(str) != ""), None)
    return frame


def load_catalog(con: duckdb.DuckDBPyConnection, snapshot) -> None:
    """Refresh the catalog table from a catalog Snapshot (its per-row snapshot_date when it has one)."""
    _replace_table(con, "catalog", _catalog_frame(snapshot))


def load_catalog_month(
    con: duckdb.DuckDBPyConnection, month: str, snapshot, fetches: pd.DataFrame, changes: pd.DataFrame
) -> None:
    """In one transaction: refresh the catalog table, replace the month's catalog_fetches and catalog_changes."""
    _check_month(fetches, month, "catalog_fetches")
    _check_month(changes, month, "catalog_changes")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM catalog")
        _insert(con, "catalog", _catalog_frame(snapshot))
        for table, frame in (("catalog_fetches", fetches), ("catalog_changes", changes)):
            con.execute(f"DELETE FROM {table} WHERE month = ?", [month])
            _insert(con, table, frame)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def catalog_in_use(path: Path | str) -> Snapshot:
    """The snapshot the warehouse's catalog table holds (what 01_scrape loaded); bundled when empty."""
    path = Path(path)
    if not path.exists():
        return load_bundled()
    with connect(path, read_only=True) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        frame = table_frame(con, "catalog") if "catalog" in tables else pd.DataFrame()
    if frame.empty:
        return load_bundled()
    for c in ("snapshot_date", "first_seen", "last_seen"):
        if c in frame.columns:
            frame[c] = [None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in frame[c]]
    for c in ("provider", "field", "link", "source"):
        frame[c] = frame[c].fillna("")
    return Snapshot(
        date=min(d for d in frame["snapshot_date"] if d),
        origin=f"warehouse:{path.name}",
        platforms=frame.reset_index(drop=True),
    )


def write_indicators(con: duckdb.DuckDBPyConnection, values: pd.DataFrame) -> None:
    """Replace the indicators table with `values` (month, unit, indicator, value, previous, change, change_pct)."""
    _replace_table(con, "indicators", values)


def _frame(con: duckdb.DuckDBPyConnection, table: str, where: str = "", params: Iterable = ()) -> pd.DataFrame:
    sql = f"SELECT {', '.join(columns(table))} FROM {table} {where} ORDER BY {_ORDER[table]}"
    return con.execute(sql, list(params)).df()


def table_frame(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """A whole table, in a stable order."""
    if table not in SCHEMA:
        raise KeyError(table)
    return _frame(con, table)


def _by_months(con: duckdb.DuckDBPyConnection, table: str, months: Iterable[str] | str | None) -> pd.DataFrame:
    if months is None:
        return _frame(con, table)
    months = [months] if isinstance(months, str) else [str(m) for m in months]
    if not months:
        return _frame(con, table, "WHERE false")
    return _frame(con, table, "WHERE list_contains(?::VARCHAR[], month)", [months])


def facts_frame(con: duckdb.DuckDBPyConnection, months: Iterable[str] | str | None = None) -> pd.DataFrame:
    """Facts of the given months (all months when None)."""
    return _by_months(con, "facts", months)


def submissions_frame(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """Every submission received for `month`, whatever its status."""
    return _frame(con, "submissions", "WHERE month = ?", [month])


def issues_frame(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """The validation issues of `month`."""
    return _frame(con, "issues", "WHERE month = ?", [month])


def indicators_frame(con: duckdb.DuckDBPyConnection, months: Iterable[str] | str | None = None) -> pd.DataFrame:
    """Indicators of the given months (all months when None)."""
    return _by_months(con, "indicators", months)


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the warehouse has this table (tables added by later steps may be absent)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()",
            [table],
        ).fetchone()[0]
    )


def month_rows(con: duckdb.DuckDBPyConnection, table: str, month: str) -> pd.DataFrame | None:
    """Every column of a table's rows for `month`, or None when the table does not exist."""
    if not table_exists(con, table):
        return None
    return con.execute(f'SELECT * FROM "{table}" WHERE month = ?', [month]).df()
