"""The Excel annex of a report (annex.xlsx, openpyxl): the report's tables with a row per unit.

One sheet per section of the report, a row per reporting unit and the province total last
(a unit's own row is bold and shaded in its annex); then the platform rows of every unit, and
`Nguồn số liệu`: the submission files with their SHA-256 hashes and received times, the catalog
snapshot date and the definition of every indicator.

Numbers are stored as numbers with Excel formats: '#,##0' for counts, '#,##0.0' for ratios,
'0.0%' for rates (stored as fractions, 12,5% = 0.125). Excel shows them with the separators of
the reader's regional settings: a computer set to Vietnamese shows 1.234.567 and 12,5%; openpyxl
cannot fix a locale inside the file. Every text cell that begins with = + - @ (or a tab or
carriage return) is stored as text with Excel's quote prefix (dxreport.xlsx.safe_text), so it is
shown as written and never run as a formula.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dxreport import kpis, narrative
from dxreport.report.rejected import rejected_rows
from dxreport.forms import STATUS_CHOICES
from dxreport.labels import CATALOGS, PLATFORM_STATUSES
from dxreport.params import PROVINCE
from dxreport.textnorm import format_month
from dxreport.xlsx import BOLD, BORDER, HEAD_ALIGN, TITLE, WRAP, fill, safe_text, save_atomic

COUNT = "#,##0"
RATIO = "#,##0.0"
RATE = "0.0%"
DATETIME = "dd/mm/yyyy hh:mm"
DATE = "dd/mm/yyyy"
TEXT = "@"
HEADER_ROW = 3

_HEAD_FILL = fill("D9D9D9")
_OWN_FILL = fill("EFEFEF")


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header, its Excel format and how to get its value from a row."""

    header: str
    get: Callable[[dict], object]
    format: str | Callable[[dict], str] = ""  # an Excel number format, or one per row
    width: float | None = None


def _put(cell, value: object, fmt: str = "") -> str:
    """Put `value` in `cell`; returns the number format it needs ("" for none), for the caller to set."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        cell.value = None
        return ""
    if isinstance(value, str):
        safe_text(cell, value)
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if fmt == RATE and isinstance(value, (int, float)):
        value = float(value) / 100
    cell.value = value
    return fmt


class _Styles:
    """The style of a data cell, worked out once per kind of cell and workbook.

    Setting a cell's format, border, alignment, fill and font one by one makes openpyxl look up
    each in the workbook's tables (the larger part of an annex's time); a cell of a kind seen
    before gets the same entries at once. The file written is the same.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple, object] = {}

    def apply(self, cell, fmt: str, wrap: bool, own: bool, bold: bool) -> None:
        key = (fmt, wrap, own, bold, bool(cell.quotePrefix))
        style = self._seen.get(key)
        if style is not None:
            cell._style = copy.copy(style)
            return
        if fmt:
            cell.number_format = fmt
        cell.border = BORDER
        if wrap:
            cell.alignment = WRAP
        if own:
            cell.fill = _OWN_FILL
            cell.font = Font(bold=True, italic=True)
        elif bold:
            cell.font = BOLD
        self._seen[key] = copy.copy(cell._style)


def _kind_format(record: dict) -> str:
    return {"rate": RATE, "count": COUNT}.get(record.get("kind"), RATIO)


def _indicator_column(ctx, name: str, header: str | None = None) -> Column:
    ind = _indicator(ctx, name)
    fmt = RATE if ind.kind == "rate" else COUNT if ind.kind == "count" else RATIO
    label = header or (ind.label if ind.kind == "rate" else f"{ind.label} ({ind.unit})")
    return Column(label, lambda r, n=name: r.get(n), fmt)


