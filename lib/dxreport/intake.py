"""Reading a month's submissions: checks against the form, the archive, the validation report.

Each workbook is read defensively: its size, its zip container and its XML are checked
before anything else, and a file that cannot be read is rejected with one message. A row
that breaks a rule is quarantined with the exact cell and rule id; the rest of the file
loads. See spec/submission-form.md.

Cells are read by python-calamine (values) with openpyxl's style parser (number formats), or
by openpyxl alone; both give the same facts and issues, and any sheet calamine could not hold
safely goes to openpyxl, which streams. What goes back to the units: validation.csv, its HTML
view with the submission tracker, and a marked feedback copy of each file with problems.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import html
import io
import os
import re
import shutil
import statistics
import tempfile
import urllib.parse
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd
from defusedxml import DefusedXmlException

try:
    import python_calamine
except ImportError:  # pragma: no cover - the openpyxl reader is always there
    python_calamine = None
from openpyxl.utils import get_column_letter

from dxreport import forms, received, store
from dxreport.catalog import Matcher, Snapshot, load_aliases, load_bundled
from dxreport.params import check_month_format, load_settings
from dxreport.textnorm import (NumberFormatError, fold, format_month, format_number, nfc,
                               parse_count, parse_rate)
from dxreport.units import Registry, Unit, load_registry

try:
    from zoneinfo import ZoneInfo

    LOCAL_TZ: dt.tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")
except Exception:  # pragma: no cover - no tz database; Viet Nam has kept UTC+7 since 1975
    LOCAL_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")

# Container limits, checked before openpyxl sees the file.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200          # for entries larger than RATIO_CHECK_BYTES
RATIO_CHECK_BYTES = 2 * 1024 * 1024
MAX_ZIP_ENTRIES = 5000
# Columns read on each sheet; the form has at most nine.
MAX_COLUMNS = 60
# Physical rows (blank ones included) read per sheet, as a multiple of max_rows_per_sheet.
RAW_ROWS_FACTOR = 20
# Rows of `Thông tin` searched for its labels.
INFO_MAX_ROWS = 200

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_MARKERS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
SAMPLE_KEYWORD = "dxreport-sample"

# Readers of the cells (see read_submission); calamine is faster, openpyxl streams any sheet.
READERS = ("calamine", "openpyxl")
DEFAULT_READER = "calamine"

ERROR, WARNING = "error", "warning"
SEVERITY_LABELS = {ERROR: "Lỗi", WARNING: "Cảnh báo"}

STATUS_LABELS = {
    "received": "Đã nộp",
    "late": "Nộp muộn",
    "missing": "Chưa nộp",
    "resubmitted": "Nộp lại",
    "rejected": "Bị từ chối",
}
# A unit whose accepted file replaced an earlier one and came after the deadline (status "late").
RESUBMITTED_LATE_LABEL = "Nộp lại, nộp muộn"
# What became of each received file.
FILE_STATUS_LABELS = {"accepted": "Được tính", "superseded": "Đã được thay", "rejected": "Bị từ chối"}

ISSUE_COLUMNS = store.columns("issues")
FACT_COLUMNS = store.columns("facts")
SUBMISSION_COLUMNS = store.columns("submissions")
VALIDATION_COLUMNS = ["file", "sheet", "cell", "rule", "severity", "message", "unit", "received_at", "received_source"]
# validation.csv's one line per received file, beside the errors and warnings.
INFO, RECEIVED_RULE = "info", "file.received"

# Fields that name what a row describes; every other field becomes a fact.
_SUBJECT_FIELDS = {"platform": ("platform_id", "platform_name"), "commune": ("commune_code", "commune_name")}

_MONTH_TEXT = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_ISO_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{1,2})$")
_DATE_TEXT = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")

# Excel never writes a document type declaration; entity expansion is how XML bombs work.
_XML_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
XML_PROLOG_BYTES = 64 * 1024
_XML_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_XML_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_XML_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>(.+?)</(?:\w+:)?v>", re.S)
_XML_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_XML_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')


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
    received_source: str = ""           # one of dxreport.received.SOURCES
    received_channel: str | None = None  # one of dxreport.received.CHANNELS, when received.csv says
    archived_path: Path | None = None
    content: bytes | None = field(default=None, repr=False, compare=False)
    reader: str = ""    # the reader that read the cells: "calamine" or "openpyxl" ("" if never opened)


@dataclass
class IngestResult:
    """What one month's load produced (the rows now in the warehouse for that month)."""

    month: str
    submissions: pd.DataFrame
    facts: pd.DataFrame
    issues: pd.DataFrame
    warehouse: Path


class _Reject(Exception):
    """The whole file is refused."""

    def __init__(self, rule: str, message: str, sheet: str | None = None, cell: str | None = None):
        super().__init__(message)
        self.rule, self.message, self.sheet, self.cell = rule, message, sheet, cell


# --------------------------------------------------------------------------- small helpers

def _issue(file_name: str, sheet: str | None, cell: str | None, rule: str, severity: str, message: str) -> dict:
    return {"file_name": file_name, "sheet": sheet, "cell": cell, "rule": rule, "severity": severity,
            "message": message}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _label(value: object) -> str:
    """Matching key of a label or header: folded, without a trailing required-mark or colon."""
    return _label_text(value) if isinstance(value, str) else fold(value).rstrip(" *:").strip()


@functools.lru_cache(maxsize=8192)
def _label_text(text: str) -> str:
    return fold(text).rstrip(" *:").strip()


class _Index:
    """Look-ups into a units Registry by code and by folded commune name (the registry scans)."""

    def __init__(self, registry: Registry):
        self.by_code = {u.code: u for u in registry.units}
        self.by_name: dict[str, list[Unit]] = {}
        for unit in registry.units:
            if unit.type == "commune":
                for key in dict.fromkeys((fold(unit.name), fold(unit.short_name))):
                    self.by_name.setdefault(key, []).append(unit)

    def name_of(self, code: str) -> str | None:
        unit = self.by_code.get(code)
        return unit.name if unit else None


_INDEXES: dict[int, tuple[Registry, _Index]] = {}


def _index(registry: Registry) -> _Index:
    hit = _INDEXES.get(id(registry))
    if hit is None or hit[0] is not registry:
        if len(_INDEXES) >= 8:
            _INDEXES.clear()
        hit = _INDEXES[id(registry)] = (registry, _Index(registry))
    return hit[1]


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


def _parse_month(value: object) -> str:
    """`Kỳ báo cáo` as YYYY-MM: a date cell, `MM/YYYY` or `DD/MM/YYYY` text."""
    if isinstance(value, (dt.datetime, dt.date)):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, str):
        text = nfc(value)
        m = _MONTH_TEXT.match(text)
        if m:
            month, year = int(m.group(1)), int(m.group(2))
        elif _ISO_MONTH_TEXT.match(text):
            year, month = map(int, _ISO_MONTH_TEXT.match(text).groups())
        elif _DATE_TEXT.match(text):
            return _parse_date(text).strftime("%Y-%m")
        else:
            raise ValueError(text)
        if 1 <= month <= 12 and 1900 <= year <= 2999:
            return f"{year:04d}-{month:02d}"
    raise ValueError(value)


def _parse_date(value: object) -> dt.date:
    """`Ngày lập`: a date cell or `DD/MM/YYYY` text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        m = _DATE_TEXT.match(nfc(value))
        if m:
            day, month, year = map(int, m.groups())
            return dt.date(year, month, day)
    raise ValueError(value)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_label(name: str) -> str:
    return f"Tệp “{nfc(name)}”"


# --------------------------------------------------------------------------- container checks

def _check_container(data: bytes, name: str) -> None:
    """Refuse what is not a safe .xlsx zip before openpyxl reads it."""
    who = _file_label(name)
    if data.startswith(OLE_SIGNATURE):
        encrypted = any(marker in data for marker in ENCRYPTED_MARKERS)
        if encrypted or Path(name).suffix.lower() in (".xlsx", ".xlsm"):
            raise _Reject("file.encrypted", f"{who} được đặt mật khẩu (mã hóa) nên không đọc được; "
                                            "đề nghị đơn vị gỡ mật khẩu, lưu lại dạng .xlsx và gửi lại.")
        raise _Reject("file.not_workbook", f"{who} là tệp Office định dạng cũ (như Excel 97–2003 .xls), "
                                           "không phải .xlsx; đề nghị lưu lại dạng .xlsx theo biểu mẫu và gửi lại.")
    if not data.startswith(b"PK"):
        raise _Reject("file.not_workbook", f"{who} không phải là tệp Excel .xlsx; "
                                           "đề nghị gửi báo cáo bằng biểu mẫu .xlsx.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _Reject("file.not_workbook", f"{who} bị hỏng, không mở được như tệp .xlsx ({exc}).") from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _Reject("file.zip_bomb", f"{who} chứa {len(infos)} thành phần nén, quá nhiều cho một bảng tính; "
                                       "tệp không được mở.")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_CHECK_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise _Reject("file.zip_bomb", f"{who} có thành phần nén bất thường ({nfc(info.filename)}: "
                                           f"{_fmt(info.file_size)} byte khi giải nén từ {_fmt(info.compress_size)} byte); "
                                           "tệp không được mở.")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _Reject("file.zip_bomb", f"{who} khi giải nén lên tới {_fmt(total)} byte, vượt giới hạn "
                                       f"{_fmt(MAX_UNCOMPRESSED_BYTES)} byte; tệp không được mở.")
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        raise _Reject("file.not_workbook", f"{who} là tệp nén nhưng không phải bảng tính .xlsx.")
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels", ".vml")) and info.file_size:
            try:
                with archive.open(info) as part:
                    head = part.read(XML_PROLOG_BYTES)
            except Exception as exc:  # noqa: BLE001 - a part that does not inflate is a broken file
                raise _Reject("file.not_workbook", f"{who} bị hỏng, không mở được như tệp .xlsx "
                                                   f"({type(exc).__name__}).") from exc
            if _XML_DTD.search(head):
                raise _xml_bomb(name, info.filename)


def _defused(exc: BaseException | None) -> bool:
    """True if defusedxml refused the XML somewhere in this exception's chain (openpyxl wraps it)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DefusedXmlException):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _xml_bomb(name: str, part: str = "") -> _Reject:
    where = f" (thành phần {nfc(part)})" if part else ""
    return _Reject("file.xml_bomb", f"{_file_label(name)} có khai báo DOCTYPE/ENTITY trong XML{where}, điều mà "
                                    "Excel không bao giờ ghi (dấu hiệu tệp độc hại, “bom XML”); tệp không được mở.")


