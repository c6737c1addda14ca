"""Feedback copies: each unit's workbook rebuilt with its problems marked, to send back to the unit."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from dxreport import forms
from dxreport.intake.cache import code_version
from dxreport.intake.container import _check_container
from dxreport.intake.readers import MAX_COLUMNS
from dxreport.intake.records import ERROR, SEVERITY_LABELS, WARNING, _fmt, _label, _missing, _show
from dxreport.params import load_settings
from dxreport.textnorm import format_month, nfc
from dxreport.units import Registry, load_registry
from dxreport.xlsx import neutralise

FEEDBACK_SHEET = "Cần sửa"
FEEDBACK_DIR = "feedback"
# Rows copied per sheet into a feedback copy beyond the form's limit (a bigger sheet is cut).
FEEDBACK_EXTRA_ROWS = 200
# Issues about another file, not about this one: they get no feedback copy.
_NOT_FEEDBACK = ("submission.superseded", "file.duplicate", "received.record_replaced")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
# A feedback copy carries the hash of what it was made from in its document properties
# (dc:identifier), so that a rerun keeps a copy whose file and issues are unchanged.
_KEY_PREFIX = "dxreport-feedback:"
_KEY_IN_CORE = re.compile(rb"<dc:identifier>" + re.escape(_KEY_PREFIX.encode()) + rb"([0-9a-f]{64})</dc:identifier>")
_CORE_MAX_BYTES = 64 * 1024


def _marks():
    from openpyxl.styles import PatternFill

    # A hatch that still shows on a grey print, over a colour that shows on screen.
    return {
        ERROR: PatternFill(patternType="lightUp", fgColor="FFC00000", bgColor="FFFFC7CE"),
        WARNING: PatternFill(patternType="lightGray", fgColor="FF9C5700", bgColor="FFFFEB9C"),
    }


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
            continue  # the list of an earlier feedback copy, sent back with the corrections
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
                target = copy.cell(number, col, neutralise(value))
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


def write_feedback(
    source: Path | str | None,
    issues: pd.DataFrame,
    target: Path | str,
    *,
    file_name: str,
    unit_name: str = "",
    month: str = "",
    settings: dict | None = None,
    key: str | None = None,
) -> Path:
    """A copy of a unit's workbook with every problem marked, to send back to the unit.

    The copy is rebuilt with openpyxl from the values read (never the original file, which
    stays untouched in the archive): text that a spreadsheet would take for a formula is
    neutralised, number formats are kept. Each cell named by an issue gets a hatched fill (red
    for an error, amber for a warning) and a comment with the message and the rule; a first
    sheet `Cần sửa` lists every issue, the whole-file ones included, with links to the cells.
    A file that cannot be read safely gets the list alone. `key` (see feedback_key) is kept in
    the copy's properties.
    """
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    settings = settings or load_settings()
    source = Path(source) if source is not None else None
    target = Path(target)
    issues = issues.copy()
    forms_order = {_label(s.name): i for i, s in enumerate(forms.SHEETS)}
    issues["_order"] = [
        (0 if _missing(s) else 1, forms_order.get(_label(s), 99) if not _missing(s) else 0, _cell_order(c))
        for s, c in zip(issues["sheet"], issues["cell"])
    ]
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
        "Sửa xong, gửi lại cả tệp với Ngày lập mới hơn."
        if copied
        else "Tệp không đọc được như bảng tính nên không có bản sao đánh dấu; đề nghị gửi lại tệp .xlsx theo biểu mẫu.",
    ]
    for line in head:
        todo.append([neutralise(line)])
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
        values = [
            n,
            sheet or "(cả tệp)",
            ref,
            SEVERITY_LABELS.get(row.severity, row.severity),
            row.rule,
            nfc(row.message),
        ]
        todo.append([neutralise(v) for v in values])
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
    if key:
        out.properties.identifier = _KEY_PREFIX + key
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


@functools.lru_cache(maxsize=1)
def _code_version() -> str:
    xlsx = Path(__file__).resolve().parents[1] / "xlsx.py"
    return hashlib.sha256(code_version().encode() + b"\0" + xlsx.read_bytes()).hexdigest()


def feedback_key(
    source: Path | str | None, issues: pd.DataFrame, *, file_name: str, unit_name: str, month: str, settings: dict
) -> str:
    """The hash of everything a feedback copy is made from: the archived file, the issues, the
    names, the month, the submission settings and the code that writes it."""
    archived = None
    if source is not None:
        try:
            stat = Path(source).stat()
            archived = [str(source), stat.st_size, stat.st_mtime_ns]
        except OSError:
            archived = [str(source), None, None]
    rows = [
        [None if _missing(v) else str(v) for v in (row.sheet, row.cell, row.rule, row.severity, row.message)]
        for row in issues.itertuples(index=False)
    ]
    parts = {
        "code": _code_version(),
        "archived": archived,
        "issues": rows,
        "file_name": file_name,
        "unit_name": unit_name,
        "month": month,
        "submission": json.dumps(settings["submission"], sort_keys=True, default=str),
    }
    return hashlib.sha256(json.dumps(parts, ensure_ascii=True, sort_keys=True).encode()).hexdigest()


def _key_of(path: Path) -> str | None:
    """The key kept in an existing feedback copy, or None (no copy, or not one that can be read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            with archive.open("docProps/core.xml") as part:
                core = part.read(_CORE_MAX_BYTES)
    except (OSError, KeyError, zipfile.BadZipFile, EOFError, ValueError, RuntimeError):
        return None
    found = _KEY_IN_CORE.search(core)
    return found.group(1).decode() if found else None


def _keep(old: Path, target: Path) -> bool:
    """Put the existing copy `old` at `target` unchanged (a hard link, else a copy)."""
    try:
        os.link(old, target)
        return True
    except OSError:
        pass
    try:
        shutil.copy2(old, target)
        return True
    except OSError:
        return False


def write_feedback_month(
    month: str,
    submissions: pd.DataFrame,
    issues: pd.DataFrame,
    out_dir: Path | str,
    *,
    registry: Registry | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """Feedback copies of every submission of `month` with an error or a warning, in `out_dir`.

    Superseded files get none (a later file replaced them). The folder is rebuilt whole, so a
    copy left from an earlier run of the month never lingers; a copy of an earlier run made from
    the same file, issues, names, settings and code (feedback_key) is kept as it is instead of
    being made again. Returns one row per copy: submission_id, unit, file_name, path.
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
                unit_name = registry.name_of(unit, getattr(sub, "month", None)) if unit and unit in registry else ""
                name = feedback_name(unit, sub.file_name)
                archived = None if _missing(sub.archived_path) else Path(sub.archived_path)
                key = feedback_key(
                    archived, found, file_name=sub.file_name, unit_name=unit_name, month=month, settings=settings
                )
                old = out_dir / name
                if _key_of(old) != key or not _keep(old, staging / name):
                    write_feedback(
                        archived,
                        found,
                        staging / name,
                        file_name=sub.file_name,
                        unit_name=unit_name,
                        month=month,
                        settings=settings,
                        key=key,
                    )
                rows.append(
                    {
                        "submission_id": sub.submission_id,
                        "unit": unit,
                        "file_name": sub.file_name,
                        "path": out_dir / name,
                    }
                )
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=".feedback-old-", dir=out_dir.parent))
            out_dir.rename(old / "feedback")
        staging.rename(out_dir)
    finally:
        for leftover in (staging, *out_dir.parent.glob(".feedback-old-*")):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    return pd.DataFrame(rows, columns=columns)