def _write_sheet(
    wb: Workbook,
    title: str,
    caption: str,
    columns: list[Column],
    rows: list[dict],
    *,
    note: str = "",
    highlight: Callable[[dict], bool] | None = None,
    total: Callable[[dict], bool] | None = None,
    freeze_columns: int = 2,
) -> None:
    """A sheet: title and note, a header row (frozen, with a filter), one row per record."""
    ws = wb.create_sheet(title)
    safe_text(ws.cell(1, 1), caption)
    ws.cell(1, 1).font = TITLE
    if note:
        safe_text(ws.cell(2, 1), note)
        ws.cell(2, 1).font = Font(italic=True)
    widths = []
    for j, col in enumerate(columns, start=1):
        c = ws.cell(HEADER_ROW, j)
        safe_text(c, col.header)
        c.font, c.fill, c.alignment, c.border = BOLD, _HEAD_FILL, HEAD_ALIGN, BORDER
        widths.append(
            col.width or min(40.0, max(10.0, max(len(w) for w in col.header.split()) + 2, len(col.header) / 3 + 2))
        )
    styles = _Styles()
    for i, record in enumerate(rows, start=HEADER_ROW + 1):
        own = bool(highlight(record)) if highlight else False
        bold = bool(total(record)) if total else False
        for j, col in enumerate(columns, start=1):
            c = ws.cell(i, j)
            fmt = _put(c, col.get(record), col.format(record) if callable(col.format) else col.format)
            text = isinstance(c.value, str)
            styles.apply(c, fmt, text, own, bold)
            if text and not col.width:
                widths[j - 1] = min(60.0, max(widths[j - 1], min(len(c.value), 60) + 2))
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = round(width, 1)
    lines = max(math.ceil(len(col.header) / max(widths[j] - 1, 1)) for j, col in enumerate(columns))
    ws.row_dimensions[HEADER_ROW].height = 15 * max(1, lines) + 3
    last = max(HEADER_ROW, HEADER_ROW + len(rows))
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, freeze_columns + 1).coordinate
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(columns))}{last}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


# ----------------------------------------------------------------------------- rows


def _indicator(ctx, name: str):
    """The indicator with the words of the report's month (Context.indicator)."""
    return ctx.indicator(name)


def _role(unit) -> str:
    """`area` (a unit reporting for an area: a district, or a commune from 2025-07), `agency` or
    `province`."""
    return unit.type if unit.type in ("province", "agency") else "area"


def _unit_rows(ctx, roles: tuple[str, ...] = ("area", "agency"), province: bool = True) -> list[dict]:
    """One dict per reporting unit of these roles (code, name, type, every indicator), the province last."""
    month = ctx.values[ctx.values["month"] == ctx.month]
    wide = month.pivot_table(index="unit", columns="indicator", values="value", aggfunc="first")
    ytd = (
        month.pivot_table(index="unit", columns="indicator", values="ytd", aggfunc="first")
        if "ytd" in month
        else pd.DataFrame()
    )
    kind_names = {
        "area": _upper_first(ctx.area_kinds),
        "agency": _upper_first(ctx.agency_kind),
        "province": ctx.whole_title,
    }
    units = [u for u in ctx.registry.reporting_units(ctx.month) if _role(u) in roles]
    if province:
        units.append(ctx.registry.province(ctx.month))
    rows = []
    for u in units:
        record = {
            "code": u.code,
            "name": ctx.whole_title if u.code == PROVINCE else u.name,
            "type": kind_names.get(_role(u), u.type),
            "population": u.population,
            "population_year": u.population_year,
        }
        if u.code in wide.index:
            record.update({k: v for k, v in wide.loc[u.code].items()})
        if u.code in ytd.index:
            record.update({f"ytd:{k}": v for k, v in ytd.loc[u.code].items()})
        rows.append(record)
    return rows


