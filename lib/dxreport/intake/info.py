"""The `Thông tin` sheet: which unit sent the file, for which month, who prepared it and when."""

from __future__ import annotations

import datetime as dt
import re

from dxreport import forms
from dxreport.intake.readers import _iter_rows
from dxreport.intake.records import Submission, _blank, _code_text, _file_label, _label, _Reject, _show, _text
from dxreport.textnorm import fold, format_month, nfc
from dxreport.units import Registry, Unit

# Rows of `Thông tin` searched for its labels.
INFO_MAX_ROWS = 200

_MONTH_TEXT = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_ISO_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{1,2})$")
_DATE_TEXT = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")


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


def _day(iso: str) -> str:
    """`2025-07-01` → `01/07/2025`."""
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")


def not_reporting(code: str, registry: Registry, month: str) -> tuple[str, str]:
    """Why a code names no reporting unit in `month`, and what to do instead: for a unit that
    stopped reporting, the units of `month` that took over its area or its work."""
    if registry.has(code, month):
        return f"là {registry.name_of(code, month)}, không phải đơn vị gửi báo cáo tháng {format_month(month)}", ""
    ended = registry.successors(code, month)
    if ended is not None and ended[1]:
        day, heirs = ended
        before = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).strftime("%Y-%m")
        old = registry.get(code, before)
        if old.type == "agency" or registry.is_area(code, before):
            listed = ", ".join(f"{u.name} ({u.code})" for u in heirs)
            now = f"nhiệm vụ nay do {listed} đảm nhận" if old.type == "agency" else f"địa bàn nay thuộc {listed}"
            advice = (
                "hãy gửi lại với mã đơn vị mới"
                if len(heirs) == 1
                else "mỗi đơn vị trên gửi báo cáo riêng với mã của mình"
            )
            return f"là {old.name}, đã thôi là đơn vị báo cáo từ ngày {_day(day)}; {now}", advice
    rows = registry.rows(code)
    if rows and all(u.valid_from and u.valid_from[:7] > month for u in rows):
        first = rows[0]
        return (
            f"là mã của {first.name} từ ngày {_day(first.valid_from)}, chưa dùng trong tháng {format_month(month)}",
            "",
        )
    if rows:
        return f"là {registry.name_of(code, month)}, không phải đơn vị gửi báo cáo tháng {format_month(month)}", ""
    level = registry.level_word(registry.area_level(month), "level")
    return f"không có trong danh mục đơn vị (mã GSO với {level}, mã danh mục với sở, ban, ngành)", ""


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
        raise _Reject(
            "info.missing",
            f"{who}: trang “{sheet}” thiếu "
            f"{', '.join('“' + f.header + '”' for f in missing)} (bắt buộc); toàn bộ tệp không được nạp.",
            sheet=sheet,
            cell=cell,
        )

    code_value, code_cell = values["unit_code"]
    code = _code_text(code_value)
    unit = _find_unit(code, registry, sub.month)
    if unit is None:
        reason, advice = not_reporting(code, registry, sub.month)
        raise _Reject(
            "info.unknown_unit",
            f"{who}: {sheet}!{code_cell} — Mã đơn vị “{_show(code_value)}” {reason}; toàn bộ tệp không được nạp"
            + (f", {advice}." if advice else "."),
            sheet=sheet,
            cell=code_cell,
        )
    sub.unit = unit.code

    period_value, period_cell = values["period"]
    try:
        period = _parse_month(period_value)
    except ValueError:
        raise _Reject(
            "info.bad_date",
            f"{who}: {sheet}!{period_cell} — Kỳ báo cáo “{_show(period_value)}” "
            "không đọc được; ghi dạng MM/YYYY (ví dụ 09/2022); toàn bộ tệp không được nạp.",
            sheet=sheet,
            cell=period_cell,
        ) from None
    if period != sub.month:
        raise _Reject(
            "info.wrong_month",
            f"{who}: {sheet}!{period_cell} — Kỳ báo cáo là {format_month(period)}, "
            f"không phải tháng đang nạp {format_month(sub.month)}; toàn bộ tệp không được nạp.",
            sheet=sheet,
            cell=period_cell,
        )

    date_value, date_cell = values["prepared_on"]
    try:
        sub.prepared_on = _parse_date(date_value)
    except ValueError:
        raise _Reject(
            "info.bad_date",
            f"{who}: {sheet}!{date_cell} — Ngày lập “{_show(date_value)}” không đọc "
            "được; ghi dạng DD/MM/YYYY (ví dụ 03/10/2022); toàn bộ tệp không được nạp.",
            sheet=sheet,
            cell=date_cell,
        ) from None

    sub.preparer = _text(values["preparer"][0])

    if "form_version" in values and not _blank(values["form_version"][0]):
        version_value, version_cell = values["form_version"]
        expected = str(settings["submission"].get("form_version", forms.FORM_VERSION))
        if _code_text(version_value) != expected:
            raise _Reject(
                "info.form_version",
                f"{who}: {sheet}!{version_cell} — Phiên bản biểu mẫu "
                f"“{_show(version_value)}” khác phiên bản đang dùng ({expected}); "
                "đề nghị dùng biểu mẫu hiện hành; toàn bộ tệp không được nạp.",
                sheet=sheet,
                cell=version_cell,
            )
    return unit
