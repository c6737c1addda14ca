"""dxreport.warehouse: which months a warehouse file holds, read without pandas."""

from __future__ import annotations

import duckdb
import pytest

from dxreport import warehouse


def _warehouse(path, submissions=(), runs=()):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE submissions (month VARCHAR, unit VARCHAR)")
    con.execute("CREATE TABLE runs (month VARCHAR)")
    for month in submissions:
        con.execute("INSERT INTO submissions VALUES (?, 'snv')", [month])
    for month in runs:
        con.execute("INSERT INTO runs VALUES (?)", [month])
    con.close()
    return path


def test_months_loaded_counts_a_month_loaded_from_an_empty_inbox(tmp_path):
    path = _warehouse(tmp_path / "warehouse.duckdb", submissions=["2022-12", "2022-11"], runs=["2023-01"])
    with warehouse.connect_read_only(path) as con:
        assert warehouse.months_loaded(con) == ["2022-11", "2022-12", "2023-01"]
    assert warehouse.holds_month(path, "2023-01")
    assert not warehouse.holds_month(path, "2023-02")


def test_a_missing_or_unreadable_warehouse_holds_no_month(tmp_path):
    assert not warehouse.holds_month(tmp_path / "none.duckdb", "2022-12")
    garbage = tmp_path / "warehouse.duckdb"
    garbage.write_bytes(b"not a database" * 100)
    assert not warehouse.holds_month(garbage, "2022-12")


def test_opening_a_missing_warehouse_says_what_to_do(tmp_path):
    with pytest.raises(warehouse.StoreError, match="chưa có kho dữ liệu .*dxreport ingest"):
        warehouse.connect_read_only(tmp_path / "warehouse.duckdb")


def test_the_warehouse_of_an_outputs_folder(tmp_path):
    assert warehouse.warehouse_path(tmp_path) == tmp_path / "warehouse.duckdb"
    assert warehouse.warehouse_path(None) == warehouse.DEFAULT_PATH