# What each sheet's total row adds up, said in its label: area figures are the districts' sums
# (the agencies' rows are shown apart, never added), platform counts are distinct platforms.
TOTAL_LABELS = {
    "II": "{whole} (số nền tảng khác nhau; tài khoản, người dùng, lượt sử dụng: cộng các {areas}, không cộng "
    "các {agencies})",
    "III": "{whole} (số nền tảng khác nhau; số liệu doanh nghiệp: cộng các {areas})",
    "IV": "{whole} (số nền tảng khác nhau; Hue-S, tài khoản, dân số: cộng các {areas}; tỷ lệ tính trên tổng)",
    "V": "{whole} (cộng các {areas}; tổ bình quân mỗi xã tính trên tổng)",
    "V_communes": "{whole} (cộng các {areas})",
}


def total_label(ctx, sheet: str) -> str:
    """The total row's label of an annex sheet in the words of the month's map."""
    if sheet == "V" and ctx.area_level == "commune":
        sheet = "V_communes"
    return TOTAL_LABELS[sheet].format(whole=ctx.whole_title, areas=ctx.area_kinds, agencies=ctx.agency_kind)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _total_named(rows: list[dict], label: str) -> list[dict]:
    """The rows with the province's total row named by what it adds."""
    return [{**r, "name": label} if r.get("code") == PROVINCE else r for r in rows]


def _is_own(ctx) -> Callable[[dict], bool]:
    return lambda r: not ctx.is_province and r.get("code") == ctx.unit


def _is_total(r: dict) -> bool:
    return r.get("code") == PROVINCE


_UNIT_COLUMNS = [Column("Mã đơn vị", lambda r: r["code"], TEXT, 10), Column("Đơn vị", lambda r: r["name"], width=30)]


def _catalog_columns(ctx, catalog: str) -> list[Column]:
    return [
        _indicator_column(ctx, f"{catalog}_{s}", h)
        for s, h in (
            ("in_use", f"{PLATFORM_STATUSES['dang_su_dung']} (nền tảng)"),
            ("trial", "Thử nghiệm (nền tảng)"),
            ("not_deployed", f"{PLATFORM_STATUSES['chua_trien_khai']} (nền tảng)"),
        )
    ]


