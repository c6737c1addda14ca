"""The blank submission form of a unit for a month (an .xlsx workbook a unit fills and sends back).

The sheets, fields and checks come from dxreport.forms; this module lays them out: an
instructions sheet `Hướng dẫn`, `Thông tin` pre-filled, one sheet per table of the form, the
catalog's platforms for the drop-down (`Danh mục nền tảng`), and sheet protection that locks
headers and labels but not data cells.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from dxreport import store
from dxreport.catalog import CATALOGS, Snapshot, load_bundled
from dxreport.forms import (
    AREA_SHEETS,
    CHOICE,
    CODE,
    COUNT,
    DATE,
    FORM_VERSION,
    MONTH,
    NEN_TANG,
    RATE,
    TEXT,
    THONG_TIN,
    TO_CNS,
    Check,
    Field,
    Sheet,
    field_help,
    sheets_for,
)
from dxreport.intake import deadline, not_reporting
from dxreport.params import ParamError, check_month_format, issuer_on, load_settings, previous_month
from dxreport.textnorm import format_month
from dxreport.units import load_registry
from dxreport.xlsx import BOLD, HEAD_ALIGN, TITLE, UNLOCKED, WRAP, fill, neutralise, save_atomic

INSTRUCTIONS_SHEET = "Hướng dẫn"
CATALOG_SHEET = "Danh mục nền tảng"
TEMPLATE_KEYWORD = "dxreport-template"
# Editable empty rows of `Nền tảng` below the platforms pre-filled from last month, and of
# `Tổ công nghệ số` below a district's communes (a commune missing from the registry); a commune-level
# unit has its own row only.
TEMPLATE_PLATFORM_ROWS = 30
TEMPLATE_EXTRA_COMMUNE_ROWS = 5
TEMPLATE_HEADER_ROW = 3  # title in row 1, description in row 2, headers in row 3

KIND_LABELS = {
    COUNT: "Số nguyên không âm",
    RATE: "Tỷ lệ từ 0 đến 100",
    TEXT: "Chữ",
    CHOICE: "Chọn trong danh sách",
    CODE: "Mã",
    MONTH: "Tháng, dạng MM/YYYY",
    DATE: "Ngày, dạng DD/MM/YYYY",
}
_NUMBER_FORMATS = {COUNT: "#,##0", RATE: "0.0", TEXT: "@", CODE: "@", CHOICE: "@"}

_NOTE = Font(italic=True, color="FF555555")
_HEAD_FILL = fill("FFDDEBF7")
_INPUT_FILL = fill("FFFFFDE7")


def check_text(check: Check, spec: Sheet) -> str:
    """A row check as a Vietnamese rule: “A” không lớn hơn “B”."""
    relation = "không lớn hơn" if check.op == "<=" else "không nhỏ hơn"
    return f"“{spec.field(check.left).header}” {relation} “{spec.field(check.right).header}”"


def previous_platforms(warehouse, month: str, unit: str) -> list[tuple[str, str]]:
    """(platform id or '', name) the unit reported in the month before `month`, in its file's order.

    Read from the warehouse's facts (accepted submissions only); [] when the warehouse file
    does not exist or has nothing for that month. A platform outside the catalog has no id.
    """
    path = Path(warehouse)
    if not path.exists():
        return []
    con = store.connect(path, read_only=True)
    try:
        rows = con.execute(
            "SELECT subject, any_value(subject_name), min(CAST(regexp_extract(cell, '[0-9]+$') AS INTEGER)) AS r "
            "FROM facts WHERE month = ? AND unit = ? AND sheet = 'nen_tang' AND subject <> '' "
            "GROUP BY subject ORDER BY r, subject",
            [previous_month(month), str(unit)],
        ).fetchall()
    finally:
        con.close()
    return [("" if subject.startswith("unmatched:") else subject, name or "") for subject, name, _ in rows]


def warehouse_catalog(warehouse) -> Snapshot | None:
    """The catalog last loaded into the warehouse as a Snapshot, or None without one."""
    path = Path(warehouse)
    if not path.exists():
        return None
    con = store.connect(path, read_only=True)
    try:
        frame = store.table_frame(con, "catalog")
    finally:
        con.close()
    if frame.empty:
        return None
    dates = frame["snapshot_date"].dropna()
    date = str(dates.max())[:10] if len(dates) else ""
    platforms = frame.drop(columns=["snapshot_date"]).fillna("")
    return Snapshot(date=date, origin=f"warehouse:{path.name}", platforms=platforms)


def write_template(
    month: str,
    unit,
    path,
    *,
    registry=None,
    snapshot=None,
    previous_platforms: list[tuple[str, str]] | tuple = (),
    settings: dict | None = None,
) -> Path:
    """Write the blank form of `unit` for `month` to `path` (.xlsx); returns the path.

    Only the sheets the unit's type fills, after an instructions sheet `Hướng dẫn`; `Thông tin`
    pre-filled (unit code, month, form version); `Tổ công nghệ số` lists the unit's
    commune-level units with their codes (itself for a commune-level unit); `Nền tảng` starts with `previous_platforms` ((id, name) pairs,
    see previous_platforms()) and offers the catalog's platforms (sheet `Danh mục nền tảng`)
    in a drop-down. Choice columns have drop-down lists; headers and labels are locked (sheet
    protection without a password), data cells are not. Raises ParamError for a month that is
    not YYYY-MM or a unit that does not report in that month.
    """
    check_month_format(month)
    registry = registry or load_registry()
    settings = settings or load_settings()
    snapshot = snapshot or load_bundled()
    reporting = registry.reporting_units(month)
    code = getattr(unit, "code", unit)
    found = [u for u in reporting if u.code == str(code)]
    if not found:
        reason, _ = not_reporting(str(code), registry, month)
        raise ParamError(
            f"mã đơn vị {code!r} {reason}; các mã hợp lệ tháng {month}: {', '.join(u.code for u in reporting)}"
        )
    unit = found[0]
    period = format_month(month)
    version = str(settings["submission"].get("form_version", FORM_VERSION))
    sheets = sheets_for(unit.sections)

    wb = Workbook()
    props = wb.properties
    props.title = f"Biểu mẫu báo cáo tháng {period} – {unit.name}"
    props.subject = "Báo cáo mức độ sử dụng các nền tảng số"
    props.creator = issuer_on(settings["report"]["issuers"], date.fromisoformat(month + "-01"))["issuing_body"]
    props.keywords = f"{TEMPLATE_KEYWORD} form_version={version} unit={unit.code} month={month}"

    helps = {f.key: field_help(f, registry, month) for s in sheets for f in s.fields}
    is_commune = unit.type == "commune"
    due = deadline(month, settings["submission"]["deadline_day"])
    area = registry.in_sentence(unit) if is_commune else ""
    _instructions_sheet(wb, unit, period, due, version, sheets, helps, area)
    _info_sheet(wb, unit, period, version)
    names = snapshot.platforms
    for spec in sheets:
        if spec.key == "nen_tang":
            prefill = [
                {"platform_id": neutralise(pid) or None, "platform_name": neutralise(name)}
                for pid, name in previous_platforms
            ]
            _table_sheet(wb, spec, unit, period, prefill, len(prefill) + TEMPLATE_PLATFORM_ROWS, names, helps)
        elif spec.key == "to_cns":
            prefill = [{"commune_code": c.code, "commune_name": c.name} for c in registry.communes(unit.code, month)]
            extra = 0 if is_commune else TEMPLATE_EXTRA_COMMUNE_ROWS
            _table_sheet(wb, spec, unit, period, prefill, len(prefill) + extra, names, helps)
        elif spec.key != "thong_tin":
            _table_sheet(wb, spec, unit, period, [], 1, names, helps)
    if any(s.key == "nen_tang" for s in sheets):
        _catalog_sheet(wb, names)

    wb.active = 0
    return save_atomic(wb, path)


def _protect(ws) -> None:
    """Lock the sheet without a password; widening a column or a row stays allowed."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _instructions_sheet(
    wb: Workbook, unit, period: str, due, version: str, sheets: list[Sheet], helps: dict[str, str], area: str = ""
) -> None:
    """`Hướng dẫn`: how to fill the form, then every column of the unit's sheets (with `helps`,
    the month's help of each field). `area` names a commune-level unit in a sentence (`phường Phú
    Xuân`): its area sheets speak of its own area and its `Tổ công nghệ số` has its one row."""
    ws = wb.active
    ws.title = INSTRUCTIONS_SHEET
    lines: list[tuple[str, object]] = [
        ("title", f"BIỂU MẪU BÁO CÁO THÁNG {period} VỀ MỨC ĐỘ SỬ DỤNG CÁC NỀN TẢNG SỐ"),
        ("text", f"Đơn vị: {unit.name} (mã {unit.code}). Phiên bản biểu mẫu: {version}."),
        ("text", f"Hạn nộp: ngày {due.strftime('%d/%m/%Y')}. Tệp nhận sau hạn được ghi là nộp muộn."),
        ("text", ""),
        ("head", "Cách điền"),
        (
            "item",
            f"Trang “{THONG_TIN.name}”: Mã đơn vị, Kỳ báo cáo và Phiên bản biểu mẫu đã điền sẵn, không sửa; "
            "điền Người lập, Ngày lập (DD/MM/YYYY), Điện thoại, Email.",
        ),
        (
            "item",
            "Các trang cần điền: "
            + "; ".join(
                f"“{s.name}” ({s.description[:1].lower() + s.description[1:]})" for s in sheets if s.key != "thong_tin"
            )
            + ".",
        ),
        ("item", "Ô để trống nghĩa là “chưa báo cáo”, không phải số 0. Chỉ ghi 0 khi số liệu thực sự bằng 0."),
        (
            "item",
            "Số viết theo kiểu Việt Nam: dấu chấm ngăn cách hàng nghìn, dấu phẩy trước phần thập phân "
            "(1.234.567; 12,5). Có thể gõ số liền (1234567). Không ghi chữ vào ô số (ví dụ “khoảng 50”).",
        ),
        (
            "item",
            "Cột số lượng chỉ nhận số nguyên không âm. Tỷ lệ ghi từ 0 đến 100 (85 hoặc 85,5%); "
            "ô định dạng phần trăm của Excel (85%) cũng được.",
        ),
        (
            "item",
            "Số “lũy kế” là tổng từ trước đến hết tháng báo cáo và không nhỏ hơn tháng trước; "
            "số “trong tháng” chỉ tính riêng tháng báo cáo.",
        ),
        ("item", "Cột “Tình trạng” và “Kết nối chia sẻ dữ liệu”: chọn trong danh sách thả xuống."),
    ]
    if any(s.key == "nen_tang" for s in sheets):
        lines.append(
            (
                "item",
                f"Trang “{NEN_TANG.name}”: mỗi dòng một nền tảng; chọn tên trong danh sách (trang "
                f"“{CATALOG_SHEET}”) hoặc ghi tên nền tảng khác; không khai một nền tảng hai lần. "
                "Các dòng điền sẵn là nền tảng đơn vị đã báo cáo tháng trước; nền tảng không còn dùng "
                "thì xóa nội dung dòng đó.",
            )
        )
    areas = [s for s in sheets if s.key in AREA_SHEETS]
    if area and areas:
        lines.append(
            (
                "item",
                "Số liệu các trang " + ", ".join(f"“{s.name}”" for s in areas) + f" là số liệu trên địa bàn {area}.",
            )
        )
    if area and any(s.key == "to_cns" for s in sheets):
        lines.append(
            (
                "item",
                f"Trang “{TO_CNS.name}”: một dòng duy nhất cho địa bàn {area}, đã ghi sẵn tên và mã; "
                "không thêm dòng khác.",
            )
        )
    elif any(s.key == "to_cns" for s in sheets):
        lines.append(
            (
                "item",
                f"Trang “{TO_CNS.name}”: mỗi dòng một xã, phường, thị trấn của {unit.name}, "
                "đã ghi sẵn tên và mã; không thêm đơn vị ngoài địa bàn.",
            )
        )
    rules = [check_text(c, s) for s in sheets for c in s.checks]
    if rules:
        lines.append(("item", "Kiểm tra trước khi gửi: " + "; ".join(rules) + "."))
    lines += [
        ("item", "Không đổi tên trang, không sửa dòng tiêu đề. Có thể thêm cột riêng ở bên phải: cột đó được bỏ qua."),
        ("item", "Nếu dùng công thức, mở và lưu tệp bằng Excel trước khi gửi để ô có giá trị."),
        (
            "item",
            "Lưu dạng .xlsx, không đặt mật khẩu mở tệp. Mỗi tháng gửi một tệp; khi gửi bản sửa, gửi lại cả tệp "
            "với Ngày lập mới hơn: bản sau thay bản trước.",
        ),
        ("text", ""),
        ("head", "Các cột của biểu mẫu"),
    ]
    widths = {"A": 4, "B": 18, "C": 38, "D": 30, "E": 10, "F": 50}
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    text_width = sum(widths.values()) - widths["A"]
    for kind, text in lines:
        ws.append(["•" if kind == "item" else None, text])
        row = ws.max_row
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=6)
        cell = ws.cell(row, 2)
        cell.alignment = WRAP
        if kind == "title":
            cell.font = TITLE
        elif kind == "head":
            cell.font = BOLD
        # merged cells do not grow with their text in Excel: give the row its height
        ws.row_dimensions[row].height = 15 * max(1, -(-len(str(text)) // int(text_width * 1.1))) + 3
    ws.append([None, "Trang", "Cột", "Loại", "Bắt buộc", "Ghi chú"])
    table_head = ws.max_row
    for c in range(2, 7):
        ws.cell(table_head, c).font = BOLD
        ws.cell(table_head, c).fill = _HEAD_FILL
    for s in sheets:
        for f in s.fields:
            kind = KIND_LABELS[f.kind]
            if f.choices:
                kind += ": " + " / ".join(f.choices.values())
            ws.append([None, s.name, f.header, kind, "có" if f.required else "", helps.get(f.key, f.help)])
            for c in range(2, 7):
                ws.cell(ws.max_row, c).alignment = WRAP
    _protect(ws)


def _info_sheet(wb: Workbook, unit, period: str, version: str) -> None:
    """`Thông tin`: a label per row, the unit code, month and form version pre-filled."""
    ws = wb.create_sheet(THONG_TIN.name)
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 60
    prefilled = {"unit_code": unit.code, "period": period, "form_version": version}
    notes = {"unit_code": unit.name, "period": "Tháng báo cáo (đã điền sẵn)"}
    for row, f in enumerate(THONG_TIN.fields, start=1):
        label = ws.cell(row, 1, f.header)
        label.font = BOLD
        value = ws.cell(row, 2, prefilled.get(f.key))
        value.protection = UNLOCKED
        value.fill = _INPUT_FILL
        value.number_format = "DD/MM/YYYY" if f.kind == DATE else "@"
        note = ws.cell(row, 3, notes.get(f.key) or f.help or ("Bắt buộc" if f.required else "Không bắt buộc"))
        note.font = _NOTE
        if f.kind == DATE:
            dv = DataValidation(
                type="date",
                operator="greaterThan",
                formula1="36526",
                allow_blank=True,
                errorStyle="warning",
                showErrorMessage=True,
                errorTitle=f.header,
                error="Ghi ngày dạng DD/MM/YYYY, ví dụ 03/10/2022.",
            )
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
    _protect(ws)


def _table_sheet(
    wb: Workbook,
    spec: Sheet,
    unit,
    period: str,
    prefill: list[dict[str, object]],
    editable: int,
    names,
    helps: dict[str, str],
) -> None:
    """A table sheet of the form: title, description, headers, `editable` data rows (`prefill` first)."""
    ws = wb.create_sheet(spec.name)
    ws.cell(1, 1, f"BIỂU MẪU BÁO CÁO THÁNG {period} – {spec.name.upper()} – {unit.name.upper()}").font = TITLE
    ws.cell(2, 1, spec.description).font = _NOTE
    first_data = TEMPLATE_HEADER_ROW + 1
    last = TEMPLATE_HEADER_ROW + editable
    for col, f in enumerate(spec.fields, start=1):
        letter = get_column_letter(col)
        head = ws.cell(TEMPLATE_HEADER_ROW, col, f.header)
        head.font = BOLD
        head.fill = _HEAD_FILL
        head.alignment = HEAD_ALIGN
        help_text = helps.get(f.key, f.help)
        if help_text or f.required:
            head.comment = Comment(
                ("Bắt buộc. " if f.required else "") + (help_text or KIND_LABELS[f.kind]), "dxreport"
            )
        width = 36 if f.key in ("platform_name", "commune_name", "proposal", "note") else 16
        ws.column_dimensions[letter].width = width
        for row in range(first_data, last + 1):
            cell = ws.cell(row, col)
            cell.protection = UNLOCKED
            cell.fill = _INPUT_FILL
            cell.number_format = _NUMBER_FORMATS.get(f.kind, "General")
        for row, values in enumerate(prefill, start=first_data):
            if values.get(f.key) is not None:
                ws.cell(row, col, values[f.key])
        dv = _drop_down(f, len(names))
        if dv is not None:
            dv.add(f"{letter}{first_data}:{letter}{last}")
            ws.add_data_validation(dv)
    ws.row_dimensions[TEMPLATE_HEADER_ROW].height = 45
    ws.freeze_panes = ws.cell(first_data, 1)
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    _protect(ws)


def _drop_down(f: Field, platforms: int) -> DataValidation | None:
    """The data validation of a column: a list for choices and platform names, a range for numbers."""
    if f.kind == CHOICE:
        return DataValidation(
            type="list",
            formula1='"' + ",".join(f.choices.values()) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=f.header,
            error="Chọn một giá trị trong danh sách: " + ", ".join(f.choices.values()),
        )
    if f.kind == COUNT:
        return DataValidation(
            type="whole",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            errorStyle="warning",
            showErrorMessage=True,
            errorTitle=f.header,
            error="Ghi số nguyên không âm (ví dụ 1.234); để trống nếu chưa có số liệu.",
        )
    if f.kind == RATE:
        return DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2="100",
            allow_blank=True,
            errorStyle="warning",
            showErrorMessage=True,
            errorTitle=f.header,
            error="Ghi tỷ lệ từ 0 đến 100 (ví dụ 85,5).",
        )
    if f.key == "platform_name" and platforms:
        ref = f"{quote_sheetname(CATALOG_SHEET)}!$B$2:$B${platforms + 1}"
        # Other names stay allowed: a platform outside the catalog is kept and reported as such.
        return DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=False)
    return None


def _catalog_sheet(wb: Workbook, names) -> None:
    """`Danh mục nền tảng`: the catalog's platforms, the list behind the platform-name drop-down."""
    ws = wb.create_sheet(CATALOG_SHEET)
    ws.append(["Mã nền tảng", "Tên nền tảng", "Nhóm", "Đơn vị cung cấp"])
    for c in range(1, 5):
        ws.cell(1, c).font = BOLD
        ws.cell(1, c).fill = _HEAD_FILL
    for p in names.itertuples(index=False):
        ws.append(
            [neutralise(v) for v in (p.platform_id, p.name, CATALOGS.get(p.catalog, p.catalog), p.provider or None)]
        )
    for letter, width in (("A", 16), ("B", 60), ("C", 36), ("D", 40)):
        ws.column_dimensions[letter].width = width
    _protect(ws)
