"""The monthly submission form (spec: Biểu mẫu báo cáo tháng, version 1), defined once.

Everything that reads, writes or checks a submission takes the sheet names, headers, field
kinds and rules from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FORM_VERSION = 1

# Field kinds
COUNT = "count"      # whole number >= 0
RATE = "rate"        # 0-100, '%' allowed, Excel percent cell 0.125 = 12.5
TEXT = "text"
CHOICE = "choice"    # one of Field.choices (matched after folding)
CODE = "code"        # an identifier kept as text
MONTH = "month"      # MM/YYYY text or a date cell
DATE = "date"        # DD/MM/YYYY text or a date cell

STATUS_CHOICES = {"dang_su_dung": "Đang sử dụng", "dang_thu_nghiem": "Đang thử nghiệm",
                  "chua_trien_khai": "Chưa triển khai"}
YES_NO_CHOICES = {"co": "Có", "khong": "Không"}


@dataclass(frozen=True)
class Field:
    """One column of a table sheet, or one label of the `Thông tin` sheet."""

    key: str
    header: str
    kind: str
    required: bool = False
    choices: dict[str, str] = field(default_factory=dict)
    cumulative: bool = False     # a 'lũy kế' value: must not go down month to month
    monthly: bool = False        # a value for the month alone: checked against the median
    help: str = ""


@dataclass(frozen=True)
class Check:
    """A rule between two fields of one row: `left op right`, e.g. processed <= received."""

    left: str
    op: str   # "<=" or ">="
    right: str
    rule: str
    message: str


@dataclass(frozen=True)
class Sheet:
    """One sheet of the form."""

    key: str
    name: str
    layout: str              # "keyvalue" (label in A, value in B), "table" (many rows), "row" (one data row)
    fields: tuple[Field, ...]
    checks: tuple[Check, ...] = ()
    subject: str = ""        # what a row describes: "platform", "commune" or "" (the unit itself)
    description: str = ""

    def field(self, key: str) -> Field:
        """The field with this key."""
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


THONG_TIN = Sheet("thong_tin", "Thông tin", "keyvalue", (
    Field("unit_code", "Mã đơn vị", CODE, required=True, help="Mã đơn vị theo danh mục (mã GSO với cấp huyện)"),
    Field("period", "Kỳ báo cáo", MONTH, required=True, help="Tháng báo cáo, dạng MM/YYYY"),
    Field("preparer", "Người lập", TEXT, required=True),
    Field("prepared_on", "Ngày lập", DATE, required=True, help="Dạng DD/MM/YYYY"),
    Field("phone", "Điện thoại", TEXT),
    Field("email", "Email", TEXT),
    Field("form_version", "Phiên bản biểu mẫu", CODE, help="Để trống hoặc ghi 1"),
), description="Thông tin chung về đơn vị và kỳ báo cáo")

NEN_TANG = Sheet("nen_tang", "Nền tảng", "table", (
    Field("platform_id", "Mã nền tảng", CODE, help="Mã trong danh mục nền tảng; có thể để trống nếu tên khớp danh mục"),
    Field("platform_name", "Tên nền tảng", TEXT, required=True),
    Field("status", "Tình trạng", CHOICE, required=True, choices=STATUS_CHOICES),
    Field("accounts", "Tài khoản lũy kế", COUNT, cumulative=True),
    Field("mau", "Người dùng hoạt động trong tháng", COUNT, monthly=True),
    Field("uses", "Lượt sử dụng trong tháng", COUNT, monthly=True),
    Field("lgsp", "Kết nối chia sẻ dữ liệu", CHOICE, choices=YES_NO_CHOICES),
    Field("proposal", "Đề xuất", TEXT),
    Field("note", "Ghi chú", TEXT),
), checks=(
    Check("mau", "<=", "accounts", "row.mau_le_accounts",
          "Người dùng hoạt động trong tháng lớn hơn tài khoản lũy kế"),
), subject="platform", description="Mỗi dòng một nền tảng số đơn vị đang triển khai hoặc đề xuất")

HUE_S = Sheet("hue_s", "Hue-S", "row", (
    Field("downloads", "Lượt tải lũy kế", COUNT, required=True, cumulative=True),
    Field("accounts", "Tài khoản đăng ký lũy kế", COUNT, required=True, cumulative=True),
    Field("reports_received", "Phản ánh tiếp nhận trong tháng", COUNT, required=True, monthly=True),
    Field("reports_processed", "Phản ánh đã xử lý trong tháng", COUNT, required=True, monthly=True),
    Field("reports_on_time", "Phản ánh xử lý đúng hạn trong tháng", COUNT, required=True, monthly=True),
    Field("satisfaction", "Tỷ lệ hài lòng (%)", RATE),
), checks=(
    Check("reports_processed", "<=", "reports_received", "row.processed_le_received",
          "Phản ánh đã xử lý lớn hơn phản ánh tiếp nhận"),
    Check("reports_on_time", "<=", "reports_processed", "row.on_time_le_processed",
          "Phản ánh xử lý đúng hạn lớn hơn phản ánh đã xử lý"),
), description="Ứng dụng Hue-S trên địa bàn")

TO_CNS = Sheet("to_cns", "Tổ công nghệ số", "table", (
    Field("commune_code", "Mã xã", CODE, help="Mã GSO của xã/phường/thị trấn"),
    Field("commune_name", "Xã/phường/thị trấn", TEXT, required=True),
    Field("teams", "Số tổ lũy kế", COUNT, required=True, cumulative=True),
    Field("members", "Số thành viên lũy kế", COUNT, required=True, cumulative=True),
    Field("trainings", "Số buổi tập huấn trong tháng", COUNT, monthly=True),
    Field("trained", "Lượt người được tập huấn trong tháng", COUNT, monthly=True),
    Field("households", "Số hộ được hỗ trợ trong tháng", COUNT, monthly=True),
), checks=(
    Check("members", ">=", "teams", "row.members_ge_teams", "Số thành viên nhỏ hơn số tổ"),
), subject="commune", description="Tổ công nghệ số cộng đồng, mỗi dòng một đơn vị cấp xã")

DOANH_NGHIEP = Sheet("doanh_nghiep", "Doanh nghiệp", "row", (
    Field("sme_reached", "DN tiếp cận SMEdx lũy kế", COUNT, required=True, cumulative=True),
    Field("sme_using", "DN sử dụng nền tảng số lũy kế", COUNT, required=True, cumulative=True),
    Field("dbi_assessed", "DN tự đánh giá DBI lũy kế", COUNT, required=True, cumulative=True),
    Field("sme_supported", "DN được hỗ trợ trong tháng", COUNT, monthly=True),
), checks=(
    Check("sme_using", "<=", "sme_reached", "row.using_le_reached",
          "DN sử dụng nền tảng số lớn hơn DN tiếp cận SMEdx"),
), description="Chương trình hỗ trợ doanh nghiệp nhỏ và vừa chuyển đổi số (SMEdx) và DBI")

SHEETS: tuple[Sheet, ...] = (THONG_TIN, NEN_TANG, HUE_S, TO_CNS, DOANH_NGHIEP)
SHEETS_BY_KEY = {s.key: s for s in SHEETS}
# Sheets whose figures describe an area and add up over the districts.
AREA_SHEETS = ("hue_s", "to_cns", "doanh_nghiep")


def sheet(key: str) -> Sheet:
    """The sheet with this key."""
    return SHEETS_BY_KEY[key]


def sheets_for(sections: tuple[str, ...] | list[str]) -> list[Sheet]:
    """The sheets a unit with these registry sections fills, in form order."""
    wanted = set(sections) | {"thong_tin"}
    return [s for s in SHEETS if s.key in wanted]


# --------------------------------------------------------------------------- the blank template

INSTRUCTIONS_SHEET = "Hướng dẫn"
CATALOG_SHEET = "Danh mục nền tảng"
TEMPLATE_KEYWORD = "dxreport-template"
# Editable empty rows of `Nền tảng` below the platforms pre-filled from last month, and of
# `Tổ công nghệ số` below the district's communes (a commune missing from the registry).
TEMPLATE_PLATFORM_ROWS = 30
TEMPLATE_EXTRA_COMMUNE_ROWS = 5
TEMPLATE_HEADER_ROW = 3      # title in row 1, description in row 2, headers in row 3

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
# Text that a spreadsheet would take for a formula (or that starts one when pasted).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text written into a workbook or CSV, never read as a formula: a leading = + - @ gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def check_text(check: Check, spec: Sheet) -> str:
    """A row check as a Vietnamese rule: “A” không lớn hơn “B”."""
    relation = "không lớn hơn" if check.op == "<=" else "không nhỏ hơn"
    return f"“{spec.field(check.left).header}” {relation} “{spec.field(check.right).header}”"


def previous_platforms(warehouse, month: str, unit: str) -> list[tuple[str, str]]:
    """(platform id or '', name) the unit reported in the month before `month`, in its file's order.

    Read from the warehouse's facts (accepted submissions only); [] when the warehouse file
    does not exist or has nothing for that month. A platform outside the catalog has no id.
    """
    from pathlib import Path

    from dxreport import store
    from dxreport.params import previous_month

    path = Path(warehouse)
    if not path.exists():
        return []
    con = store.connect(path, read_only=True)
    try:
        rows = con.execute(
            "SELECT subject, any_value(subject_name), min(CAST(regexp_extract(cell, '[0-9]+$') AS INTEGER)) AS r "
            "FROM facts WHERE month = ? AND unit = ? AND sheet = 'nen_tang' AND subject <> '' "
            "GROUP BY subject ORDER BY r, subject", [previous_month(month), str(unit)]).fetchall()
    finally:
        con.close()
    return [("" if subject.startswith("unmatched:") else subject, name or "") for subject, name, _ in rows]


def write_template(month: str, unit, path, *, registry=None, snapshot=None,
                   previous_platforms: list[tuple[str, str]] | tuple = (), settings: dict | None = None):
    """Write the blank form of `unit` for `month` to `path` (.xlsx); returns the path.

    Only the sheets the unit's type fills, after an instructions sheet `Hướng dẫn`; `Thông tin`
    pre-filled (unit code, month, form version); `Tổ công nghệ số` lists the district's
    communes with their codes; `Nền tảng` starts with `previous_platforms` ((id, name) pairs,
    see previous_platforms()) and offers the catalog's platforms (sheet `Danh mục nền tảng`)
    in a drop-down. Choice columns have drop-down lists; headers and labels are locked (sheet
    protection without a password), data cells are not. Raises ParamError for a month that is
    not YYYY-MM or a unit that does not report in that month.
    """
    from pathlib import Path

    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    from dxreport.catalog import CATALOGS, load_bundled
    from dxreport.intake import deadline
    from dxreport.params import ParamError, check_month_format, load_settings
    from dxreport.textnorm import format_month
    from dxreport.units import load_registry

    check_month_format(month)
    registry = registry or load_registry()
    settings = settings or load_settings()
    snapshot = snapshot or load_bundled()
    reporting = registry.reporting_units(month)
    code = getattr(unit, "code", unit)
    found = [u for u in reporting if u.code == str(code)]
    if not found:
        raise ParamError(f"đơn vị {code!r} không gửi báo cáo tháng {month}; các mã hợp lệ: "
                         f"{', '.join(u.code for u in reporting)}")
    unit = found[0]
    period = format_month(month)
    due = deadline(month, settings["submission"]["deadline_day"])
    version = str(settings["submission"].get("form_version", FORM_VERSION))
    sheets = sheets_for(unit.sections)

    bold = Font(bold=True)
    title_font = Font(bold=True, size=13)
    note_font = Font(italic=True, color="FF555555")
    header_fill = PatternFill("solid", fgColor="FFDDEBF7")
    input_fill = PatternFill("solid", fgColor="FFFFFDE7")
    unlocked = Protection(locked=False)
    wrap = Alignment(wrap_text=True, vertical="top")

    def protect(ws) -> None:
        ws.protection.sheet = True
        ws.protection.formatColumns = False   # widening a column stays allowed
        ws.protection.formatRows = False

    wb = openpyxl.Workbook()
    props = wb.properties
    props.title = f"Biểu mẫu báo cáo tháng {period} – {unit.name}"
    props.subject = "Báo cáo mức độ sử dụng các nền tảng số"
    props.creator = settings["report"].get("issuing_body", "dxreport")
    props.keywords = f"{TEMPLATE_KEYWORD} form_version={version} unit={unit.code} month={month}"

    # --- Hướng dẫn
    ws = wb.active
    ws.title = INSTRUCTIONS_SHEET
    lines: list[tuple[str, object]] = [
        ("title", f"BIỂU MẪU BÁO CÁO THÁNG {period} VỀ MỨC ĐỘ SỬ DỤNG CÁC NỀN TẢNG SỐ"),
        ("text", f"Đơn vị: {unit.name} (mã {unit.code}). Phiên bản biểu mẫu: {version}."),
        ("text", f"Hạn nộp: ngày {due.strftime('%d/%m/%Y')}. Tệp nhận sau hạn được ghi là nộp muộn."),
        ("text", ""),
        ("head", "Cách điền"),
        ("item", f"Trang “{THONG_TIN.name}”: Mã đơn vị, Kỳ báo cáo và Phiên bản biểu mẫu đã điền sẵn, không sửa; "
                 "điền Người lập, Ngày lập (DD/MM/YYYY), Điện thoại, Email."),
        ("item", "Các trang cần điền: " + "; ".join(f"“{s.name}” ({s.description[:1].lower() + s.description[1:]})"
                                                    for s in sheets if s.key != "thong_tin") + "."),
        ("item", "Ô để trống nghĩa là “chưa báo cáo”, không phải số 0. Chỉ ghi 0 khi số liệu thực sự bằng 0."),
        ("item", "Số viết theo kiểu Việt Nam: dấu chấm ngăn cách hàng nghìn, dấu phẩy trước phần thập phân "
                 "(1.234.567; 12,5). Có thể gõ số liền (1234567). Không ghi chữ vào ô số (ví dụ “khoảng 50”)."),
        ("item", "Cột số lượng chỉ nhận số nguyên không âm. Tỷ lệ ghi từ 0 đến 100 (85 hoặc 85,5%); "
                 "ô định dạng phần trăm của Excel (85%) cũng được."),
        ("item", "Số “lũy kế” là tổng từ trước đến hết tháng báo cáo và không nhỏ hơn tháng trước; "
                 "số “trong tháng” chỉ tính riêng tháng báo cáo."),
        ("item", "Cột “Tình trạng” và “Kết nối chia sẻ dữ liệu”: chọn trong danh sách thả xuống."),
    ]
    if any(s.key == "nen_tang" for s in sheets):
        lines.append(("item", f"Trang “{NEN_TANG.name}”: mỗi dòng một nền tảng; chọn tên trong danh sách (trang "
                              f"“{CATALOG_SHEET}”) hoặc ghi tên nền tảng khác; không khai một nền tảng hai lần. "
                              "Các dòng điền sẵn là nền tảng đơn vị đã báo cáo tháng trước; nền tảng không còn dùng "
                              "thì xóa nội dung dòng đó."))
    if any(s.key == "to_cns" for s in sheets):
        lines.append(("item", f"Trang “{TO_CNS.name}”: mỗi dòng một xã, phường, thị trấn của {unit.name}, "
                              "đã ghi sẵn tên và mã; không thêm đơn vị ngoài địa bàn."))
    rules = [check_text(c, s) for s in sheets for c in s.checks]
    if rules:
        lines.append(("item", "Kiểm tra trước khi gửi: " + "; ".join(rules) + "."))
    lines += [
        ("item", "Không đổi tên trang, không sửa dòng tiêu đề. Có thể thêm cột riêng ở bên phải: cột đó được bỏ qua."),
        ("item", "Nếu dùng công thức, mở và lưu tệp bằng Excel trước khi gửi để ô có giá trị."),
        ("item", "Lưu dạng .xlsx, không đặt mật khẩu mở tệp. Mỗi tháng gửi một tệp; khi gửi bản sửa, gửi lại cả tệp "
                 "với Ngày lập mới hơn: bản sau thay bản trước."),
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
        cell.alignment = wrap
        if kind == "title":
            cell.font = title_font
        elif kind == "head":
            cell.font = bold
        # merged cells do not grow with their text in Excel: give the row its height
        ws.row_dimensions[row].height = 15 * max(1, -(-len(str(text)) // int(text_width * 1.1))) + 3
    ws.append([None, "Trang", "Cột", "Loại", "Bắt buộc", "Ghi chú"])
    table_head = ws.max_row
    for c in range(2, 7):
        ws.cell(table_head, c).font = bold
        ws.cell(table_head, c).fill = header_fill
    for s in sheets:
        for f in s.fields:
            kind = KIND_LABELS[f.kind]
            if f.choices:
                kind += ": " + " / ".join(f.choices.values())
            ws.append([None, s.name, f.header, kind, "có" if f.required else "", f.help])
            for c in range(2, 7):
                ws.cell(ws.max_row, c).alignment = wrap
    protect(ws)

    # --- Thông tin
    ws = wb.create_sheet(THONG_TIN.name)
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 60
    prefilled = {"unit_code": unit.code, "period": period, "form_version": version}
    notes = {"unit_code": unit.name, "period": "Tháng báo cáo (đã điền sẵn)"}
    for row, f in enumerate(THONG_TIN.fields, start=1):
        label = ws.cell(row, 1, f.header)
        label.font = bold
        value = ws.cell(row, 2, prefilled.get(f.key))
        value.protection = unlocked
        value.fill = input_fill
        value.number_format = "DD/MM/YYYY" if f.kind == DATE else "@"
        note = ws.cell(row, 3, notes.get(f.key) or f.help or ("Bắt buộc" if f.required else "Không bắt buộc"))
        note.font = note_font
        if f.kind == DATE:
            dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True,
                                errorStyle="warning", showErrorMessage=True, errorTitle=f.header,
                                error="Ghi ngày dạng DD/MM/YYYY, ví dụ 03/10/2022.")
            dv.add(value.coordinate)
            ws.add_data_validation(dv)
    protect(ws)

    # --- the table sheets
    names = snapshot.platforms
    first_data = TEMPLATE_HEADER_ROW + 1
    for s in sheets:
        if s.key == "thong_tin":
            continue
        ws = wb.create_sheet(s.name)
        ws.cell(1, 1, f"BIỂU MẪU BÁO CÁO THÁNG {period} – {s.name.upper()} – {unit.name.upper()}").font = title_font
        ws.cell(2, 1, s.description).font = note_font
        prefill: list[dict[str, object]] = []
        if s.key == "nen_tang":
            prefill = [{"platform_id": neutralise(pid) or None, "platform_name": neutralise(name)}
                       for pid, name in previous_platforms]
            editable = len(prefill) + TEMPLATE_PLATFORM_ROWS
        elif s.key == "to_cns":
            prefill = [{"commune_code": c.code, "commune_name": c.name} for c in registry.communes_of(unit.code, month)]
            editable = len(prefill) + TEMPLATE_EXTRA_COMMUNE_ROWS
        else:
            editable = 1
        last = TEMPLATE_HEADER_ROW + editable
        for col, f in enumerate(s.fields, start=1):
            letter = get_column_letter(col)
            head = ws.cell(TEMPLATE_HEADER_ROW, col, f.header)
            head.font = bold
            head.fill = header_fill
            head.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            if f.help or f.required:
                head.comment = Comment(("Bắt buộc. " if f.required else "") + (f.help or KIND_LABELS[f.kind]),
                                       "dxreport")
            width = 36 if f.key in ("platform_name", "commune_name", "proposal", "note") else 16
            ws.column_dimensions[letter].width = width
            for row in range(first_data, last + 1):
                cell = ws.cell(row, col)
                cell.protection = unlocked
                cell.fill = input_fill
                cell.number_format = _NUMBER_FORMATS.get(f.kind, "General")
            for row, values in enumerate(prefill, start=first_data):
                if values.get(f.key) is not None:
                    ws.cell(row, col, values[f.key])
            cells = f"{letter}{first_data}:{letter}{last}"
            dv = None
            if f.kind == CHOICE:
                dv = DataValidation(type="list", formula1='"' + ",".join(f.choices.values()) + '"', allow_blank=True,
                                    showErrorMessage=True, errorTitle=f.header,
                                    error="Chọn một giá trị trong danh sách: " + ", ".join(f.choices.values()))
            elif f.kind == COUNT:
                dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                    errorStyle="warning", showErrorMessage=True, errorTitle=f.header,
                                    error="Ghi số nguyên không âm (ví dụ 1.234); để trống nếu chưa có số liệu.")
            elif f.kind == RATE:
                dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100",
                                    allow_blank=True, errorStyle="warning", showErrorMessage=True,
                                    errorTitle=f.header, error="Ghi tỷ lệ từ 0 đến 100 (ví dụ 85,5).")
            elif f.key == "platform_name" and len(names):
                ref = f"{quote_sheetname(CATALOG_SHEET)}!$B$2:$B${len(names) + 1}"
                # Other names stay allowed: a platform outside the catalog is kept and reported as such.
                dv = DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=False)
            if dv is not None:
                dv.add(cells)
                ws.add_data_validation(dv)
        ws.row_dimensions[TEMPLATE_HEADER_ROW].height = 45
        ws.freeze_panes = ws.cell(first_data, 1)
        ws.page_setup.orientation = "landscape"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToHeight = 0
        protect(ws)

    # --- Danh mục nền tảng (reference for the drop-down)
    if any(s.key == "nen_tang" for s in sheets):
        ws = wb.create_sheet(CATALOG_SHEET)
        ws.append(["Mã nền tảng", "Tên nền tảng", "Nhóm", "Đơn vị cung cấp"])
        for c in range(1, 5):
            ws.cell(1, c).font = bold
            ws.cell(1, c).fill = header_fill
        for p in names.itertuples(index=False):
            ws.append([neutralise(v) for v in (p.platform_id, p.name, CATALOGS.get(p.catalog, p.catalog),
                                               p.provider or None)])
        for letter, width in (("A", 16), ("B", 60), ("C", 36), ("D", 40)):
            ws.column_dimensions[letter].width = width
        protect(ws)

    wb.active = 0
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def warehouse_catalog(warehouse):
    """The catalog last loaded into the warehouse as a Snapshot, or None without one."""
    from pathlib import Path

    from dxreport import store
    from dxreport.catalog import Snapshot

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