def build(ctx) -> Workbook:
    """The annex workbook of a report context (dxreport.report.Context)."""
    wb = Workbook()
    wb.remove(wb.active)
    month = format_month(ctx.month)
    scope = ctx.whole if ctx.is_province else ctx.unit_name
    sample = " – DỮ LIỆU MẪU (số liệu minh họa, không phải số liệu chính thức)" if ctx.is_sample else ""
    note = f"Tháng {month}, {scope}{sample}. Ô trống: chưa có số liệu."
    own, everyone = _is_own(ctx), _unit_rows(ctx)
    districts = _unit_rows(ctx, ("area",))

    subs = ctx.submissions
    accepted = subs[subs["status"] == "accepted"].drop_duplicates("unit", keep="last").set_index("unit")
    submission_rows = []
    for r in _unit_rows(ctx, province=False):
        s = accepted.loc[r["code"]] if r["code"] in accepted.index else None
        submission_rows.append(
            {
                **r,
                "sent": "Đã gửi" if s is not None else "Chưa gửi",
                "file": None if s is None else s["file_name"],
                "received": None if s is None else s["received_at"],
                "late": None if s is None else ("Sau hạn" if bool(s["late"]) else "Đúng hạn"),
                "loaded": None if s is None else s["rows_loaded"],
                "rejected": None if s is None else s["rows_rejected"],
            }
        )
    _write_sheet(
        wb,
        "I. Gửi báo cáo",
        f"Phụ lục I. Tình hình gửi báo cáo tháng {month}",
        [
            *_UNIT_COLUMNS,
            Column("Loại đơn vị", lambda r: r["type"], width=22),
            Column("Tình trạng", lambda r: r["sent"]),
            Column("Tệp được sử dụng", lambda r: r["file"], width=28),
            Column("Nhận lúc", lambda r: r["received"], DATETIME, 17),
            Column("Hạn nộp", lambda r: r["late"]),
            Column("Dòng số liệu đã nạp", lambda r: r["loaded"], COUNT),
            Column("Dòng bị loại", lambda r: r["rejected"], COUNT),
        ],
        submission_rows,
        note=note,
        highlight=own,
    )

    prog = ctx.progress
    target_rows = [
        {**t, "kind": _indicator(ctx, t["indicator"]).kind if isinstance(t["indicator"], str) else "rate"}
        for t in prog.to_dict("records")
    ]
    _write_sheet(
        wb,
        "I. Chỉ tiêu",
        f"Phụ lục I. Tiến độ so với chỉ tiêu năm {ctx.month[:4]} ({scope})",
        [
            Column("Chỉ tiêu", lambda r: r["label"], width=40),
            Column("Năm", lambda r: r["year"], "0", 8),
            Column("So sánh", lambda r: "không thấp hơn" if r["comparison"] == ">=" else "không vượt quá", width=14),
            Column("Mục tiêu", lambda r: r["target"], _kind_format),
            Column("Đơn vị tính", lambda r: r["unit"]),
            Column(f"Tháng {month}", lambda r: r["value"], _kind_format),
            Column("Mức đạt so với mục tiêu", lambda r: r["progress"], RATE),
            Column("Đánh giá", lambda r: {True: "Đạt", False: "Chưa đạt"}.get(r["met"], "Chưa đo được")),
            Column("Loại chỉ tiêu", lambda r: "Chỉ tiêu công bố" if r["official"] else "Chỉ tiêu của Sở", width=18),
            Column("Nguồn", lambda r: r["source"], width=50),
            Column("Ghi chú", lambda r: r["note"], width=40),
        ],
        target_rows,
        note=note,
        freeze_columns=1,
    )

    platform_totals = [
        _indicator_column(ctx, n)
        for n in ("platform_deployments", "platform_accounts", "platform_mau", "platform_uses")
    ]
    lgsp = [_indicator_column(ctx, n) for n in ("platforms_lgsp", "lgsp_deployments", "lgsp_rate")]
    _write_sheet(
        wb,
        "II. Chính quyền",
        f"Phụ lục II. {CATALOGS['chinh_quyen']} tháng {month}",
        [*_UNIT_COLUMNS, *_catalog_columns(ctx, "chinh_quyen"), *lgsp, *platform_totals],
        _total_named(everyone, total_label(ctx, "II")),
        note=note + " Kết nối LGSP: chỉ tính nền tảng phục vụ chính quyền đang sử dụng.",
        highlight=own,
        total=_is_total,
    )

    sme = [
        _indicator_column(ctx, n)
        for n in ("sme_reached", "sme_using", "sme_using_rate", "dbi_assessed", "sme_supported")
    ]
    _write_sheet(
        wb,
        "III. Doanh nghiệp",
        f"Phụ lục III. {CATALOGS['doanh_nghiep']}; SMEdx, DBI tháng {month}",
        [
            *_UNIT_COLUMNS,
            *_catalog_columns(ctx, "doanh_nghiep"),
            *sme,
            Column("Lượt DN được hỗ trợ từ đầu năm", lambda r: r.get("ytd:sme_supported"), COUNT),
        ],
        _total_named(everyone, total_label(ctx, "III")),
        note=note + f" Số liệu doanh nghiệp chỉ do các {ctx.area_kinds} báo cáo.",
        highlight=own,
        total=_is_total,
    )

    hues = [
        _indicator_column(ctx, n)
        for n in (
            "hues_downloads",
            "hues_downloads_month",
            "hues_penetration",
            "hues_accounts",
            "hues_accounts_penetration",
            "reports_received",
            "reports_processed",
            "reports_on_time",
            "processed_rate",
            "on_time_rate",
            "satisfaction",
        )
    ]
    _write_sheet(
        wb,
        "IV. Người dân, Hue-S",
        f"Phụ lục IV. {CATALOGS['nguoi_dan']} và ứng dụng Hue-S tháng {month}",
        [
            *_UNIT_COLUMNS,
            Column("Dân số (người)", lambda r: r.get("population"), COUNT),
            Column("Năm số liệu dân số", lambda r: r.get("population_year"), "0"),
            *_catalog_columns(ctx, "nguoi_dan"),
            _indicator_column(ctx, "ehealth_penetration"),
            _indicator_column(ctx, "ehealth_coverage"),
            _indicator_column(ctx, "vneid_penetration"),
            _indicator_column(ctx, "vneid_coverage"),
            *hues,
            Column("Phản ánh tiếp nhận từ đầu năm", lambda r: r.get("ytd:reports_received"), COUNT),
        ],
        _total_named(everyone, total_label(ctx, "IV")),
        note=note + f" Hue-S và dân số: chỉ các {ctx.area_kinds}. Số trên 100 dân tính trên dân số của "
        f"{ctx.areas_short} đã báo cáo; để trống khi {ctx.areas_short} đó có ít dân hơn ngưỡng bao phủ.",
        highlight=own,
        total=_is_total,
    )

    teams = [
        _indicator_column(ctx, n)
        for n in (
            "communes_with_team",
            "communes_without_team",
            "communes_no_data",
            "teams",
            "members",
            "teams_per_commune",
            "trainings",
            "trained",
            "households",
        )
        if ctx.area_level != "commune" or n != "teams_per_commune"
    ]
    _write_sheet(
        wb,
        "V. Tổ công nghệ số",
        f"Phụ lục V. Tổ công nghệ số cộng đồng tháng {month}",
        [*_UNIT_COLUMNS, *teams, Column("Lượt hộ được hỗ trợ từ đầu năm", lambda r: r.get("ytd:households"), COUNT)],
        _total_named(districts, total_label(ctx, "V")),
        note=note
        + " Xã có dòng số liệu bị loại khi kiểm tra được tính là chưa có số liệu hợp lệ, không phải chưa có tổ.",
        highlight=own,
        total=_is_total,
    )

    change_rows = [] if ctx.changes is None else ctx.changes.to_dict("records")
    change_note = (
        f"Chưa có thông tin so sánh danh mục; danh mục dùng bản chụp ngày {ctx.snapshot_date}."
        if ctx.changes is None
        else f"Danh mục không thay đổi trong tháng; bản chụp ngày {ctx.snapshot_date}."
        if not change_rows
        else f"Bản chụp danh mục ngày {ctx.snapshot_date}."
    )
    words = {"added": "Thêm mới", "removed": "Không còn trong danh mục", "renamed": "Đổi tên"}
    _write_sheet(
        wb,
        "VI. Thay đổi danh mục",
        f"Phụ lục VI. Thay đổi danh mục nền tảng số tháng {month}",
        [
            Column("Danh mục", lambda r: narrative.CATALOG_PHRASES.get(r["catalog"], r["catalog"]), width=30),
            Column("Thay đổi", lambda r: words.get(r["change"], r["change"]), width=22),
            Column("Mã nền tảng", lambda r: r["platform_id"], TEXT, 16),
            Column("Nền tảng", lambda r: r["name"], width=45),
            Column("Tên trước đây", lambda r: r.get("previous_name"), width=45),
        ],
        change_rows,
        note=change_note + sample,
        freeze_columns=1,
    )

    lag = ctx.lagging_units
    if not ctx.is_province and not lag.empty:
        lag = lag[lag["unit"] == ctx.unit]
    rules = {r.id: r for r in ctx.rules}
    lag_rows = [
        {
            **r,
            "name": ctx.names.get(r["unit"], r["unit"]),
            "rule_text": narrative.rule_text(rules[r["rule"]]),
            "reason": narrative.lagging_reason(pd.Series(r)),
        }
        for r in lag.to_dict("records")
    ]
    if ctx.is_province and not ctx.lagging_platforms.empty:
        for r in ctx.lagging_platforms.to_dict("records"):
            lag_rows.append(
                {
                    "unit": r["subject"],
                    "name": r["subject_name"],
                    "rule_text": narrative.rule_text(rules[r["rule"]]),
                    "reason": f"{r['not_deployed']} đơn vị chưa triển khai, {r['in_use']} đơn vị đang sử dụng",
                    "value": r["not_deployed"],
                    "threshold": r["threshold"],
                    "kind": "platform_not_deployed",
                }
            )
    _write_sheet(
        wb,
        "VII. Chậm triển khai",
        f"Phụ lục VII. Đơn vị, nền tảng chậm triển khai tháng {month}",
        [
            Column("Mã", lambda r: r["unit"], TEXT, 14),
            Column("Đơn vị, nền tảng", lambda r: r["name"], width=32),
            Column("Tiêu chí", lambda r: r["rule_text"], width=50),
            Column("Số liệu", lambda r: r["reason"], width=50),
        ],
        lag_rows,
        note=note + " Tiêu chí trong params/lagging.yaml.",
    )

    rows = ctx.platforms if ctx.is_province else ctx.platforms[ctx.platforms["unit"] == ctx.unit]
    detail = [{**r, "code": r["unit"], "name": ctx.names.get(r["unit"], r["unit"])} for r in rows.to_dict("records")]
    _write_sheet(
        wb,
        "VIII. Đề xuất",
        f"Phụ lục VIII. Đề xuất của các đơn vị tháng {month} (nguyên văn)",
        [
            *_UNIT_COLUMNS[:1],
            Column("Đơn vị", lambda r: r["name"], width=30),
            Column("Nền tảng", lambda r: r["subject_name"], width=40),
            Column("Tình trạng", lambda r: STATUS_CHOICES.get(r["status"], r["status"]), width=16),
            Column("Đề xuất", lambda r: r["proposal"], width=70),
        ],
        [r for r in detail if isinstance(r.get("proposal"), str) and r["proposal"].strip()],
        note=note,
    )

    _write_sheet(
        wb,
        "Nền tảng chi tiết",
        f"Nền tảng số theo từng đơn vị tháng {month}",
        [
            *_UNIT_COLUMNS[:1],
            Column("Đơn vị", lambda r: r["name"], width=30),
            Column("Danh mục", lambda r: narrative.CATALOG_PHRASES.get(r["catalog"], "ngoài danh mục"), width=26),
            Column("Mã nền tảng", lambda r: r["subject"], TEXT, 16),
            Column("Nền tảng", lambda r: r["subject_name"], width=40),
            Column("Tình trạng", lambda r: STATUS_CHOICES.get(r["status"], r["status"]), width=16),
            Column("Tài khoản lũy kế", lambda r: r["accounts"], COUNT),
            Column("Người dùng hoạt động trong tháng", lambda r: r["mau"], COUNT),
            Column("Lượt sử dụng trong tháng", lambda r: r["uses"], COUNT),
            Column("Kết nối LGSP", lambda r: {1.0: "Có", 0.0: "Không"}.get(r["lgsp"])),
            Column("Ghi chú", lambda r: r["note"], width=40),
            Column("Ô trong tệp", lambda r: r["cell"], TEXT, 12),
        ],
        detail,
        note=note,
    )

    _rejected_sheet(wb, ctx, note)
    _sources_sheet(wb, ctx)
    wb.properties.title = f"Phụ lục báo cáo mức độ sử dụng nền tảng số tháng {month}"
    wb.properties.creator = "dxreport"
    if ctx.is_sample:
        wb.properties.keywords = "DỮ LIỆU MẪU"
    return wb