def _uncached_in(matches) -> list[str]:
    """Cells among _XML_CELL matches that hold a formula without a stored value."""
    found = []
    for m in matches:
        inner = m.group(2) or b""
        if not _XML_FORMULA.search(inner):
            continue
        value = _XML_VALUE.search(inner)
        kind = _XML_TYPE.search(m.group(1))
        if value is None and not (kind and kind.group(1) == b"str" and re.search(rb"<(?:\w+:)?v\b", inner)):
            ref = _XML_REF.search(m.group(1))
            found.append(ref.group(1).decode() if ref else "?")
    return found


def _uncached_formulas(data: bytes, part: str) -> list[str]:
    """Cells of a worksheet XML part that hold a formula without a stored value."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            xml = archive.read(part)
        except KeyError:
            return []
    if not _has_formula(xml):
        return []
    return _uncached_in(_XML_CELL.finditer(xml))


def _has_formula(xml: bytes) -> bool:
    """Whether a worksheet XML part holds any formula (`<f>`, maybe namespaced); fast on big parts."""
    if b"<f" not in xml and b":f" not in xml:
        return False
    return _XML_FORMULA.search(xml) is not None


# --------------------------------------------------------------------------- the calamine reader

# Cells of one sheet that calamine may hold in memory: it allocates the whole rectangle from the
# first to the last cell, so two cells at A1 and XFD1048576 would ask for 17 billion cells and
# abort the process. Sheets are measured from their XML first; anything unusual is read by
# openpyxl, which streams.
CALAMINE_MAX_CELLS = 1_000_000
# An XML part larger than this (a form sheet is under 100 kB) is left to openpyxl unread.
CALAMINE_MAX_PART_BYTES = 8 * 1024 * 1024
_XML_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]+)"')
_XML_REF_PARTS = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_XML_STYLE = re.compile(rb'\bs="([0-9]+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


class _Cell:
    """A cell read by calamine: its value, and (numbers only) where to find its number format."""

    __slots__ = ("value", "_sheet", "_ref")

    def __init__(self, value: object, sheet: "_CalamineSheet | None" = None, ref: bytes = b""):
        self.value, self._sheet, self._ref = value, sheet, ref

    @property
    def number_format(self) -> str:
        return "General" if self._sheet is None else self._sheet.number_format(self._ref)


_EMPTY_CELL = _Cell(None)


class _CalamineSheet:
    """One worksheet read whole by calamine, with the same interface as openpyxl's read-only one."""

    def __init__(self, book: "_CalamineBook", title: str, path: str, xml: bytes):
        self.book, self.title, self._worksheet_path, self._xml = book, title, path, xml
        self.rows: list[tuple[_Cell, ...]] = []
        self.uncached: list[str] = []

    def reset_dimensions(self) -> None:
        pass

    def iter_rows(self, min_row: int = 1, max_col: int = MAX_COLUMNS):
        for row in self.rows[min_row - 1:]:
            yield row[:max_col]

    def number_format(self, ref: bytes) -> str:
        """The number format of the cell at `ref` (b"F4"), from its style index in the sheet XML."""
        tag = re.search(rb'<(?:\w+:)?c\s[^>]*?\br="' + ref + rb'"[^>]*>', self._xml)
        style = _XML_STYLE.search(tag.group(0)) if tag else None
        return "General" if style is None else self.book.number_format(int(style.group(1)))


class _CalamineBook:
    """The workbook for the calamine reader: sheets, document keywords, number formats."""

    def __init__(self, archive: zipfile.ZipFile, keywords: str):
        self._archive = archive
        self.worksheets: list[_CalamineSheet] = []
        self.properties = type("Properties", (), {"keywords": keywords})()
        self._formats: list[str] | None = None

    def number_format(self, style: int) -> str:
        """The number format of a cell style index, resolved as openpyxl resolves it."""
        if self._formats is None:
            from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
            from openpyxl.styles.stylesheet import Stylesheet
            from openpyxl.xml.functions import fromstring

            formats: list[str] = []
            try:
                sheet = Stylesheet.from_tree(fromstring(self._archive.read("xl/styles.xml")))
                for array in sheet.cell_styles:
                    fid = array.numFmtId
                    formats.append(BUILTIN_FORMATS.get(fid, "General") if fid < BUILTIN_FORMATS_MAX_SIZE
                                   else sheet.number_formats[fid - BUILTIN_FORMATS_MAX_SIZE])
            except KeyError:
                pass
            self._formats = formats
        return self._formats[style] if 0 <= style < len(self._formats) else "General"

    def close(self) -> None:
        self._archive.close()


_XML_C_TAG = re.compile(rb"<(?:\w+:)?c[\s/>]")
_XML_C_REF = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_XML_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s([^>]*?\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>', re.S)


def _calamine_book(data: bytes, max_rows: int) -> _CalamineBook | None:
    """The workbook read by calamine, or None when openpyxl must read it.

    None when python-calamine is missing, when a sheet's cells are not all addressed within
    the bounds (see CALAMINE_MAX_CELLS), or when anything at all goes wrong: openpyxl then
    reads the file and gives the usual message for a broken one.
    """
    if python_calamine is None:
        return None
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.reader.workbook import WorkbookParser
    from openpyxl.xml.functions import fromstring

    row_limit = max_rows * RAW_ROWS_FACTOR
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "xl/workbook.xml" not in names or any(info.file_size > CALAMINE_MAX_PART_BYTES for info in infos):
            return None
        parts = {name: archive.read(name) for name in names if name.lower().endswith((".xml", ".rels"))}
        if any(_XML_DTD.search(xml) for xml in parts.values()):
            return None   # calamine would ignore it; openpyxl's defusedxml decides, as for every file
        parser = WorkbookParser(archive, "xl/workbook.xml", keep_links=False)
        parser.parse()
        keywords = ""
        if "docProps/core.xml" in names:
            keywords = DocumentProperties.from_tree(fromstring(parts["docProps/core.xml"])).keywords or ""
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        result = _CalamineBook(archive, keywords)
        for sheet, rel in parser.find_sheets():
            if rel.Type.endswith("/chartsheet"):
                continue
            if not rel.Type.endswith("/worksheet") or rel.target not in parts:
                return None
            xml = parts[rel.target]
            refs = _XML_C_REF.findall(xml)
            if len(refs) != len(_XML_C_TAG.findall(xml)):
                return None   # a cell placed by counting: let openpyxl read it
            ws = _CalamineSheet(result, sheet.name, rel.target, xml)
            result.worksheets.append(ws)
            if not refs:
                continue
            rows = [int(r) for _, r in refs]
            cols = {c for c, _ in refs}
            low_col, high_col = min(map(_column_number, cols)), max(map(_column_number, cols))
            if max(max(rows), *map(int, _XML_ROW_NUMBER.findall(xml) or [0])) > row_limit:
                return None
            if (max(rows) - min(rows) + 1) * (high_col - low_col + 1) > CALAMINE_MAX_CELLS:
                return None
            grid = book.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
            errors: dict[tuple[int, int], str] = {}
            if b't="e"' in xml:
                for m in _XML_ERROR_CELL.finditer(xml):
                    ref = _XML_REF_PARTS.search(m.group(1))
                    value = _XML_VALUE.search(m.group(2))
                    if ref and value:
                        where = (int(ref.group(2)), _column_number(ref.group(1)))
                        errors[where] = value.group(1).decode("utf-8", "replace")
            height = max(len(grid), max((r for r, _ in errors), default=0))
            for i in range(height):
                values = grid[i] if i < len(grid) else []
                row = [_EMPTY_CELL if type(v) is str and v == "" else
                       _Cell(v, ws, f"{get_column_letter(j + 1)}{i + 1}".encode()) if type(v) in (float, int)
                       else _Cell(v)
                       for j, v in enumerate(values[:MAX_COLUMNS])]
                for (r, c), text in errors.items():
                    if r == i + 1 and c <= MAX_COLUMNS:
                        row.extend([_EMPTY_CELL] * (c - len(row)))
                        row[c - 1] = _Cell(text)
                ws.rows.append(tuple(row))
            ws.uncached = _uncached_in(_XML_CELL.finditer(xml)) if _has_formula(xml) else []
        return result
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - calamine panics are BaseException; openpyxl decides instead
        return None


# --------------------------------------------------------------------------- reading one file

def _iter_rows(ws, max_rows: int):
    """(row number, cells) for every physical row, bounded; blank padding rows included."""
    ws.reset_dimensions()
    limit = max_rows * RAW_ROWS_FACTOR
    for number, row in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS), start=1):
        if number > limit:
            raise OverflowError(number)
        yield number, row


def _sheet_is_blank(ws, max_rows: int) -> bool:
    try:
        for _, row in _iter_rows(ws, max_rows):
            if any(not _blank(c.value) for c in row):
                return False
    except OverflowError:
        return False
    return True


def _match_sheets(wb, name: str) -> dict[str, object]:
    """Form sheet key -> worksheet; a form sheet present twice rejects the file."""
    by_label = {_label(s.name): s for s in forms.SHEETS}
    found: dict[str, object] = {}
    for ws in wb.worksheets:
        spec = by_label.get(_label(ws.title))
        if spec is None:
            continue
        if spec.key in found:
            raise _Reject("file.duplicate_sheet",
                          f"{_file_label(name)} có hai trang cùng là “{spec.name}” "
                          f"(“{nfc(found[spec.key].title)}” và “{nfc(ws.title)}”); "
                          "không biết lấy số liệu ở trang nào nên toàn bộ tệp không được nạp.",
                          sheet=spec.name)
        found[spec.key] = ws
    return found


def _find_unit(code: str, registry: Registry, month: str) -> Unit | None:
    reporting = registry.reporting_units(month)
    for unit in reporting:
        if unit.code == code:
            return unit
    key = fold(code)
    for unit in reporting:
        if fold(unit.code) == key:
            return unit
    return None


