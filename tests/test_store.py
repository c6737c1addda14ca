"""The warehouse: schema, month replacement in one transaction, query helpers."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from dxreport import store
from dxreport.catalog import load_bundled
from dxreport.units import load_registry

SEPT, OCT = "2022-09", "2022-10"


def submissions(month, sid="a" * 64, unit="474", status="accepted", source="received.csv", channel="email"):
    return pd.DataFrame(
        [
            {
                "submission_id": sid,
                "month": month,
                "unit": unit,
                "file_name": f"{unit}.xlsx",
                "archived_path": f"/raw/{sid}.xlsx",
                "received_at": dt.datetime(2022, 10, 3, 9, 30),
                "received_source": source,
                "received_channel": channel,
                "prepared_on": dt.date(2022, 10, 2),
                "preparer": "Nguyễn Thị Lan",
                "status": status,
                "superseded_by": None,
                "is_sample": False,
                "late": False,
                "rows_loaded": 2,
                "rows_rejected": 1,
            }
        ]
    )


def facts(month, sid="a" * 64, accounts=5000.0):
    return pd.DataFrame(
        [
            {
                "month": month,
                "unit": "474",
                "sheet": "nen_tang",
                "subject_kind": "platform",
                "subject": "nd-hues",
                "subject_name": "Ứng dụng Hue-S",
                "metric": "accounts",
                "value": accounts,
                "text": None,
                "submission_id": sid,
                "cell": "D2",
            },
            {
                "month": month,
                "unit": "474",
                "sheet": "nen_tang",
                "subject_kind": "platform",
                "subject": "nd-hues",
                "subject_name": "Ứng dụng Hue-S",
                "metric": "lgsp",
                "value": 1.0,
                "text": "co",
                "submission_id": sid,
                "cell": "G2",
            },
            {
                "month": month,
                "unit": "474",
                "sheet": "hue_s",
                "subject_kind": "unit",
                "subject": "",
                "subject_name": "",
                "metric": "satisfaction",
                "value": 12.5,
                "text": None,
                "submission_id": sid,
                "cell": "F2",
            },
        ]
    )


def issues(month, sid="a" * 64):
    return pd.DataFrame(
        [
            {
                "month": month,
                "unit": "474",
                "file_name": "474.xlsx",
                "sheet": "Nền tảng",
                "cell": "D3",
                "rule": "cell.count",
                "severity": "error",
                "message": "Nền tảng!D3: sai",
                "submission_id": sid,
            }
        ]
    )


def load(con, month, sid="a" * 64, accounts=5000.0):
    store.replace_month(con, month, submissions(month, sid), facts(month, sid, accounts), issues(month, sid))


def contents(con):
    return {t: store.table_frame(con, t) for t in store.SCHEMA}


@pytest.fixture
def con(tmp_path):
    connection = store.connect(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def test_schema_has_the_agreed_tables_and_columns(con):
    got = {
        t: [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [t]
            ).fetchall()
        ]
        for t in (
            "units",
            "catalog",
            "catalog_fetches",
            "catalog_changes",
            "submissions",
            "facts",
            "issues",
            "runs",
            "indicators",
        )
    }
    assert got == {
        "units": [
            "code",
            "name",
            "short_name",
            "type",
            "parent",
            "population",
            "population_year",
            "valid_from",
            "valid_to",
        ],
        "catalog": [
            "platform_id",
            "catalog",
            "name",
            "provider",
            "field",
            "link",
            "source",
            "snapshot_date",
            "first_seen",
            "last_seen",
        ],
        "catalog_fetches": [
            "month",
            "catalog",
            "url",
            "status",
            "fetched_at",
            "bytes",
            "items",
            "outcome",
            "message",
            "snapshot_date",
        ],
        "catalog_changes": ["month", "change", "platform_id", "catalog", "name", "previous_name", "snapshot_date"],
        "submissions": [
            "submission_id",
            "month",
            "unit",
            "file_name",
            "archived_path",
            "received_at",
            "received_source",
            "received_channel",
            "prepared_on",
            "preparer",
            "status",
            "superseded_by",
            "is_sample",
            "late",
            "rows_loaded",
            "rows_rejected",
        ],
        "facts": [
            "month",
            "unit",
            "sheet",
            "subject_kind",
            "subject",
            "subject_name",
            "metric",
            "value",
            "text",
            "submission_id",
            "cell",
        ],
        "issues": ["month", "unit", "file_name", "sheet", "cell", "rule", "severity", "message", "submission_id"],
        "runs": ["month", "loaded_at", "inbox", "files", "accepted", "rejected"],
        "indicators": ["month", "unit", "indicator", "value", "previous", "change", "change_pct"],
    }
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'submissions'"
        ).fetchall()
    )
    assert types["received_at"] == "TIMESTAMP" and types["prepared_on"] == "DATE"
    assert types["is_sample"] == "BOOLEAN" and types["rows_loaded"] == "INTEGER"
    store.ensure_schema(con)  # a second time is harmless


def test_values_round_trip(con):
    load(con, SEPT)
    sub = store.submissions_frame(con, SEPT).iloc[0]
    assert sub["received_at"] == pd.Timestamp("2022-10-03 09:30") and sub["prepared_on"] == pd.Timestamp("2022-10-02")
    assert sub["preparer"] == "Nguyễn Thị Lan" and sub["rows_rejected"] == 1 and not sub["is_sample"]
    assert (sub["received_source"], sub["received_channel"]) == ("received.csv", "email")
    frame = store.facts_frame(con)
    assert frame.set_index("metric").loc["satisfaction", "value"] == 12.5
    assert frame.set_index("metric").loc["lgsp", "text"] == "co"
    assert store.issues_frame(con, SEPT)["cell"].tolist() == ["D3"]


def test_replace_month_is_idempotent(con):
    load(con, SEPT)
    first = contents(con)
    load(con, SEPT)
    second = contents(con)
    for table in first:
        pd.testing.assert_frame_equal(first[table], second[table])
    assert len(second["facts"]) == 3 and len(second["submissions"]) == 1


def test_replace_month_touches_only_its_month(con):
    load(con, SEPT, accounts=5000.0)
    load(con, OCT, sid="b" * 64, accounts=5200.0)
    load(con, SEPT, accounts=4900.0)
    frame = store.facts_frame(con)
    accounts = frame[frame["metric"] == "accounts"].set_index("month")["value"]
    assert accounts.to_dict() == {SEPT: 4900.0, OCT: 5200.0}
    assert store.months_loaded(con) == [SEPT, OCT]
    assert len(store.facts_frame(con, [OCT])) == 3 and len(store.facts_frame(con, OCT)) == 3
    assert store.facts_frame(con, []).empty


def test_crash_between_delete_and_insert_keeps_previous_state(con, monkeypatch):
    load(con, SEPT)
    before = contents(con)
    real = store._insert

    def crash(connection, table, frame):
        if table == "facts":
            raise RuntimeError("mất điện giữa chừng")
        return real(connection, table, frame)

    monkeypatch.setattr(store, "_insert", crash)
    with pytest.raises(RuntimeError):
        store.replace_month(con, SEPT, submissions(SEPT), facts(SEPT, accounts=1.0), issues(SEPT))
    after = contents(con)
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table])
    # the connection is still usable
    monkeypatch.setattr(store, "_insert", real)
    load(con, SEPT, accounts=7.0)
    assert 7.0 in store.facts_frame(con)["value"].tolist()


def test_process_killed_mid_load_keeps_previous_state(tmp_path):
    path = tmp_path / "w.duckdb"
    con = store.connect(path)
    load(con, SEPT)
    before = contents(con)
    con.close()
    script = textwrap.dedent(f"""
        import os
        from dxreport import store
        con = store.connect({str(path)!r})
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM facts WHERE month = '{SEPT}'")
        con.execute("DELETE FROM submissions WHERE month = '{SEPT}'")
        os._exit(9)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", script], env=env, timeout=60)
    assert proc.returncode == 9
    con = store.connect(path, read_only=True)
    try:
        after = contents(con)
    finally:
        con.close()
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table])


