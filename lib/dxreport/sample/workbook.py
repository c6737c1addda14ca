"""Writing a planned file as an .xlsx workbook."""

from __future__ import annotations

import os
import unicodedata
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dxreport import forms
from dxreport.sample.model import SAMPLE_KEYWORD, _File, _Styled
from dxreport.textnorm import format_month

_BOLD = Font(bold=True)


def _text(value: Any, nfd: bool) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFD" if nfd else "NFC", value)
    return value


def _cell(ws, value: Any, nfd: bool, *, bold: bool = False):
    if isinstance(value, _Styled):
        cell = WriteOnlyCell(ws, value=value.value)
        cell.number_format = value.number_format
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "DD/MM/YYYY"
        return cell
    cell = WriteOnlyCell(ws, value=_text(value, nfd))
    if bold:
        cell.font = _BOLD
    return cell


def _write(plan: _File, path: Path) -> None:
    nfd = plan.nfd
    wb = Workbook(write_only=True)
    props = wb.properties
    props.keywords = SAMPLE_KEYWORD
    props.title = f"Dữ liệu mẫu dxreport – {plan.unit.name} – báo cáo tháng {format_month(plan.month)}"
    props.subject = "Báo cáo tình hình sử dụng nền tảng số (dữ liệu mẫu, không phải số liệu thật)"
    props.creator = plan.info["preparer"]
    props.lastModifiedBy = plan.info["preparer"]
    prepared = plan.info["prepared_on"]
    props.created = datetime.combine(prepared, time(1, 0))

    ws = wb.create_sheet(_text(forms.THONG_TIN.name, nfd))
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 34
    for f in forms.THONG_TIN.fields:
        value = plan.info.get(f.key)
        if f.key == "prepared_on":
            value = _Styled(value, "DD/MM/YYYY")
        ws.append([_cell(ws, f.header, nfd, bold=True), _cell(ws, value, nfd)])

    for tb in plan.tables:
        ws = wb.create_sheet(_text(tb.sheet.name, nfd))
        for n, (key, header) in enumerate(zip(tb.keys, tb.headers), start=1):
            width = (
                34
                if key in ("platform_name", "commune_name", "proposal", "note")
                else max(8, min(20, len(header) * 0.8))
            )
            ws.column_dimensions[get_column_letter(n)].width = width
        title = f"BIỂU MẪU BÁO CÁO THÁNG {plan.period_text} – {tb.sheet.name.upper()}"
        ws.append([_cell(ws, title, nfd, bold=True)])
        ws.append([])
        ws.append([_cell(ws, h, nfd, bold=True) for h in tb.headers])
        for i, row in enumerate(tb.rows):
            if tb.blank_before is not None and i == tb.blank_before:
                ws.append([])
            ws.append([_cell(ws, row.get(k), nfd) for k in tb.keys])
    wb.save(path)
    ts = plan.arrival.timestamp()
    os.utime(path, (ts, ts))