def _read_info(ws, sub: Submission, registry: Registry, settings: dict) -> Unit:
    """Identity from `Thông tin`: unit, month, preparer, date, form version."""
    spec = forms.THONG_TIN
    labels = {_label(f.header): f for f in spec.fields}
    values: dict[str, tuple[object, str]] = {}
    label_rows: dict[str, int] = {}
    try:
        for number, row in _iter_rows(ws, INFO_MAX_ROWS):
            if number > INFO_MAX_ROWS:
                break
            if not row or _blank(row[0].value):
                continue
            f = labels.get(_label(row[0].value))
            if f is None or f.key in label_rows:
                continue
            label_rows[f.key] = number
            values[f.key] = (row[1].value if len(row) > 1 else None, f"B{number}")
    except OverflowError:
        pass
    who = _file_label(sub.file_name)
    sheet = spec.name
    missing = [f for f in spec.fields if f.required and _blank(values.get(f.key, (None,))[0])]
    if missing:
        cell = values[missing[0].key][1] if missing[0].key in values else None
        raise _Reject("info.missing", f"{who}: trang “{sheet}” thiếu "
                      f"{', '.join('“' + f.header + '”' for f in missing)} (bắt buộc); toàn bộ tệp không được nạp.",
                      sheet=sheet, cell=cell)

    code_value, code_cell = values["unit_code"]
    code = _code_text(code_value)
    unit = _find_unit(code, registry, sub.month)
    if unit is None:
        if code in registry:
            known = registry.get(code)
            reason = (f"là {known.name}, không phải đơn vị gửi báo cáo tháng {format_month(sub.month)}")
        else:
            reason = "không có trong danh mục đơn vị (mã GSO với cấp huyện, mã danh mục với sở, ban, ngành)"
        raise _Reject("info.unknown_unit", f"{who}: {sheet}!{code_cell} — Mã đơn vị “{_show(code_value)}” {reason}; "
                      "toàn bộ tệp không được nạp.", sheet=sheet, cell=code_cell)
    sub.unit = unit.code

    period_value, period_cell = values["period"]
    try:
        period = _parse_month(period_value)
    except ValueError:
        raise _Reject("info.bad_date", f"{who}: {sheet}!{period_cell} — Kỳ báo cáo “{_show(period_value)}” "
                      "không đọc được; ghi dạng MM/YYYY (ví dụ 09/2022); toàn bộ tệp không được nạp.",
                      sheet=sheet, cell=period_cell) from None
    if period != sub.month:
        raise _Reject("info.wrong_month", f"{who}: {sheet}!{period_cell} — Kỳ báo cáo là {format_month(period)}, "
                      f"không phải tháng đang nạp {format_month(sub.month)}; toàn bộ tệp không được nạp.",
                      sheet=sheet, cell=period_cell)

    date_value, date_cell = values["prepared_on"]
    try:
        sub.prepared_on = _parse_date(date_value)
    except ValueError:
        raise _Reject("info.bad_date", f"{who}: {sheet}!{date_cell} — Ngày lập “{_show(date_value)}” không đọc "
                      "được; ghi dạng DD/MM/YYYY (ví dụ 03/10/2022); toàn bộ tệp không được nạp.",
                      sheet=sheet, cell=date_cell) from None

    sub.preparer = _text(values["preparer"][0])

    if "form_version" in values and not _blank(values["form_version"][0]):
        version_value, version_cell = values["form_version"]
        expected = str(settings["submission"].get("form_version", forms.FORM_VERSION))
        if _code_text(version_value) != expected:
            raise _Reject("info.form_version", f"{who}: {sheet}!{version_cell} — Phiên bản biểu mẫu "
                          f"“{_show(version_value)}” khác phiên bản đang dùng ({expected}); "
                          "đề nghị dùng biểu mẫu hiện hành; toàn bộ tệp không được nạp.",
                          sheet=sheet, cell=version_cell)
    return unit


class _SheetReader:
    """Reads one table or one-row sheet of a submission into facts and issues."""

    def __init__(self, spec: forms.Sheet, sub: Submission, unit: Unit, registry: Registry,
                 matcher: Matcher, max_rows: int):
        self.spec, self.sub, self.unit = spec, sub, unit
        self.registry, self.matcher, self.max_rows = registry, matcher, max_rows
        self.facts: list[dict] = []
        self.issues: list[dict] = []
        self.loaded = self.rejected = 0
        self.seen: dict[str, int] = {}
        self.labels = {_label(f.header): f for f in spec.fields}
        self.required = {_label(f.header) for f in spec.fields if f.required}

    def addr(self, cell: str) -> str:
        return f"{self.spec.name}!{cell}"

    def error(self, cell: str | None, rule: str, message: str) -> None:
        self.issues.append(_issue(self.sub.file_name, self.spec.name, cell, rule, ERROR, message))

    def warn(self, cell: str | None, rule: str, message: str) -> None:
        self.issues.append(_issue(self.sub.file_name, self.spec.name, cell, rule, WARNING, message))

    def read(self, ws) -> None:
        columns: dict[str, int] | None = None
        best: tuple[int, int, set[str]] = (0, 0, set(self.required))
        data_rows = reported = 0
        data_columns: list[int] = []
        unfilled: list[tuple[int, object]] = []
        try:
            for number, row in _iter_rows(ws, self.max_rows):
                if columns is None:
                    found: dict[str, int] = {}
                    for index, cell in enumerate(row):
                        if isinstance(cell.value, str):
                            key = _label(cell.value)
                            if key in self.labels and self.labels[key].key not in found:
                                found[self.labels[key].key] = index
                    present = {_label(self.spec.field(k).header) for k in found}
                    if self.required <= present:
                        columns = found
                        subject_keys = _SUBJECT_FIELDS.get(self.spec.subject, ())
                        data_columns = [i for k, i in found.items() if k not in subject_keys] if subject_keys else []
                    elif len(self.required & present) > best[0]:
                        best = (len(self.required & present), number, self.required - present)
                    continue
                if all(_blank(row[i].value) for i in columns.values() if i < len(row)):
                    continue
                data_rows += 1
                if data_rows > self.max_rows:
                    raise OverflowError(number)
                if data_columns and all(_blank(row[i].value) for i in data_columns if i < len(row)):
                    # Only the platform or commune is named (as the template pre-fills it): not reported.
                    unfilled.append((number, row))
                    continue
                reported += 1
                if self.spec.layout == "row" and data_rows > 1:
                    first = min(i for i in columns.values() if i < len(row) and not _blank(row[i].value))
                    coord = f"{get_column_letter(first + 1)}{number}"
                    self.error(coord, "row.extra",
                               f"{self.addr(coord)}: trang “{self.spec.name}” chỉ có một dòng số liệu; "
                               f"dòng {number} thừa nên không được nạp.")
                    self.rejected += 1
                    continue
                self.read_row(number, row, columns)
        except OverflowError:
            self.facts, self.issues, self.loaded, self.rejected = [], [], 0, 0
            self.error(None, "sheet.too_many_rows",
                       f"Trang “{self.spec.name}” có quá {_fmt(self.max_rows)} dòng số liệu (giới hạn của biểu mẫu); "
                       "trang này không được nạp.")
            return
        if columns is None:
            missing = ", ".join("“" + f.header + "”" for f in self.spec.fields if _label(f.header) in best[2])
            where = f" (dòng {best[1]} gần giống nhất)" if best[1] else ""
            self.error(None, "sheet.no_header",
                       f"Trang “{self.spec.name}”: không tìm thấy dòng tiêu đề có đủ các cột bắt buộc; "
                       f"thiếu {missing}{where}. Trang này không được nạp.")
            return
        if reported == 0 and self.spec.key in self.unit.sections:
            listed = (f" (các dòng {unfilled[0][0]}–{unfilled[-1][0]} mới có tên, chưa có số liệu)"
                      if len(unfilled) > 1 else f" (dòng {unfilled[0][0]} mới có tên)" if unfilled else "")
            self.warn(None, "sheet.missing",
                      f"Trang “{self.spec.name}” có dòng tiêu đề nhưng chưa có số liệu{listed}; "
                      "phần này được ghi là chưa báo cáo.")
        elif reported:
            first = min(data_columns) if data_columns else 0
            for number, row in unfilled:
                coord = f"{get_column_letter(first + 1)}{number}"
                named = [_show(row[columns[k]].value) for k in _SUBJECT_FIELDS[self.spec.subject]
                         if k in columns and columns[k] < len(row) and not _blank(row[columns[k]].value)]
                what = "nền tảng" if self.spec.subject == "platform" else "đơn vị cấp xã"
                self.warn(coord, "row.not_reported",
                          f"{self.addr(coord)}: {what} “{' – '.join(named)}” chưa có số liệu; "
                          f"dòng {number} được ghi là chưa báo cáo.")

    def parse_cell(self, f: forms.Field, cell, coord: str, errors: list) -> object:
        raw = cell.value
        if _blank(raw):
            if f.required:
                errors.append((coord, "cell.required", f"thiếu “{f.header}” (bắt buộc)"))
            return None
        try:
            if f.kind == forms.COUNT:
                if isinstance(raw, (dt.datetime, dt.date, dt.time)):
                    raise NumberFormatError(f"ô kiểu ngày giờ ({_show(raw)}), không phải số")
                return parse_count(raw)
            if f.kind == forms.RATE:
                if isinstance(raw, (dt.datetime, dt.date, dt.time)):
                    raise NumberFormatError(f"ô kiểu ngày giờ ({_show(raw)}), không phải số")
                percent = "%" in (getattr(cell, "number_format", None) or "")
                return parse_rate(raw, percent_cell=percent)
        except (NumberFormatError, ArithmeticError) as exc:
            if not isinstance(exc, NumberFormatError):
                exc = NumberFormatError(f"“{_show(raw)}” không phải là số hợp lệ")
            if f.kind == forms.COUNT:
                errors.append((coord, "cell.count", f"“{f.header}” phải là số nguyên không âm: {exc}"))
            else:
                errors.append((coord, "cell.rate", f"“{f.header}” phải là tỷ lệ từ 0 đến 100: {exc}"))
            return None
        if f.kind == forms.CHOICE:
            key = _label(raw)
            for choice, label in f.choices.items():
                if key == _label(label):
                    return choice
            allowed = ", ".join("“" + label + "”" for label in f.choices.values())
            errors.append((coord, "cell.choice", f"“{f.header}” ghi “{_show(raw)}”, chỉ nhận {allowed}"))
            return None
        if f.kind == forms.CODE:
            return _code_text(raw)
        return _text(raw)

    def read_row(self, number: int, row, columns: dict[str, int]) -> None:
        errors: list[tuple[str, str, str]] = []
        values: dict[str, object] = {}
        coords: dict[str, str] = {}
        for f in self.spec.fields:
            index = columns.get(f.key)
            if index is None:
                continue
            coord = f"{get_column_letter(index + 1)}{number}"
            coords[f.key] = coord
            cell = row[index] if index < len(row) else None
            if cell is None:
                if f.required:
                    errors.append((coord, "cell.required", f"thiếu “{f.header}” (bắt buộc)"))
                continue
            value = self.parse_cell(f, cell, coord, errors)
            if value is not None:
                values[f.key] = value
        for check in self.spec.checks:
            left, right = values.get(check.left), values.get(check.right)
            if left is None or right is None:
                continue
            ok = left <= right if check.op == "<=" else left >= right
            if not ok:
                errors.append((coords[check.left], check.rule,
                               f"{check.message} ({_fmt(left)} so với {_fmt(right)})"))
        subject, subject_name, notes = self.resolve_subject(values, coords, number, errors)
        if errors:
            self.rejected += 1
            for coord, rule, text in errors:
                self.error(coord, rule, f"{self.addr(coord)}: {text}; dòng {number} không được nạp.")
            return
        self.loaded += 1
        for coord, rule, text in notes:
            self.warn(coord, rule, f"{self.addr(coord)}: {text}")
        subject_fields = _SUBJECT_FIELDS.get(self.spec.subject, ())
        kind = self.spec.subject or "unit"
        for f in self.spec.fields:
            if f.key in subject_fields or f.key not in values:
                continue
            value, text = values[f.key], None
            if f.kind in (forms.COUNT, forms.RATE):
                number_value = float(value)
            elif f.kind == forms.CHOICE:
                text = value
                number_value = (1.0 if value == "co" else 0.0) if f.choices == forms.YES_NO_CHOICES else None
            else:
                text, number_value = value, None
            self.facts.append({
                "month": self.sub.month, "unit": self.unit.code, "sheet": self.spec.key, "subject_kind": kind,
                "subject": subject, "subject_name": subject_name, "metric": f.key, "value": number_value,
                "text": text, "submission_id": self.sub.submission_id, "cell": coords[f.key],
            })

    def resolve_subject(self, values: dict, coords: dict, number: int, errors: list):
        """(subject, subject name, warnings) of a row; problems go to `errors`."""
        notes: list[tuple[str, str, str]] = []
        if self.spec.subject == "platform":
            name = values.get("platform_name")
            if name is None:
                return "", "", notes
            platform_id = values.get("platform_id")
            match = self.matcher.match(platform_id, name)
            matched = match[0]
            if matched is not None and match[1] == "fuzzy":
                notes.append((coords["platform_name"], "platform.fuzzy", match.note(name)))
            if matched is None:
                subject = f"unmatched:{fold(name)}"
                given = f" (mã “{platform_id}” cũng không có trong danh mục)" if platform_id else ""
                notes.append((coords["platform_name"], "platform.unmatched",
                              f"nền tảng “{name}”{given} không khớp danh mục nền tảng theo mã, tên hay tên gọi "
                              "khác; vẫn được nạp và báo cáo là nền tảng ngoài danh mục."))
            else:
                subject = matched
            self.check_duplicate(subject, number, coords["platform_name"], "row.duplicate_platform",
                                 f"nền tảng “{name}”", errors)
            return subject, name, notes
        if self.spec.subject == "commune":
            return self.resolve_commune(values, coords, number, errors) + (notes,)
        return "", "", notes

    def check_duplicate(self, subject: str, number: int, coord: str, rule: str, what: str, errors: list) -> None:
        if subject in self.seen:
            errors.append((coord, rule, f"{what} đã khai ở dòng {self.seen[subject]}"))
        else:
            self.seen[subject] = number

    def resolve_commune(self, values: dict, coords: dict, number: int, errors: list) -> tuple[str, str]:
        name = values.get("commune_name")
        code = values.get("commune_code")
        month = self.sub.month
        district = self.unit
        index = _index(self.registry)
        if code:
            commune = index.by_code.get(code)
            if commune is None or commune.type != "commune" or not commune.valid_in(month):
                errors.append((coords["commune_code"], "row.unknown_commune",
                               f"Mã xã “{code}” không có trong danh mục xã, phường, thị trấn"))
                return "", name or ""
            if commune.parent != district.code:
                parent = index.name_of(commune.parent) or commune.parent
                errors.append((coords["commune_code"], "row.wrong_district_commune",
                               f"Mã xã “{code}” là {commune.name} thuộc {parent}, không thuộc {district.name}"))
                return "", name or ""
            if name is not None and fold(name) not in (fold(commune.name), fold(commune.short_name)):
                errors.append((coords["commune_name"], "row.unknown_commune",
                               f"Mã xã “{code}” là {commune.name}, không khớp tên đã ghi “{name}”"))
                return "", name
            self.check_duplicate(commune.code, number, coords["commune_code"], "row.duplicate_commune",
                                 commune.name, errors)
            return commune.code, name or commune.name
        if name is None:
            return "", ""
        key = fold(name)
        named = index.by_name.get(key, [])
        matches = [c for c in named if c.parent == district.code and c.valid_in(month)]
        if len(matches) > 1:
            # Names that fold alike (Hương Vân, Hương Văn): the one written with its diacritics.
            written = nfc(name).casefold()
            exact = [c for c in matches if written in (c.name.casefold(), c.short_name.casefold())]
            matches = exact if len(exact) == 1 else matches
        if len(matches) == 1:
            self.check_duplicate(matches[0].code, number, coords["commune_name"], "row.duplicate_commune",
                                 matches[0].name, errors)
            return matches[0].code, name
        if len(matches) > 1:
            errors.append((coords["commune_name"], "row.unknown_commune",
                           f"tên “{name}” ứng với {len(matches)} đơn vị cấp xã của {district.name}; "
                           "hãy ghi “Mã xã”"))
            return "", name
        elsewhere = [c for c in named if c.parent != district.code and c.valid_in(month)]
        if elsewhere:
            parents = ", ".join(sorted({index.name_of(c.parent) for c in elsewhere if c.parent in index.by_code}))
            errors.append((coords["commune_name"], "row.wrong_district_commune",
                           f"“{name}” không phải đơn vị cấp xã của {district.name} (có tên này ở {parents})"))
        else:
            errors.append((coords["commune_name"], "row.unknown_commune",
                           f"“{name}” không có trong danh mục xã, phường, thị trấn của {district.name}"))
        return "", name


