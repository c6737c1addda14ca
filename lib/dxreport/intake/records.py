"""What reading produces and the words its messages share: submissions, issues, severities.

Also the small helpers that turn cell values into the short texts of the Vietnamese messages.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dxreport.labels import SEVERITIES
from dxreport.textnorm import fold, format_number, nfc

try:
    from zoneinfo import ZoneInfo

    LOCAL_TZ: dt.tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")
except Exception:  # pragma: no cover - no tz database; Viet Nam has kept UTC+7 since 1975
    LOCAL_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")

ERROR, WARNING = "error", "warning"
SEVERITY_LABELS = SEVERITIES

# Columns of the rows intake produces, in the warehouse's order (dxreport.store.SCHEMA).
ISSUE_COLUMNS = ["month", "unit", "file_name", "sheet", "cell", "rule", "severity", "message", "submission_id"]
FACT_COLUMNS = [
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
]
SUBMISSION_COLUMNS = [
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
]


# --------------------------------------------------------------------------- data classes


@dataclass
class Submission:
    """One received file, as read: identity, facts, issues, and whether it was rejected."""

    file_name: str
    path: Path
    month: str
    submission_id: str = ""
    unit: str | None = None
    prepared_on: dt.date | None = None
    preparer: str | None = None
    is_sample: bool = False
    facts: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    rejected: bool = False
    sheets: list[str] = field(default_factory=list)
    rows_loaded: int = 0
    rows_rejected: int = 0
    size: int = 0
    received_at: dt.datetime | None = None
    received_source: str = ""  # one of dxreport.received.SOURCES
    received_channel: str | None = None  # one of dxreport.received.CHANNELS, when received.csv says
    archived_path: Path | None = None
    content: bytes | None = field(default=None, repr=False, compare=False)
    reader: str = ""  # the reader that read the cells: "calamine" or "openpyxl" ("" if never opened)


class _Reject(Exception):
    """The whole file is refused."""

    def __init__(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None):
        super().__init__(message)
        self.rule, self.message, self.sheet, self.cell = rule, message, sheet, cell


def _issue(file_name: str, sheet: str | None, cell: str | None, rule: str, severity: str, message: str) -> dict:
    return {
        "file_name": file_name,
        "sheet": sheet,
        "cell": cell,
        "rule": rule,
        "severity": severity,
        "message": message,
    }


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _label(value: object) -> str:
    """Matching key of a label or header: folded, without a trailing required-mark or colon."""
    return _label_text(value) if isinstance(value, str) else fold(value).rstrip(" *:").strip()


@functools.lru_cache(maxsize=8192)
def _label_text(text: str) -> str:
    return fold(text).rstrip(" *:").strip()


def _show(value: object, limit: int = 60) -> str:
    """A cell value as a short readable text for messages."""
    if isinstance(value, (dt.datetime, dt.date)):
        text = value.strftime("%d/%m/%Y")
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = nfc(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _code_text(value: object) -> str:
    """An identifier typed as text or as a number (19750.0 → '19750')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(value)


def _text(value: object) -> str:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%d/%m/%Y")
    return _code_text(value)


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "–"
    return format_number(value, 0 if float(value).is_integer() else 2)


def _file_label(name: str) -> str:
    return f"Tệp “{nfc(name)}”"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT or value is pd.NA
