"""Reading one submitted file: size, container, reader, then its sheets; never raises for a bad file."""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

from dxreport import forms
from dxreport.catalog import Matcher
from dxreport.intake.container import _check_container, _defused, _xml_bomb
from dxreport.intake.info import INFO_MAX_ROWS, _parse_month, _read_info
from dxreport.intake.readers import DEFAULT_READER, READERS, _calamine_book, _iter_rows, _openpyxl_book, _uncached_cells
from dxreport.intake.records import (
    ERROR,
    WARNING,
    Submission,
    _blank,
    _code_text,
    _file_label,
    _fmt,
    _issue,
    _label,
    _Reject,
)
from dxreport.hashcache import file_sha256
from dxreport.intake.sheets import _SheetReader
from dxreport.months import is_month
from dxreport.params import check_month_format
from dxreport.textnorm import nfc
from dxreport.units import Registry

log = logging.getLogger("dxreport.intake")

SAMPLE_KEYWORD = "dxreport-sample"


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
            raise _Reject(
                "file.duplicate_sheet",
                f"{_file_label(name)} có hai trang cùng là “{spec.name}” "
                f"(“{nfc(found[spec.key].title)}” và “{nfc(ws.title)}”); "
                "không biết lấy số liệu ở trang nào nên toàn bộ tệp không được nạp.",
                sheet=spec.name,
            )
        found[spec.key] = ws
    return found


def read_submission(
    path: Path | str, *, month: str, registry: Registry, matcher: Matcher, settings: dict, reader: str | None = None
) -> Submission:
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
            sub.submission_id = file_sha256(sub.path)
            raise _Reject(
                "file.too_large",
                f"{who} nặng {_fmt(sub.size)} byte, vượt giới hạn {_fmt(max_bytes)} byte; "
                "tệp không được mở. Đề nghị xóa các trang, hình ảnh thừa và gửi lại.",
            )
        with open(sub.path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise _Reject("file.not_workbook", f"{who} không đọc được ({exc.strerror or exc}).") from exc
    if len(data) > max_bytes:
        sub.submission_id = file_sha256(sub.path)
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
    wb = _openpyxl_book(data, sub.file_name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _read_workbook(wb, data, sub, registry, matcher, max_rows, settings)
    except _Reject:
        raise
    except Exception as exc:
        if _defused(exc):
            raise _xml_bomb(sub.file_name) from exc
        raise _Reject(
            "file.not_workbook",
            f"{who} bị hỏng, không đọc được nội dung ({type(exc).__name__}); "
            "đề nghị mở bằng Excel, lưu lại và gửi lại.",
        ) from exc
    finally:
        wb.close()


def _read_workbook(
    wb, data: bytes, sub: Submission, registry: Registry, matcher: Matcher, max_rows: int, settings: dict
) -> None:
    who = _file_label(sub.file_name)
    sheets = _match_sheets(wb, sub.file_name)
    sub.sheets = [s.key for s in forms.SHEETS if s.key in sheets]
    keywords = getattr(wb.properties, "keywords", None) or ""
    sub.is_sample = SAMPLE_KEYWORD in str(keywords)
    if "thong_tin" not in sheets:
        if all(_sheet_is_blank(ws, max_rows) for ws in wb.worksheets):
            raise _Reject("file.empty", f"{who} không có số liệu nào (mọi trang đều trống).")
        titles = ", ".join("“" + nfc(ws.title) + "”" for ws in wb.worksheets) or "không có trang nào"
        raise _Reject(
            "file.no_info_sheet",
            f"{who} không có trang “{forms.THONG_TIN.name}” nên không xác định được "
            f"đơn vị và kỳ báo cáo (các trang có: {titles}); toàn bộ tệp không được nạp.",
        )
    for spec in forms.SHEETS:
        ws = sheets.get(spec.key)
        if ws is None:
            continue
        cells = _uncached_cells(ws, data)
        if cells:
            more = f" và {len(cells) - 1} ô khác" if len(cells) > 1 else ""
            raise _Reject(
                "cell.formula",
                f"{who}: {spec.name}!{cells[0]}{more} có công thức không có giá trị lưu sẵn "
                "(tệp chưa được tính lại trong Excel); đề nghị mở tệp bằng Excel, lưu lại "
                "rồi gửi; toàn bộ tệp không được nạp.",
                sheet=spec.name,
                cell=cells[0],
            )
    unit = _read_info(sheets["thong_tin"], sub, registry, settings)
    required = [s for s in forms.sheets_for(unit.sections) if s.key != "thong_tin"]
    for spec in required:
        if spec.key not in sheets:
            sub.issues.append(
                _issue(
                    sub.file_name,
                    spec.name,
                    None,
                    "sheet.missing",
                    WARNING,
                    f"{who} thiếu trang “{spec.name}” mà {unit.name} phải báo cáo; "
                    "phần này được ghi là chưa báo cáo, các trang khác vẫn được nạp.",
                )
            )
    for spec in forms.SHEETS:
        if spec.key == "thong_tin" or spec.key not in sheets:
            continue
        reader = _SheetReader(spec, sub, unit, registry, matcher, max_rows)
        reader.read(sheets[spec.key])
        sub.facts.extend(reader.facts)
        sub.issues.extend(reader.issues)
        sub.rows_loaded += reader.loaded
        sub.rows_rejected += reader.rejected


def read_identity(data: bytes, name: str) -> tuple[str | None, str | None]:
    """(unit code, period YYYY-MM) from a workbook's `Thông tin` sheet, without reading the rest of
    it (the container is checked first); None where unreadable."""
    try:
        _check_container(data, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = _openpyxl_book(data, name)
    except Exception as exc:
        log.info("%s: workbook not readable: %s", name, exc)
        return None, None
    code = period = None
    try:
        sheet = next((ws for ws in wb.worksheets if _label(ws.title) == _label(forms.THONG_TIN.name)), None)
        if sheet is None:
            return None, None
        labels = {_label(f.header): f.key for f in forms.THONG_TIN.fields}
        for number, row in _iter_rows(sheet, INFO_MAX_ROWS):
            if number > INFO_MAX_ROWS:
                break
            if not row or _blank(row[0].value) or len(row) < 2:
                continue
            key = labels.get(_label(row[0].value))
            if key == "unit_code" and code is None and not _blank(row[1].value):
                code = _code_text(row[1].value)
            elif key == "period" and period is None:
                try:
                    period = _parse_month(row[1].value)
                except ValueError:
                    period = None
    except Exception as exc:
        log.info("%s: Thông tin not readable: %s", name, exc)
    finally:
        wb.close()
    return code, period if period and is_month(period) else None