def read_submission(path: Path | str, *, month: str, registry: Registry, matcher: Matcher,
                    settings: dict, reader: str | None = None) -> Submission:
    """Read and check one submitted file; never raises for a bad file.

    `reader` is "calamine" or "openpyxl" (default: settings' submission.reader, else
    DEFAULT_READER); both give the same facts and issues. calamine reads the cell values and
    openpyxl the number formats it does not expose; a sheet calamine cannot read safely, or any
    error in it, sends the whole file to openpyxl.
    """
    path = Path(path)
    check_month_format(month)
    reader = reader or settings["submission"].get("reader") or DEFAULT_READER
    if reader not in READERS:
        raise ValueError(f"reader must be one of {', '.join(READERS)}, not {reader!r}")
    sub = Submission(file_name=path.name, path=path, month=month)
    try:
        _read(sub, registry, matcher, settings, reader)
    except _Reject as reject:
        sub.rejected = True
        sub.facts = []
        sub.rows_loaded = sub.rows_rejected = 0
        sub.issues = [_issue(sub.file_name, reject.sheet, reject.cell, reject.rule, ERROR, reject.message)]
    if not sub.submission_id:
        sub.submission_id = hashlib.sha256(b"unreadable:" + path.name.encode("utf-8", "replace")).hexdigest()
    for row in sub.facts:
        row["submission_id"] = sub.submission_id
    return sub


def _read(sub: Submission, registry: Registry, matcher: Matcher, settings: dict, reader: str = "openpyxl") -> None:
    limits = settings["submission"]
    max_bytes = int(limits["max_file_bytes"])
    max_rows = int(limits["max_rows_per_sheet"])
    who = _file_label(sub.file_name)
    try:
        sub.size = sub.path.stat().st_size
        if sub.size > max_bytes:
            sub.submission_id = _sha256(sub.path)
            raise _Reject("file.too_large", f"{who} nặng {_fmt(sub.size)} byte, vượt giới hạn {_fmt(max_bytes)} byte; "
                                            "tệp không được mở. Đề nghị xóa các trang, hình ảnh thừa và gửi lại.")
        with open(sub.path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise _Reject("file.not_workbook", f"{who} không đọc được ({exc.strerror or exc}).") from exc
    if len(data) > max_bytes:
        sub.submission_id = _sha256(sub.path)
        raise _Reject("file.too_large", f"{who} vượt giới hạn {_fmt(max_bytes)} byte; tệp không được mở.")
    sub.size = len(data)
    sub.content = data
    sub.submission_id = hashlib.sha256(data).hexdigest()
    if not data:
        raise _Reject("file.empty", f"{who} rỗng (0 byte); đề nghị đơn vị gửi lại báo cáo.")
    _check_container(data, sub.file_name)
    book = _calamine_book(data, max_rows) if reader == "calamine" else None
    if book is not None:
        sub.reader = "calamine"
        try:
            _read_workbook(book, data, sub, registry, matcher, max_rows, settings)
        finally:
            book.close()
        return
    sub.reader = "openpyxl"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:
        if _defused(exc):
            raise _xml_bomb(sub.file_name) from exc
        raise _Reject("file.not_workbook", f"{who} không mở được như bảng tính .xlsx ({type(exc).__name__}); "
                                           "đề nghị mở bằng Excel, lưu lại dạng .xlsx và gửi lại.") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _read_workbook(wb, data, sub, registry, matcher, max_rows, settings)
    except _Reject:
        raise
    except Exception as exc:
        if _defused(exc):
            raise _xml_bomb(sub.file_name) from exc
        raise _Reject("file.not_workbook", f"{who} bị hỏng, không đọc được nội dung ({type(exc).__name__}); "
                                           "đề nghị mở bằng Excel, lưu lại và gửi lại.") from exc
    finally:
        wb.close()


def _read_workbook(wb, data: bytes, sub: Submission, registry: Registry, matcher: Matcher,
                   max_rows: int, settings: dict) -> None:
    who = _file_label(sub.file_name)
    sheets = _match_sheets(wb, sub.file_name)
    sub.sheets = [s.key for s in forms.SHEETS if s.key in sheets]
    keywords = getattr(wb.properties, "keywords", None) or ""
    sub.is_sample = SAMPLE_KEYWORD in str(keywords)
    if "thong_tin" not in sheets:
        if all(_sheet_is_blank(ws, max_rows) for ws in wb.worksheets):
            raise _Reject("file.empty", f"{who} không có số liệu nào (mọi trang đều trống).")
        titles = ", ".join("“" + nfc(ws.title) + "”" for ws in wb.worksheets) or "không có trang nào"
        raise _Reject("file.no_info_sheet", f"{who} không có trang “{forms.THONG_TIN.name}” nên không xác định được "
                                            f"đơn vị và kỳ báo cáo (các trang có: {titles}); toàn bộ tệp không được nạp.")
    for spec in forms.SHEETS:
        ws = sheets.get(spec.key)
        if ws is None:
            continue
        cells = ws.uncached if isinstance(ws, _CalamineSheet) else _uncached_formulas(data, ws._worksheet_path)
        if cells:
            more = f" và {len(cells) - 1} ô khác" if len(cells) > 1 else ""
            raise _Reject("cell.formula", f"{who}: {spec.name}!{cells[0]}{more} có công thức không có giá trị lưu sẵn "
                                          "(tệp chưa được tính lại trong Excel); đề nghị mở tệp bằng Excel, lưu lại "
                                          "rồi gửi; toàn bộ tệp không được nạp.", sheet=spec.name, cell=cells[0])
    unit = _read_info(sheets["thong_tin"], sub, registry, settings)
    required = [s for s in forms.sheets_for(unit.sections) if s.key != "thong_tin"]
    for spec in required:
        if spec.key not in sheets:
            sub.issues.append(_issue(sub.file_name, spec.name, None, "sheet.missing", WARNING,
                                     f"{who} thiếu trang “{spec.name}” mà {unit.name} phải báo cáo; "
                                     "phần này được ghi là chưa báo cáo, các trang khác vẫn được nạp."))
    for spec in forms.SHEETS:
        if spec.key == "thong_tin" or spec.key not in sheets:
            continue
        reader = _SheetReader(spec, sub, unit, registry, matcher, max_rows)
        reader.read(sheets[spec.key])
        sub.facts.extend(reader.facts)
        sub.issues.extend(reader.issues)
        sub.rows_loaded += reader.loaded
        sub.rows_rejected += reader.rejected


# --------------------------------------------------------------------------- a month

def _now() -> dt.datetime:
    return dt.datetime.now(LOCAL_TZ).replace(tzinfo=None)


def _modified(path: Path) -> dt.datetime:
    """File modification time as Asia/Ho_Chi_Minh wall time (naive); now when it cannot be read."""
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TZ).replace(tzinfo=None)
    except OSError:
        return _now()