def test_rows_of_another_month_are_refused(con):
    with pytest.raises(store.StoreError):
        store.replace_month(con, SEPT, submissions(OCT), None, None)
    assert store.months_loaded(con) == []


def test_constraints_refuse_unknown_status(con):
    with pytest.raises(Exception):
        store.replace_month(con, SEPT, submissions(SEPT, status="maybe"), None, None)
    assert store.submissions_frame(con, SEPT).empty


@pytest.mark.parametrize("source, channel", [("mtime", None), ("received.csv", "fax")])
def test_constraints_refuse_unknown_received_source_or_channel(con, source, channel):
    import duckdb

    with pytest.raises(duckdb.ConstraintException):
        store.replace_month(con, SEPT, submissions(SEPT, source=source, channel=channel), None, None)
    assert store.submissions_frame(con, SEPT).empty
    load(con, SEPT)  # the connection is still usable
    assert len(store.submissions_frame(con, SEPT)) == 1


def test_received_source_and_channel_may_be_left_empty(con):
    store.replace_month(con, SEPT, submissions(SEPT, source="first_seen", channel=None), None, None)
    frame = submissions(SEPT, sid="b" * 64, unit="syt").drop(columns=["received_source", "received_channel"])
    store.replace_month(con, OCT, frame.assign(month=OCT), None, None)
    got = con.execute("SELECT month, received_source, received_channel FROM submissions ORDER BY month").fetchall()
    assert got == [(SEPT, "first_seen", None), (OCT, None, None)]


