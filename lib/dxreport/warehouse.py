"""The warehouse file of an outputs folder, read without pandas: where it is and which months it holds.

dxreport.store reads and writes the warehouse's tables as DataFrames; this module answers the
questions a run asks before it knows that it has anything to do, so that a rerun with nothing
changed and the index of the outputs folder never import pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dxreport.hashcache import file_identity
from dxreport.params import OUTPUTS_DIR, WAREHOUSE_NAME

if TYPE_CHECKING:
    import duckdb

DEFAULT_PATH = OUTPUTS_DIR / WAREHOUSE_NAME


class StoreError(RuntimeError):
    """The warehouse file cannot be used as it is."""


def warehouse_path(outputs: Path | str | None = None) -> Path:
    """The warehouse file of an outputs folder (default outputs/warehouse.duckdb)."""
    return Path(outputs) / WAREHOUSE_NAME if outputs else DEFAULT_PATH


def identity(path: Path | str) -> list | None:
    """The identity of the warehouse file and of its write-ahead log (hashcache.file_identity);
    None when there is no warehouse. Equal identities mean nothing was written in between."""
    path = Path(path)
    own = file_identity(path)
    return None if own is None else [own, file_identity(path.with_name(path.name + ".wal"))]


def connect_read_only(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open an existing warehouse for reading (StoreError when there is none)."""
    import duckdb

    path = Path(path)
    if not path.exists():
        raise StoreError(f"chưa có kho dữ liệu {path}; hãy nạp số liệu trước (dxreport ingest)")
    return duckdb.connect(str(path), read_only=True)


def months_loaded(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Months that have been loaded, in order (a month loaded from an empty inbox included)."""
    rows = con.execute("SELECT month FROM submissions UNION SELECT month FROM runs ORDER BY month").fetchall()
    return [m for (m,) in rows]


def holds_month(path: Path | str, month: str) -> bool:
    """Whether the warehouse file at `path` exists, can be read and holds `month`."""
    if not Path(path).exists():
        return False
    try:
        with connect_read_only(path) as con:
            return month in months_loaded(con)
    except Exception:  # noqa: BLE001 - a warehouse that cannot be read holds no month
        return False