def _arrive(sub: Submission, modified: dt.datetime, now: dt.datetime, listing: received.Listing) -> list[dict]:
    """Set the file's received time and its source (see dxreport.received); issues about its record."""
    got, repaired = received.first_sight(sub.archived_path, file_name=sub.file_name, month=sub.month,
                                         modified=modified, now=now)
    got = listing.entries.get(sub.path.name, got)
    sub.received_at, sub.received_source, sub.received_channel = got.at, got.source, got.channel
    if not repaired:
        return []
    return [{**_issue(sub.file_name, None, None, "received.record_replaced", WARNING,
                      f"Bản ghi thời điểm nhận của tệp “{nfc(sub.file_name)}” trong kho lưu trữ bị hỏng nên "
                      "được lập lại theo thời điểm tệp."),
             "submission_id": sub.submission_id, "unit": sub.unit}]


def _listing_issues(listing: received.Listing) -> list[dict]:
    """Warnings about rows of received.csv that were not used; they belong to no submission."""
    return [{**_issue(received.LIST_NAME, None, p.cell, p.rule, WARNING,
                      f"{received.LIST_NAME}{', ô ' + p.cell if p.cell else ''}: {p.message}"),
             "submission_id": None, "unit": None} for p in listing.problems]


def _received_text(sub: Submission) -> str:
    return (f"{sub.received_at.strftime('%H:%M %d/%m/%Y')} "
            f"(theo {received.source_label(sub.received_source, sub.received_channel)})")


def deadline(month: str, deadline_day: int) -> dt.date:
    """The last day a submission for `month` is on time: `deadline_day` of the next month."""
    year, mm = map(int, check_month_format(month).split("-"))
    year, mm = (year + 1, 1) if mm == 12 else (year, mm + 1)
    return dt.date(year, mm, min(int(deadline_day), calendar.monthrange(year, mm)[1]))