def test_empty_month_with_a_run_is_loaded(con):
    store.replace_month(
        con,
        OCT,
        None,
        None,
        None,
        run={
            "loaded_at": dt.datetime(2022, 11, 6, 8),
            "inbox": "/inbox/2022-10",
            "files": 0,
            "accepted": 0,
            "rejected": 0,
        },
    )
    store.replace_month(
        con,
        OCT,
        None,
        None,
        None,
        run={
            "loaded_at": dt.datetime(2022, 11, 7, 8),
            "inbox": "/inbox/2022-10",
            "files": 0,
            "accepted": 0,
            "rejected": 0,
        },
    )
    assert store.months_loaded(con) == [OCT]
    assert con.execute("SELECT loaded_at FROM runs").fetchall() == [(dt.datetime(2022, 11, 7, 8),)]


def test_units_and_catalog_are_refreshed_not_appended(con):
    registry, snapshot = load_registry(), load_bundled()
    for _ in range(2):
        store.load_units(con, registry)
        store.load_catalog(con, snapshot)
    units = store.table_frame(con, "units")
    assert len(units) == len(registry.units)
    units = units[units["valid_from"] == "2021-07-01"].set_index("code")
    assert units.loc["474", "name"] == "Thành phố Huế" and units.loc["474", "population"] == 494070
    assert units.loc["474", "population_year"] == 2022 and units.loc["474", "parent"] == "tinh"
    assert pd.isna(units.loc["tinh", "parent"])
    catalog = store.table_frame(con, "catalog").set_index("platform_id")
    assert len(catalog) == len(snapshot.platforms)
    assert catalog.loc["nd-hues", "name"] == "Ứng dụng Hue-S"
    assert catalog.loc["nd-hues", "snapshot_date"] == pd.Timestamp(snapshot.date)


def test_read_only_connection(tmp_path):
    path = tmp_path / "w.duckdb"
    with pytest.raises(store.StoreError):
        store.connect(path, read_only=True)
    con = store.connect(path)
    load(con, SEPT)
    con.close()
    ro = store.connect(path, read_only=True)
    try:
        assert len(store.facts_frame(ro, SEPT)) == 3
        with pytest.raises(Exception):
            ro.execute("DELETE FROM facts")
    finally:
        ro.close()


def test_a_file_with_other_columns_is_kept_aside_and_the_warehouse_made_anew(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    raw = duckdb.connect(str(path))
    raw.execute("CREATE TABLE facts (month VARCHAR, value DOUBLE)")
    raw.execute("INSERT INTO facts VALUES ('2022-07', 1.0)")
    raw.close()
    with store.connect(path) as con:
        assert [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'facts' ORDER BY ordinal_position"
            ).fetchall()
        ] == store.columns("facts")
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("old.") and p.name.endswith(".cu.duckdb")]
    assert len(kept) == 1  # nothing is deleted
    with duckdb.connect(str(kept[0]), read_only=True) as old:
        assert old.execute("SELECT value FROM facts").fetchall() == [(1.0,)]


def test_a_warehouse_without_the_received_source_is_made_anew(tmp_path):
    import duckdb

    path = tmp_path / "w.duckdb"
    old_columns = [c for c in store.columns("submissions") if c not in ("received_source", "received_channel")]
    with duckdb.connect(str(path)) as raw:
        raw.execute(f"CREATE TABLE submissions ({', '.join(c + ' VARCHAR' for c in old_columns)})")
    with store.connect(path) as con:
        store.replace_month(con, SEPT, submissions(SEPT), None, None)
        assert store.submissions_frame(con, SEPT)["received_source"].tolist() == ["received.csv"]
    assert len([p for p in tmp_path.iterdir() if p.name.endswith(".cu.duckdb")]) == 1


def test_warehouse_path(tmp_path):
    assert store.warehouse_path(tmp_path) == tmp_path / "warehouse.duckdb"
    assert store.warehouse_path() == store.DEFAULT_PATH


def test_indicators_are_rewritten_whole(con):
    values = pd.DataFrame(
        [
            {
                "month": SEPT,
                "unit": "tinh",
                "indicator": "hues_downloads",
                "value": 810000.0,
                "previous": 800000.0,
                "change": 10000.0,
                "change_pct": 1.25,
                "extra": "bỏ qua",
            },
            {
                "month": OCT,
                "unit": "474",
                "indicator": "hues_downloads",
                "value": float("nan"),
                "previous": None,
                "change": None,
                "change_pct": None,
                "extra": "",
            },
        ]
    )
    store.write_indicators(con, values)
    store.write_indicators(con, values)
    frame = store.indicators_frame(con)
    assert len(frame) == 2 and list(frame.columns) == store.columns("indicators")
    assert store.indicators_frame(con, SEPT)["change_pct"].tolist() == [1.25]
    assert pd.isna(store.indicators_frame(con, [OCT])["value"].iloc[0])
    store.write_indicators(con, values.iloc[:1])
    assert store.indicators_frame(con)["month"].tolist() == [SEPT]