def _rejected_sheet(wb: Workbook, ctx, note: str) -> None:
    """`Dòng bị loại`: every row rejected at validation, with its place in the unit's file."""
    rows = rejected_rows(ctx)
    issues = ctx.issues if ctx.is_province else ctx.issues[ctx.issues["unit"] == ctx.unit]
    cells = (
        issues.drop_duplicates(["unit", "sheet"]).set_index(["unit", "sheet"])["file_name"]
        if not issues.empty
        else pd.Series(dtype=object)
    )
    records = [{**r, "file": cells.get((r["unit"], r["sheet"]))} for r in rows.to_dict("records")]
    _write_sheet(
        wb,
        "Dòng bị loại",
        f"Các dòng số liệu bị loại khi kiểm tra tháng {format_month(ctx.month)}",
        [
            Column("Mã đơn vị", lambda r: r["unit"], TEXT, 10),
            Column("Đơn vị", lambda r: r["unit_name"], width=30),
            Column("Tệp", lambda r: r["file"], width=28),
            Column("Trang tính", lambda r: r["sheet"], width=20),
            Column("Dòng", lambda r: r["row"], TEXT, 8),
            Column(_upper_first(ctx.commune_kinds), lambda r: r["communes"], width=30),
            Column("Lý do", lambda r: r["reason"], width=60),
        ],
        records,
        note=note + " Số liệu của các dòng này được ghi là chưa có số liệu hợp lệ, không tính là số 0.",
    )


