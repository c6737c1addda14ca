"""The shared vocabulary of the catalog package: the three catalogs, table columns, Snapshot, CatalogError."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd

from dxreport.labels import CATALOGS as CATALOGS  # the titles of the three catalogs
from dxreport.labels import CHANGES as CHANGES  # the kinds of catalog change

ID_PREFIX = {"chinh_quyen": "cq", "doanh_nghiep": "dn", "nguoi_dan": "nd"}
COLUMNS = ["platform_id", "catalog", "name", "provider", "field", "link", "source"]
SNAPSHOT_COLUMNS = COLUMNS + ["snapshot_date", "first_seen", "last_seen"]
FETCH_COLUMNS = [
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
]
CHANGE_COLUMNS = ["change", "platform_id", "catalog", "name", "previous_name", "snapshot_date"]
OUTCOMES = {
    "ok": "tải được",
    "failed": "lỗi, giữ bản chụp cũ",
    "offline": "không tải (ngoại tuyến)",
    "not_configured": "không có trong tệp nguồn",
}
FIELDS = ("name", "provider", "link", "field")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class CatalogError(ValueError):
    """A catalog snapshot, sources or aliases file that is not valid."""


@dataclass(frozen=True)
class Snapshot:
    """A catalog snapshot: its date, where it came from and its platforms.

    `platforms` has COLUMNS; a snapshot in use (ScrapeResult.snapshot) also has snapshot_date
    (per row: the date of its catalog's part), first_seen and last_seen. `date` is the oldest
    part date.
    """

    date: str
    origin: str
    platforms: pd.DataFrame


def vn_date(value: object) -> str:
    """`2023-01-05` → `05/01/2023`."""
    return pd.Timestamp(str(value)).strftime("%d/%m/%Y")
