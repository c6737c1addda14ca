"""What the sample generator plans: its constants, and the cells, tables and files of a month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from openpyxl.utils import get_column_letter

from dxreport import forms
from dxreport.units import Unit

SAMPLE_KEYWORD = "dxreport-sample"

try:
    from zoneinfo import ZoneInfo

    SAMPLE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
except Exception:  # pragma: no cover - no tz database: Vietnam has had UTC+7 all year since 1975
    SAMPLE_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

BASE_MONTH = "2022-01"  # month index 0 of every series
TITLE_ROWS = 2  # rows above the header row of a table sheet
HEADER_ROW = TITLE_ROWS + 1

# --- Public anchors (DOMAIN.md) -------------------------------------------------------------
HUES_DOWNLOADS_2022_01 = 690_000
HUES_DOWNLOADS_2022_07 = 793_050  # dantri.com.vn, 26/07/2022
HUES_DOWNLOADS_2022_12 = 805_000  # "over 800,000", news.baothuathienhue.vn, ~12/2022
FIELD_REPORTS_BASE = 3_650  # province-wide, received in 01/2022
FIELD_REPORTS_STEP = 95  # more each month through 2022

_THONG_TIN_ROW = {f.key: i + 1 for i, f in enumerate(forms.THONG_TIN.fields)}
_CAPS_ORDER = ("platform_name", "platform_id", "status", "lgsp", "accounts", "uses", "mau", "note", "proposal")
_CAPS_UNIT = "stc"
_LOCAL_PLATFORM_UNIT = "478"
_STT = "stt"


@dataclass(frozen=True)
class _Styled:
    """A cell value with an Excel number format."""

    value: Any
    number_format: str


@dataclass
class _Table:
    """A table sheet: columns in written order, data rows as dicts keyed by field key."""

    sheet: forms.Sheet
    keys: list[str]
    headers: list[str]
    rows: list[dict[str, Any]]
    blank_before: int | None = None

    def row_number(self, i: int) -> int:
        """Excel row of data row i."""
        n = HEADER_ROW + 1 + i
        if self.blank_before is not None and i >= self.blank_before:
            n += 1
        return n

    def address(self, i: int, key: str) -> str:
        """Cell address (e.g. `E7`) of field `key` in data row i."""
        return f"{get_column_letter(self.keys.index(key) + 1)}{self.row_number(i)}"


@dataclass
class _File:
    """One planned workbook."""

    unit: Unit
    name: str
    month: str
    period_text: str
    info: dict[str, Any]
    arrival: datetime
    tables: list[_Table]
    nfd: bool = False