def _sources_sheet(wb: Workbook, ctx) -> None:
    """`Nguồn số liệu`: the files (hash, received time), the catalog snapshot, indicator definitions."""
    subs = ctx.submissions if ctx.is_province else ctx.submissions[ctx.submissions["unit"] == ctx.unit]
    statuses = {"accepted": "Được sử dụng", "superseded": "Được thay thế bằng bản nộp lại", "rejected": "Bị từ chối"}
    rows = [{**r, "name": ctx.names.get(r["unit"], r["unit"])} for r in subs.to_dict("records")]
    _write_sheet(
        wb,
        "Nguồn số liệu",
        "Nguồn số liệu",
        [
            Column("Mã đơn vị", lambda r: r["unit"], TEXT, 10),
            Column("Đơn vị", lambda r: r["name"], width=30),
            Column("Tệp", lambda r: r["file_name"], width=28),
            Column("Trạng thái", lambda r: statuses.get(r["status"], r["status"]), width=20),
            Column("Nhận lúc", lambda r: r["received_at"], DATETIME, 17),
            Column("Ngày lập", lambda r: r["prepared_on"], DATE, 12),
            Column("Người lập", lambda r: r["preparer"], width=20),
            Column("Mã băm SHA-256 của tệp (tên tệp lưu trữ trong data/raw)", lambda r: r["submission_id"], TEXT, 66),
        ],
        rows,
        note=(
            f"Tháng {format_month(ctx.month)}. Danh mục nền tảng: bản chụp ngày {ctx.snapshot_date or 'chưa có'}. "
            f"Lập lúc {datetime.now():%d/%m/%Y %H:%M}. Số hiển thị theo thiết lập vùng của máy (vùng Việt Nam: "
            "1.234.567; 12,5%)."
        )
        + (" DỮ LIỆU MẪU." if ctx.is_sample else ""),
    )
    ws = wb["Nguồn số liệu"]
    start = ws.max_row + 3
    safe_text(ws.cell(start - 1, 1), "Định nghĩa các chỉ tiêu")
    ws.cell(start - 1, 1).font = TITLE
    headers = ["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Cách tính", "Nguồn", "Mục báo cáo"]
    for j, h in enumerate(headers, start=1):
        c = ws.cell(start, j)
        safe_text(c, h)
        c.font, c.fill, c.alignment, c.border = BOLD, _HEAD_FILL, HEAD_ALIGN, BORDER
    for i, d in enumerate(kpis.definitions().to_dict("records"), start=start + 1):
        for j, key in enumerate(["name", "label", "unit", "formula", "source", "section"], start=1):
            c = ws.cell(i, j)
            safe_text(c, str(d[key]))
            c.alignment, c.border = WRAP, BORDER


def write(ctx, path: Path | str | None = None) -> Path:
    """Write the annex of a report to outputs/<month>/<unit>/annex.xlsx (or `path`)."""
    return save_atomic(build(ctx), Path(path) if path else ctx.out_dir / "annex.xlsx")