def archive_raw(sub: Submission, raw_dir: Path) -> Path | None:
    """Keep the received file unchanged as raw_dir/<sha256>.<ext>; an existing copy is never touched."""
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    ext = sub.path.suffix.lower().lstrip(".")
    ext = ext if ext and re.fullmatch(r"[a-z0-9]{1,10}", ext) else "bin"
    target = raw_dir / f"{sub.submission_id}.{ext}"
    if target.exists():
        return target
    if sub.content is None:
        try:
            source = open(sub.path, "rb")
        except OSError:
            return None  # unreadable: the file is already reported as not readable
    else:
        source = io.BytesIO(sub.content)
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=raw_dir)
    try:
        with source, os.fdopen(fd, "wb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                out.write(block)
        try:
            os.link(tmp, target)  # atomic, and never replaces an existing file
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system
            try:
                with open(tmp, "rb") as src, open(target, "xb") as out:
                    out.write(src.read())
            except FileExistsError:
                pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _resolve(subs: list[Submission]) -> dict[str, tuple[str, str | None]]:
    """submission_id -> (status, superseded_by): the latest `Ngày lập` of each unit wins."""
    status: dict[str, tuple[str, str | None]] = {}
    by_unit: dict[str, list[Submission]] = {}
    for sub in subs:
        if sub.rejected:
            status[sub.submission_id] = ("rejected", None)
        else:
            by_unit.setdefault(sub.unit, []).append(sub)
    for group in by_unit.values():
        group.sort(key=lambda s: (s.prepared_on or dt.date.min, s.received_at or dt.datetime.min, s.file_name))
        winner = group[-1]
        status[winner.submission_id] = ("accepted", None)
        for loser in group[:-1]:
            status[loser.submission_id] = ("superseded", winner.submission_id)
    return status


def _history_issues(facts: pd.DataFrame, history: pd.DataFrame, month: str, names: dict[str, str]) -> list[dict]:
    """Warnings from earlier months: a cumulative value going down, a monthly value jumping."""
    out: list[dict] = []
    if facts.empty or history.empty:
        return out
    history = history[(history["month"] < month) & history["value"].notna()]
    past: dict[tuple, list[tuple[str, float]]] = {}
    for row in history.itertuples(index=False):
        past.setdefault((row.unit, row.sheet, row.subject, row.metric), []).append((row.month, float(row.value)))
    for row in facts.itertuples(index=False):
        if row.value is None or pd.isna(row.value):
            continue
        spec = forms.sheet(row.sheet)
        try:
            f = spec.field(row.metric)
        except KeyError:
            continue
        series = sorted(past.get((row.unit, row.sheet, row.subject, row.metric), []))
        if not series:
            continue
        what = f"“{f.header}”" + (f" của {row.subject_name}" if row.subject_name else "")
        where = f"{spec.name}!{row.cell}"
        value = float(row.value)
        if f.cumulative:
            prev_month, prev = series[-1]
            if value < prev:
                out.append({"file_name": names[row.submission_id], "sheet": spec.name, "cell": row.cell,
                            "rule": "history.cumulative_down", "severity": WARNING,
                            "message": f"{where}: {what} giảm từ {_fmt(prev)} (tháng {format_month(prev_month)}) "
                                       f"xuống {_fmt(value)}; số lũy kế không thể giảm, đề nghị kiểm tra.",
                            "submission_id": row.submission_id, "unit": row.unit})
        if f.monthly and len(series) >= 3:
            median = statistics.median(v for _, v in series)
            if median > 0 and (value > 10 * median or value < median / 10):
                direction = "gấp hơn 10 lần" if value > median else "chưa bằng một phần mười"
                out.append({"file_name": names[row.submission_id], "sheet": spec.name, "cell": row.cell,
                            "rule": "history.jump", "severity": WARNING,
                            "message": f"{where}: {what} = {_fmt(value)}, {direction} trung vị {len(series)} tháng "
                                       f"trước ({_fmt(median)}); đề nghị kiểm tra.",
                            "submission_id": row.submission_id, "unit": row.unit})
    return out


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def ingest_month(month: str, inbox_dir: Path | str, warehouse_path: Path | str | None = None, *,
                 registry: Registry | None = None, snapshot: Snapshot | None = None,
                 raw_dir: Path | str | None = None, settings: dict | None = None,
                 reader: str | None = None) -> IngestResult:
    """Read every file of `inbox_dir` for `month`, archive them, and replace the month in the warehouse.

    Every file is kept unchanged as raw_dir/<sha256>.<ext> (default: <inbox root>/../raw). The
    latest `Ngày lập` of each unit is accepted, the others are superseded; checks against the
    warehouse's earlier months add warnings. `received_at` is decided once (see
    dxreport.received): the folder's received.csv, else the record kept beside the archived copy,
    else first sight (the earlier of the file's modification time and now), as Asia/Ho_Chi_Minh
    wall time. A file is late when received after `deadline_day` of the following month.
    """
    check_month_format(month)
    inbox_dir = Path(inbox_dir)
    settings = settings or load_settings()
    registry = registry or load_registry()
    snapshot = snapshot or load_bundled()
    matcher = Matcher(snapshot.platforms, load_aliases())
    raw_dir = Path(raw_dir) if raw_dir is not None else inbox_dir.parent.parent / "raw"
    warehouse_path = Path(warehouse_path) if warehouse_path is not None else store.DEFAULT_PATH
    due = deadline(month, settings["submission"]["deadline_day"])

    if not inbox_dir.is_dir():
        # Loading a missing folder would silently empty the month in the warehouse.
        raise FileNotFoundError(f"không có thư mục nhận báo cáo {inbox_dir} cho tháng {format_month(month)}")
    # Hidden files (.DS_Store, ._name) are system files, not submissions; nor is received.csv.
    paths = [p for p in inbox_dir.iterdir() if p.is_file() and not p.name.startswith(".") and not received.is_list(p)]
    listing = received.read_list(inbox_dir, [p.name for p in paths])
    now = _now()
    modified = {path: _modified(path) for path in paths}
    # In order of modification, so that of two identical files the first seen writes the record.
    paths.sort(key=lambda p: (modified[p], p.name))
    arrived: list[Submission] = []
    extra_issues: list[dict] = _listing_issues(listing)
    for path in paths:
        try:
            sub = read_submission(path, month=month, registry=registry, matcher=matcher, settings=settings,
                                  reader=reader)
        except Exception as exc:  # one bad file never stops the others
            sub = Submission(file_name=path.name, path=path, month=month, rejected=True)
            try:
                sub.submission_id = _sha256(path)
            except OSError:
                sub.submission_id = hashlib.sha256(b"unreadable:" + path.name.encode("utf-8", "replace")).hexdigest()
            sub.issues = [_issue(path.name, None, None, "file.not_workbook", ERROR,
                                 f"{_file_label(path.name)} không đọc được ({type(exc).__name__}: {exc}).")]
        sub.archived_path = archive_raw(sub, raw_dir)
        sub.content = None
        extra_issues.extend(_arrive(sub, modified[path], now, listing))
        arrived.append(sub)
    # In order of arrival, so that of two identical files the first received is kept.
    arrived.sort(key=lambda s: (s.received_at, modified[s.path], s.file_name))
    subs: list[Submission] = []
    by_digest: dict[str, Submission] = {}
    for sub in arrived:
        if sub.submission_id in by_digest:
            first = by_digest[sub.submission_id]
            extra_issues.append({**_issue(sub.file_name, None, None, "file.duplicate", WARNING,
                                          f"{_file_label(sub.file_name)} giống hệt tệp “{first.file_name}” (cùng nội "
                                          "dung) nên chỉ được tính một lần."),
                                 "submission_id": first.submission_id, "unit": first.unit})
            continue
        by_digest[sub.submission_id] = sub
        subs.append(sub)

    status = _resolve(subs)
    names = {s.submission_id: s.file_name for s in subs}
    sub_rows, fact_rows, issue_rows = [], [], []
    for sub in subs:
        state, superseded_by = status[sub.submission_id]
        late = sub.received_at.date() > due
        issues = sub.issues
        if state == "superseded":
            winner = next(s for s in subs if s.submission_id == superseded_by)
            on = winner.prepared_on.strftime("%d/%m/%Y") if winner.prepared_on else "–"
            issues = [_issue(sub.file_name, None, None, "submission.superseded", WARNING,
                             f"{_file_label(sub.file_name)} đã được thay bằng tệp “{winner.file_name}” "
                             f"(Ngày lập {on}); số liệu của tệp này không được tính.")]
        elif state == "accepted":
            fact_rows.extend(sub.facts)
            if late:
                issues = issues + [_issue(sub.file_name, None, None, "file.late", WARNING,
                                          f"{_file_label(sub.file_name)} nhận lúc {_received_text(sub)}, "
                                          f"sau hạn nộp ngày {due.strftime('%d/%m/%Y')}.")]
        for issue in issues:
            issue_rows.append({**issue, "submission_id": sub.submission_id, "unit": sub.unit})
        sub_rows.append({
            "submission_id": sub.submission_id, "month": month, "unit": sub.unit, "file_name": sub.file_name,
            "archived_path": str(sub.archived_path) if sub.archived_path else None, "received_at": sub.received_at,
            "received_source": sub.received_source, "received_channel": sub.received_channel,
            "prepared_on": sub.prepared_on, "preparer": sub.preparer, "status": state,
            "superseded_by": superseded_by, "is_sample": sub.is_sample, "late": late,
            "rows_loaded": sub.rows_loaded if state == "accepted" else 0,
            "rows_rejected": sub.rows_rejected if state == "accepted" else 0,
            "sections_loaded": ";".join(dict.fromkeys(f["sheet"] for f in sub.facts)) if state == "accepted" else "",
        })
    issue_rows.extend(extra_issues)
    facts = _frame(fact_rows, FACT_COLUMNS)

    con = store.connect(warehouse_path)
    try:
        history = con.execute(
            "SELECT month, unit, sheet, subject, metric, value FROM facts WHERE month < ? AND value IS NOT NULL",
            [month]).df()
        issue_rows.extend(_history_issues(facts, history, month, names))
        for row in issue_rows:
            row["month"] = month
        submissions = _frame(sub_rows, SUBMISSION_COLUMNS + ["sections_loaded"])
        issues = _frame(issue_rows, ISSUE_COLUMNS)
        submissions["received_at"] = pd.to_datetime(submissions["received_at"])
        store.load_units(con, registry)
        store.load_catalog(con, snapshot)
        store.replace_month(con, month, submissions, facts, issues, run={
            "loaded_at": dt.datetime.now(LOCAL_TZ).replace(tzinfo=None), "inbox": str(inbox_dir.resolve()),
            "files": len(paths), "accepted": sum(1 for s, _ in status.values() if s == "accepted"),
            "rejected": sum(1 for s, _ in status.values() if s == "rejected"),
        })
    finally:
        con.close()
    return IngestResult(month=month, submissions=submissions, facts=facts, issues=issues, warehouse=warehouse_path)


# --------------------------------------------------------------------------- reports of a month

_neutralise = forms.neutralise


def _when(value: object) -> str:
    return "" if _missing(value) else pd.Timestamp(value).strftime("%H:%M %d/%m/%Y")


def _receipts(submissions: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    """submission_id -> (received time as dd/mm/yyyy HH:MM, Vietnamese label of its source)."""
    if submissions is None or not len(submissions):
        return {}
    out = {}
    for sub in submissions.to_dict("records"):
        when = "" if _missing(sub.get("received_at")) else pd.Timestamp(sub["received_at"]).strftime("%d/%m/%Y %H:%M")
        out[sub["submission_id"]] = (when, received.source_label(sub.get("received_source"),
                                                                  sub.get("received_channel")))
    return out


def _receipt_rows(submissions: pd.DataFrame | None) -> pd.DataFrame:
    """One info line per received file, in order of arrival: when it was received and by which source."""
    if submissions is None or not len(submissions):
        return pd.DataFrame(columns=["file", "rule", "severity", "message", "unit", "submission_id"])
    subs = submissions.sort_values(["received_at", "file_name"], na_position="last")
    rows = [{"file": sub["file_name"], "rule": RECEIVED_RULE, "severity": INFO, "unit": sub["unit"],
             "submission_id": sub["submission_id"],
             "message": f"Nhận lúc {_when(sub['received_at']) or '–'}; nguồn: "
                        f"{received.source_label(sub.get('received_source'), sub.get('received_channel')) or '–'}."}
            for sub in subs.to_dict("records")]
    return pd.DataFrame(rows)


def write_validation(issues: pd.DataFrame, csv_path: Path | str, submissions: pd.DataFrame | None = None) -> Path:
    """The month's validation report as CSV (UTF-8 with BOM, safe to open in Excel).

    With the month's `submissions`, it starts with one `file.received` line (severity `info`)
    per received file, and every line gives its file's received time and the source of that time.
    """
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    frame = issues.rename(columns={"file_name": "file"}) if issues is not None else pd.DataFrame()
    parts = [part for part in (_receipt_rows(submissions), frame) if len(part)]
    if len(parts) == 2:
        frame = pd.concat(parts, ignore_index=True)
    elif parts:
        frame = parts[0].copy()
    if "submission_id" in frame.columns:
        receipts = _receipts(submissions)
        frame["received_at"] = [receipts.get(s, ("", ""))[0] for s in frame["submission_id"]]
        frame["received_source"] = [receipts.get(s, ("", ""))[1] for s in frame["submission_id"]]
    for c in VALIDATION_COLUMNS:
        if c not in frame.columns:
            frame[c] = None
    frame = frame[VALIDATION_COLUMNS].astype(object).where(frame[VALIDATION_COLUMNS].notna(), None)
    frame = frame.map(_neutralise)
    frame.to_csv(csv_path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return csv_path


# --------------------------------------------------------------------------- feedback copies

FEEDBACK_SHEET = "Cần sửa"
FEEDBACK_DIR = "feedback"
# Rows copied per sheet into a feedback copy beyond the form's limit (a bigger sheet is cut).
FEEDBACK_EXTRA_ROWS = 200
# Issues about another file, not about this one: they get no feedback copy.
_NOT_FEEDBACK = ("submission.superseded", "file.duplicate", "received.record_replaced")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def _marks():
    from openpyxl.styles import PatternFill

    # A hatch that still shows on a grey print, over a colour that shows on screen.
    return {ERROR: PatternFill(patternType="lightUp", fgColor="FFC00000", bgColor="FFFFC7CE"),
            WARNING: PatternFill(patternType="lightGray", fgColor="FF9C5700", bgColor="FFFFEB9C")}


def feedback_name(unit: str | None, file_name: str) -> str:
    """File name of a feedback copy: <unit>_<original name>, always ending in .xlsx."""
    name = _UNSAFE_NAME.sub("_", nfc(file_name)) or "tep"
    if not name.lower().endswith(".xlsx"):
        name += ".xlsx"
    prefix = unit if isinstance(unit, str) and unit else "khong_ro_don_vi"
    return f"{_UNSAFE_NAME.sub('_', prefix)}_{name}"


def _open_for_feedback(path: Path | None, settings: dict):
    """The archived workbook opened read-only, or None when it is not a workbook that can be read safely."""
    if path is None:
        return None
    try:
        size = path.stat().st_size
        if size == 0 or size > int(settings["submission"]["max_file_bytes"]):
            return None
        data = path.read_bytes()
        _check_container(data, path.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # noqa: BLE001 - an unreadable file gets a feedback copy with the list only
        return None


def _cell_order(cell: object) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]{1,3})([0-9]+)", str(cell or ""))
    if not m:
        return (0, 0)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return (int(m.group(2)), col)


def _copy_values(wb, out, limit: int, bold) -> tuple[dict[str, object], list[str]]:
    """Copy every sheet of `wb` (read-only) into `out` after its first sheet: values and number formats.

    Returns the copies by folded title and the titles cut at `limit` rows. Text is written as
    text, never as a formula.
    """
    copied: dict[str, object] = {}
    truncated: list[str] = []
    for ws in wb.worksheets:
        if _label(ws.title) == _label(FEEDBACK_SHEET):
            continue   # the list of an earlier feedback copy, sent back with the corrections
        copy = out.create_sheet(ws.title)
        widths: dict[int, int] = {}
        ws.reset_dimensions()
        for number, row in enumerate(ws.iter_rows(max_col=MAX_COLUMNS), start=1):
            if number > limit:
                truncated.append(ws.title)
                break
            for col, cell in enumerate(row, start=1):
                value = getattr(cell, "value", None)
                if value is None:
                    continue
                target = copy.cell(number, col, forms.neutralise(value))
                if isinstance(target.value, str):
                    target.data_type = "s"
                fmt = getattr(cell, "number_format", "General")
                if fmt and fmt != "General" and not isinstance(value, str):
                    target.number_format = fmt
                font = getattr(cell, "font", None)
                if font is not None and font.b:
                    target.font = bold
                widths[col] = max(widths.get(col, 0), min(len(_show(value, 60)), 60))
        for col, width in widths.items():
            copy.column_dimensions[get_column_letter(col)].width = max(9, width + 2)
        copied.setdefault(_label(ws.title), copy)
    return copied, truncated


def write_feedback(source: Path | str | None, issues: pd.DataFrame, target: Path | str, *, file_name: str,
                   unit_name: str = "", month: str = "", settings: dict | None = None) -> Path:
    """A copy of a unit's workbook with every problem marked, to send back to the unit.

    The copy is rebuilt with openpyxl from the values read (never the original file, which
    stays untouched in the archive): text that a spreadsheet would take for a formula is
    neutralised, number formats are kept. Each cell named by an issue gets a hatched fill (red
    for an error, amber for a warning) and a comment with the message and the rule; a first
    sheet `Cần sửa` lists every issue, the whole-file ones included, with links to the cells.
    A file that cannot be read safely gets the list alone.
    """
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    settings = settings or load_settings()
    source = Path(source) if source is not None else None
    target = Path(target)
    issues = issues.copy()
    forms_order = {_label(s.name): i for i, s in enumerate(forms.SHEETS)}
    issues["_order"] = [(0 if _missing(s) else 1, forms_order.get(_label(s), 99) if not _missing(s) else 0,
                         _cell_order(c)) for s, c in zip(issues["sheet"], issues["cell"])]
    issues = issues.sort_values("_order", kind="stable")
    marks = _marks()
    bold = Font(bold=True)

    limit = int(settings["submission"]["max_rows_per_sheet"]) + FEEDBACK_EXTRA_ROWS
    out, copied, truncated = openpyxl.Workbook(), {}, []
    wb = _open_for_feedback(source, settings)
    if wb is not None:
        try:
            copied, truncated = _copy_values(wb, out, limit, bold)
        except Exception:  # noqa: BLE001 - a sheet that fails half-way: the list alone, as for an unreadable file
            out, copied, truncated = openpyxl.Workbook(), {}, []
        finally:
            wb.close()
    todo = out.worksheets[0]
    todo.title = FEEDBACK_SHEET

    # mark the cells
    notes: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for row in issues.itertuples(index=False):
        if _missing(row.sheet) or _missing(row.cell):
            continue
        ws = copied.get(_label(row.sheet))
        if ws is None or _cell_order(row.cell) == (0, 0):
            continue
        notes.setdefault((_label(row.sheet), row.cell), []).append((row.severity, row.rule, row.message))
    for (sheet_key, ref), found in notes.items():
        ws = copied[sheet_key]
        cell = ws[ref]
        worst = ERROR if any(sev == ERROR for sev, _, _ in found) else WARNING
        cell.fill = marks[worst]
        text = "\n\n".join(f"[{SEVERITY_LABELS.get(sev, sev)}] {nfc(msg)} (quy tắc {rule})" for sev, rule, msg in found)
        comment = Comment(text, "Sở TT&TT")
        comment.width = 320
        comment.height = min(400, 60 + 18 * (len(text) // 45 + len(found)))
        cell.comment = comment

    # the list
    errors = int((issues["severity"] == ERROR).sum())
    warns = int((issues["severity"] == WARNING).sum())
    head = [
        f"CÁC ĐIỂM CẦN SỬA – tệp “{nfc(file_name)}”",
        f"Đơn vị: {unit_name}" if unit_name else "Đơn vị: chưa xác định được",
        f"Kỳ báo cáo: {format_month(month)}" if month else "",
        f"{_fmt(errors)} lỗi, {_fmt(warns)} cảnh báo. Dòng có lỗi không được tổng hợp; cảnh báo không loại số liệu "
        "nhưng đề nghị kiểm tra.",
        "Ô có lỗi được tô đỏ gạch chéo, ô có cảnh báo tô vàng chấm; rê chuột vào ô để đọc nhận xét. "
        "Sửa xong, gửi lại cả tệp với Ngày lập mới hơn." if copied else
        "Tệp không đọc được như bảng tính nên không có bản sao đánh dấu; đề nghị gửi lại tệp .xlsx theo biểu mẫu.",
    ]
    for line in head:
        todo.append([forms.neutralise(line)])
    todo["A1"].font = Font(bold=True, size=13)
    if truncated:
        todo.append([f"Chỉ chép {_fmt(limit)} dòng đầu của trang: " + ", ".join(f"“{nfc(t)}”" for t in truncated)])
    todo.append([])
    todo.append(["STT", "Trang", "Ô", "Mức độ", "Quy tắc", "Nội dung"])
    header_row = todo.max_row
    for col in range(1, 7):
        todo.cell(header_row, col).font = bold
        todo.cell(header_row, col).fill = PatternFill("solid", fgColor="FFDDDDDD")
    for n, row in enumerate(issues.itertuples(index=False), start=1):
        sheet = "" if _missing(row.sheet) else nfc(row.sheet)
        ref = "" if _missing(row.cell) else str(row.cell)
        values = [n, sheet or "(cả tệp)", ref, SEVERITY_LABELS.get(row.severity, row.severity), row.rule,
                  nfc(row.message)]
        todo.append([forms.neutralise(v) for v in values])
        r = todo.max_row
        todo.cell(r, 6).alignment = Alignment(wrap_text=True, vertical="top")
        todo.cell(r, 4).fill = marks.get(row.severity, PatternFill())
        ws = copied.get(_label(sheet)) if sheet else None
        if ws is not None and ref and _cell_order(ref) != (0, 0):
            link = todo.cell(r, 3)
            quoted = ws.title.replace("'", "''")
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{quoted}'!{ref}", display=ref)
            link.font = Font(color="FF0563C1", underline="single")
    for letter, width in (("A", 6), ("B", 18), ("C", 8), ("D", 10), ("E", 26), ("F", 100)):
        todo.column_dimensions[letter].width = width
    todo.freeze_panes = todo.cell(header_row + 1, 1)

    out.properties.title = f"Góp ý báo cáo tháng {format_month(month)} – {nfc(file_name)}" if month else "Góp ý báo cáo"
    out.properties.creator = "dxreport"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".feedback-", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    try:
        out.save(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def write_feedback_month(month: str, submissions: pd.DataFrame, issues: pd.DataFrame, out_dir: Path | str, *,
                         registry: Registry | None = None, settings: dict | None = None) -> pd.DataFrame:
    """Feedback copies of every submission of `month` with an error or a warning, in `out_dir`.

    Superseded files get none (a later file replaced them). The folder is rebuilt whole, so a
    copy left from an earlier run of the month never lingers. Returns one row per copy:
    submission_id, unit, file_name, path.
    """
    registry = registry or load_registry()
    settings = settings or load_settings()
    out_dir = Path(out_dir)
    columns = ["submission_id", "unit", "file_name", "path"]
    rows = []
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".feedback-", dir=out_dir.parent))
    try:
        if issues is not None and len(issues) and submissions is not None and len(submissions):
            mine = issues[~issues["rule"].isin(_NOT_FEEDBACK)]
            for sub in submissions.itertuples(index=False):
                if sub.status == "superseded":
                    continue
                found = mine[mine["submission_id"] == sub.submission_id]
                if found.empty:
                    continue
                unit = sub.unit if isinstance(sub.unit, str) and sub.unit else None
                unit_name = registry.get(unit).name if unit and unit in registry else ""
                name = feedback_name(unit, sub.file_name)
                archived = None if _missing(sub.archived_path) else Path(sub.archived_path)
                write_feedback(archived, found, staging / name, file_name=sub.file_name,
                               unit_name=unit_name, month=month, settings=settings)
                rows.append({"submission_id": sub.submission_id, "unit": unit, "file_name": sub.file_name,
                             "path": out_dir / name})
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=".feedback-old-", dir=out_dir.parent))
            out_dir.rename(old / "feedback")
        staging.rename(out_dir)
    finally:
        for leftover in (staging, *out_dir.parent.glob(".feedback-old-*")):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    return pd.DataFrame(rows, columns=columns)


def _unit_order(issues: pd.DataFrame, registry: Registry) -> list[str | None]:
    codes = [c for c in dict.fromkeys(issues["unit"].tolist())]
    order = {u.code: i for i, u in enumerate(registry.units)}
    known = sorted((c for c in codes if isinstance(c, str) and c), key=lambda c: (order.get(c, len(order)), c))
    unknown = [c for c in codes if not (isinstance(c, str) and c)]
    return known + ([None] if unknown else [])


def _href(link: str) -> str:
    """A relative link to a file, percent-encoded and escaped for an attribute."""
    return html.escape(urllib.parse.quote(link, safe="/"), quote=True)


def _feedback_links(sids, feedback: dict[str, str]) -> str:
    links = [f'<a href="{_href(feedback[s])}">{html.escape(Path(feedback[s]).name)}</a>'
             for s in dict.fromkeys(sids) if isinstance(s, str) and s in feedback]
    return ", ".join(links)


def _tracker_counts(track: pd.DataFrame) -> str:
    """Units per status; a unit that resubmitted late counts both as late and as resubmitted."""
    counts = {key: int((track["status"] == key).sum()) for key in STATUS_LABELS}
    both = 0
    if "resubmitted" in track.columns:
        flagged = track["resubmitted"].fillna(False).astype(bool)
        both = int((flagged & (track["status"] == "late")).sum())
        counts["resubmitted"] = int(flagged.sum())
    text = "; ".join(f"{label}: {_fmt(counts[key])}" for key, label in STATUS_LABELS.items()) + "."
    if both:
        text += f" Trong đó {_fmt(both)} đơn vị vừa nộp lại vừa nộp muộn, được tính ở cả hai mục."
    return text


def _tracker_html(track: pd.DataFrame, issues: pd.DataFrame, feedback: dict[str, str]) -> list[str]:
    esc = html.escape
    parts = ["<h2>Tình hình nộp báo cáo</h2>",
             f"<p>{esc(_tracker_counts(track))}</p>",
             '<table class="dx-tracker"><thead><tr><th>Mã</th><th>Đơn vị</th><th>Tình trạng</th><th>Tệp</th>'
             "<th>Nhận lúc</th><th>Nguồn thời điểm nhận</th><th>Phần chưa báo cáo</th><th>Lỗi</th><th>Cảnh báo</th>"
             "<th>Bản góp ý</th></tr></thead><tbody>"]
    for row in track.itertuples(index=False):
        mine = issues[issues["unit"] == row.unit] if len(issues) else issues
        sids = mine["submission_id"].tolist() if len(mine) else []
        cells = [row.unit, row.unit_name, row.status_label, row.file_name, _when(row.received_at),
                 getattr(row, "received_source_label", ""), row.sections_not_reported,
                 _fmt(int((mine["severity"] == ERROR).sum())) if len(mine) else "0",
                 _fmt(int((mine["severity"] == WARNING).sum())) if len(mine) else "0"]
        text = "".join(f"<td>{esc('' if _missing(v) else str(v))}</td>" for v in cells)
        links = _feedback_links([row.submission_id] + sids, feedback)
        parts.append(f'<tr class="dx-{esc(str(row.status))}">{text}<td>{links}</td></tr>')
    parts.append("</tbody></table>")
    return parts


def _files_html(submissions: pd.DataFrame) -> list[str]:
    """Every received file: what became of it, when it was received and where that time comes from."""
    esc = html.escape
    parts = ["<h2>Các tệp đã nhận</h2>",
             '<table class="dx-files"><thead><tr><th>Tệp</th><th>Đơn vị</th><th>Kết quả</th><th>Nhận lúc</th>'
             "<th>Nguồn thời điểm nhận</th><th>Hạn nộp</th></tr></thead><tbody>"]
    for sub in submissions.sort_values(["received_at", "file_name"], na_position="last").to_dict("records"):
        due = "" if sub.get("status") == "rejected" or _missing(sub.get("late")) else (
            "Sau hạn" if bool(sub["late"]) else "Đúng hạn")
        cells = [sub["file_name"], sub["unit"], FILE_STATUS_LABELS.get(sub.get("status"), sub.get("status")),
                 _when(sub["received_at"]),
                 received.source_label(sub.get("received_source"), sub.get("received_channel")), due]
        parts.append("<tr>" + "".join(f"<td>{esc('' if _missing(v) else str(v))}</td>" for v in cells) + "</tr>")
    parts.append("</tbody></table>")
    return parts


_LIST_GROUP = object()


def _group(frame: pd.DataFrame, code: object, listed: pd.Series, registry: Registry) -> tuple[pd.DataFrame, str]:
    """The issues of one heading of the validation page, and its title."""
    if code is _LIST_GROUP:
        return frame[listed], f"Danh sách ngày nhận tệp ({received.LIST_NAME})"
    if code is None:
        return frame[frame["unit"].isna() & ~listed], "Chưa xác định được đơn vị"
    return frame[frame["unit"] == code], f"{registry.get(code).name} ({code})" if code in registry else code


def validation_html(issues: pd.DataFrame, registry: Registry, tracker: pd.DataFrame | None = None,
                    feedback: dict[str, str] | None = None, submissions: pd.DataFrame | None = None) -> str:
    """The validation report as a Vietnamese HTML fragment, grouped by unit.

    With `tracker` (see tracker()) it starts with who has reported (Đã nộp, Nộp muộn, Chưa
    nộp, Nộp lại, Bị từ chối); `feedback` maps submission ids to the relative links of their
    feedback copies, shown beside each unit. With the month's `submissions` it lists every
    received file with its received time and the source of that time. Every value is escaped.
    """
    esc = html.escape
    feedback = feedback or {}
    frame = issues.copy() if issues is not None else pd.DataFrame(columns=ISSUE_COLUMNS)
    if "unit" not in frame.columns:
        frame["unit"] = None
    frame["unit"] = frame["unit"].where(frame["unit"].notna() & (frame["unit"].astype(str) != ""), None)
    parts = ['<section class="dx-validation">']
    if tracker is not None:
        parts += _tracker_html(tracker, frame, feedback)
    if submissions is not None and len(submissions):
        parts += _files_html(submissions)
    if tracker is not None or (submissions is not None and len(submissions)):
        parts.append("<h2>Lỗi và cảnh báo theo đơn vị</h2>")
    if frame.empty:
        parts.append("<p>Không có lỗi hay cảnh báo nào.</p></section>")
        return "\n".join(parts)
    status = dict(zip(tracker["unit"], tracker["status_label"])) if tracker is not None else {}
    errors = int((frame["severity"] == ERROR).sum())
    warnings_count = int((frame["severity"] == WARNING).sum())
    parts.append(f"<p>Tổng cộng {esc(_fmt(errors))} lỗi và {esc(_fmt(warnings_count))} cảnh báo.</p>")
    listed = frame["unit"].isna() & (frame["file_name"] == received.LIST_NAME)
    for code in _unit_order(frame[~listed], registry) + ([_LIST_GROUP] if listed.any() else []):
        rows, title = _group(frame, code, listed, registry)
        n_err = int((rows["severity"] == ERROR).sum())
        n_warn = int((rows["severity"] == WARNING).sum())
        parts.append(f"<h3>{esc(title)}</h3>")
        summary = f"{_fmt(n_err)} lỗi, {_fmt(n_warn)} cảnh báo."
        if code in status:
            summary = f"Tình trạng: {status[code]}. " + summary
        links = _feedback_links(rows["submission_id"].tolist() if "submission_id" in rows else [], feedback)
        parts.append(f"<p>{esc(summary)}" + (f" Bản góp ý gửi đơn vị: {links}." if links else "") + "</p>")
        parts.append('<table class="dx-validation-table"><thead><tr><th>Tệp</th><th>Trang</th><th>Ô</th>'
                     "<th>Quy tắc</th><th>Mức độ</th><th>Nội dung</th></tr></thead><tbody>")
        for row in rows.itertuples(index=False):
            cells = [row.file_name, row.sheet, row.cell, row.rule,
                     SEVERITY_LABELS.get(row.severity, row.severity), row.message]
            text = "".join(f"<td>{esc('' if _missing(v) else str(v))}</td>" for v in cells)
            parts.append(f'<tr class="dx-{esc(str(row.severity))}">{text}</tr>')
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "\n".join(parts)


def validation_page(issues: pd.DataFrame, registry: Registry, month: str, tracker: pd.DataFrame | None = None,
                    feedback: dict[str, str] | None = None, submissions: pd.DataFrame | None = None) -> str:
    """The validation report of `month` as a standalone Vietnamese HTML page (see validation_html)."""
    title = f"Kết quả kiểm tra báo cáo tháng {format_month(check_month_format(month))}"
    from dxreport.render import house_css

    body = validation_html(issues, registry, tracker, feedback, submissions)
    return ("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f"<title>{html.escape(title)}</title>\n<style>\n{house_css(page=True)}</style>\n</head>\n"
            f'<body class="dx-page">\n<h1>{html.escape(title)}</h1>\n{body}\n'
            "</body>\n</html>\n")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT or value is pd.NA


TRACKER_COLUMNS = ["unit", "unit_name", "type", "status", "status_label", "file_name", "received_at",
                   "received_source", "received_source_label", "late", "resubmitted", "sections_not_reported",
                   "submission_id"]


def tracker(month: str, registry: Registry, submissions: pd.DataFrame,
            facts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Who has reported `month`: one row per reporting unit, with status and sections not reported.

    `status` is one key of STATUS_LABELS; a late file is "late" even when it replaced an earlier
    one, and the flags `late` and `resubmitted` say both, as does `status_label` ("Nộp lại, nộp
    muộn"). The file shown is the accepted one, else the last rejected one, with its received time
    and the source of that time (`received_source`, and its Vietnamese label).

    Sections not reported are the sheets the unit must fill that gave no loaded figure. They are
    worked out from `facts` (the month's facts) when given, else from the `sections_loaded`
    column of an IngestResult's submissions; without either they are left empty for received units.
    """
    rows = []
    subs = submissions if submissions is not None else pd.DataFrame(columns=SUBMISSION_COLUMNS)
    loaded: dict[str, set[str]] | None = None
    if facts is not None:
        loaded = {}
        for unit, sheet in facts[["unit", "sheet"]].drop_duplicates().itertuples(index=False):
            loaded.setdefault(unit, set()).add(sheet)
    elif "sections_loaded" in subs.columns:
        loaded = {}
        for unit, sections in subs.loc[subs["status"] == "accepted", ["unit", "sections_loaded"]].itertuples(index=False):
            loaded.setdefault(unit, set()).update(s for s in str(sections or "").split(";") if s)
    for unit in registry.reporting_units(month):
        mine = subs[subs["unit"] == unit.code] if len(subs) else subs
        sections = [s for s in forms.sheets_for(unit.sections) if s.key != "thong_tin"]
        accepted = mine[mine["status"] == "accepted"] if len(mine) else mine
        late = resubmitted = False
        if len(accepted):
            sub = accepted.iloc[0]
            late, resubmitted = bool(sub["late"]), bool((mine["status"] == "superseded").any())
            status = "late" if late else "resubmitted" if resubmitted else "received"
            if loaded is None:
                not_reported = None
            else:
                have = loaded.get(unit.code, set())
                not_reported = "; ".join(s.name for s in sections if s.key not in have)
            shown = sub
        else:
            rejected = mine[mine["status"] == "rejected"] if len(mine) else mine
            shown = rejected.sort_values(["received_at", "file_name"]).iloc[-1] if len(rejected) else None
            status = "missing" if shown is None else "rejected"
            not_reported = "; ".join(s.name for s in sections)
        source = None if shown is None else shown.get("received_source")
        source = source if isinstance(source, str) and source else None
        channel = None if shown is None else shown.get("received_channel")
        rows.append({"unit": unit.code, "unit_name": unit.name, "type": unit.type, "status": status,
                     "status_label": RESUBMITTED_LATE_LABEL if late and resubmitted else STATUS_LABELS[status],
                     "file_name": None if shown is None else shown["file_name"],
                     "received_at": None if shown is None else shown["received_at"],
                     "received_source": source, "received_source_label": received.source_label(source, channel) or None,
                     "late": late, "resubmitted": resubmitted, "sections_not_reported": not_reported,
                     "submission_id": None if shown is None else shown["submission_id"]})
    return pd.DataFrame(rows, columns=TRACKER_COLUMNS)
