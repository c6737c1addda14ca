"""The indicator tables of the sections: one unit's indicators with their comparisons, and the
districts side by side."""

from __future__ import annotations

import pandas as pd

from dxreport import kpis
from dxreport.params import PROVINCE, previous_month
from dxreport.report.context import Context
from dxreport.narrative import NOT_COMPARABLE, REBUILT, UNCERTAIN, basis_of
from dxreport.report.markup import (
    NOT_COMPARABLE_SHORT,
    REBUILT_SHORT,
    _compared,
    _fmt,
    _fmt_change,
    _fmt_ytd,
    _missing,
    _note,
    cell,
    num,
    row,
)
from dxreport.report.markup import table as html_table
from dxreport.textnorm import format_month, format_number


# Column headers of the districts' tables, shorter than the indicators' labels (the table's
# section says what they are about).
SHORT_LABELS = {
    "hues_downloads": "Lượt tải lũy kế",
    "hues_penetration": "Lượt tải /100 dân",
    "hues_accounts": "Tài khoản đăng ký",
    "reports_received": "Phản ánh tiếp nhận",
    "processed_rate": "Tỷ lệ đã xử lý",
    "on_time_rate": "Tỷ lệ đúng hạn",
    "satisfaction": "Tỷ lệ hài lòng",
    "teams": "Số tổ lũy kế",
    "members": "Thành viên lũy kế",
    "communes_with_team": "Xã đã có tổ",
    "communes_without_team": "Xã chưa có tổ",
    "teams_per_commune": "Tổ /xã",
    "trainings": "Buổi tập huấn",
    "trained": "Lượt người tập huấn",
    "households": "Hộ được hỗ trợ",
    "sme_reached": "DN tiếp cận SMEdx (lũy kế)",
    "sme_using": "DN sử dụng nền tảng (lũy kế)",
    "sme_using_rate": "Tỷ lệ DN sử dụng /tiếp cận",
    "dbi_assessed": "DN tự đánh giá DBI (lũy kế)",
    "sme_supported": "DN được hỗ trợ trong tháng",
}


def indicator_table(
    ctx: Context,
    sections: list[str] | None = None,
    names: list[str] | tuple[str, ...] | None = None,
    *,
    notes: bool = True,
) -> str:
    """This unit's indicators: this month, the month before and the change, the same month last
    year, the year to date; for a unit also its rank and its peers' average. `notes`: explain
    the columns under the table (once per report is enough)."""
    view = ctx.view
    if names:
        view = view.set_index("indicator").reindex([n for n in names if n in set(view["indicator"])]).reset_index()
    elif sections:
        view = view[view["section"].isin(sections)]
    if view.empty:
        return _note("Không có chỉ tiêu nào cho đơn vị trong mục này.")
    prev = format_month(previous_month(ctx.month))
    last_year = format_month(kpis.same_month_last_year(ctx.month))
    unit_mode = not ctx.is_province and "rank" in view
    head = (
        ["Chỉ tiêu", "Đơn vị tính", f"Tháng {format_month(ctx.month)}"]
        + ([f"Tháng {prev}"] if not unit_mode else [])
        + ["Tăng/giảm so với tháng trước", f"Cùng kỳ {last_year}", "Lũy kế từ đầu năm"]
        + (["Xếp hạng", f"Bình quân {_peers_short(ctx)}"] if unit_mode else [])
    )
    body = []
    for _, r in view.iterrows():
        cells = [cell(r["label"]), cell(r["measure"]), num(_fmt(r["value"], r["kind"]))]
        if not unit_mode:
            cells.append(num(_compared(r, _fmt(r.get("previous"), r["kind"]), "previous_basis")))
        cells.append(num(_compared(r, _fmt_change(r), "previous_basis")))
        cells.append(num(_compared(r, _fmt(r.get("last_year"), r["kind"]), "last_year_basis")))
        cells.append(num(_fmt_ytd(r, ctx.month)))
        if unit_mode:
            rank = r.get("rank")
            cells.append(num("–" if _missing(rank) else f"{format_number(rank)}/{format_number(r['ranked_among'])}"))
            mean = _fmt(r.get("peer_mean"), r["kind"])
            if not _missing(r.get("peer_mean")) and r.get("ranked_among") == 1:
                mean += " (chỉ 1 đơn vị có số liệu)"
            cells.append(num(mean))
        body.append(row(cells))
    table = html_table([head], body, "dx-table dx-compact dx-indicators")
    if not notes:
        return table
    text = []
    missing = view["last_year"].isna() if "last_year" in view else pd.Series(True, index=view.index)
    if missing.all():
        text.append(f"Cùng kỳ: kho dữ liệu chưa có số liệu tháng {last_year}, để trống (–).")
    elif missing.any():
        text.append(f"Cùng kỳ: – là chưa có số liệu tháng {last_year}.")
    text.append("Tăng/giảm so với tháng trước chỉ tính trên các đơn vị và các dòng số liệu có trong cả hai tháng.")
    text += _basis_notes(view)
    text.append("Lũy kế từ đầu năm chỉ tính cho số liệu phát sinh trong tháng; (n/m th): số liệu của n trong m tháng.")
    if unit_mode:
        text.append(
            f"Xếp hạng: thứ tự của đơn vị trong các {ctx.peers[1]} có số liệu, 1 là tốt nhất (– khi các đơn "
            "vị bằng nhau hoặc chỉ tiêu không dùng để xếp hạng); bình quân: trung bình cộng của các đơn vị "
            "đó. Các bảng chỉ tiêu sau có cùng cách trình bày."
        )
    return table + _note(" ".join(text))


def _basis_notes(view: pd.DataFrame) -> list[str]:
    """The notes on comparisons across a change of the map, for the rows that have them."""
    bases = [basis_of(r, c) for _, r in view.iterrows() for c in ("previous_basis", "last_year_basis")]
    notes = []
    if any(b == "not_comparable" for b, _ in bases):
        notes.append(f"{NOT_COMPARABLE_SHORT}: {NOT_COMPARABLE}; số liệu trước đó chỉ có cho cả đơn vị hành chính cũ.")
    if any(b == "rebuilt" for b, _ in bases):
        notes.append(
            f"({REBUILT_SHORT}): {REBUILT}, số liệu tháng trước hoặc cùng kỳ được cộng lại theo địa giới hành "
            "chính hiện nay để so sánh."
        )
    if any(b == "rebuilt" and u for b, u in bases):
        notes.append(f"*: so sánh dùng dòng đối chiếu địa giới chưa được xác nhận ({UNCERTAIN}).")
    return notes


def _peers_short(ctx: Context) -> str:
    return "các cơ quan" if ctx.unit_type == "agency" else ctx.areas_short


def district_table(ctx: Context, names: list[str], *, population: bool = False) -> str:
    """The month's area units (districts, or communes from 2025-07) side by side for these
    indicators, the province total last."""
    month = ctx.values[ctx.values["month"] == ctx.month]
    wide = month.pivot_table(index="unit", columns="indicator", values="value", aggfunc="first")
    units = [u.code for u in ctx.registry.area_units(ctx.month)] + [PROVINCE]
    head = [
        "Đơn vị",
        *(["Dân số (năm số liệu)"] if population else []),
        *(SHORT_LABELS.get(n, ctx.indicator(n).label) for n in names),
    ]
    body = []
    for code in units:
        unit = ctx.registry.get(code, ctx.month)
        name = ctx.whole_title if code == PROVINCE else unit.name
        cells = [cell(name)]
        if population:
            pop = "–" if unit.population is None else f"{format_number(unit.population)} ({unit.population_year})"
            cells.append(num(pop))
        cells += [
            num(_fmt(wide.at[code, n] if code in wide.index and n in wide else None, ctx.indicator(n).kind))
            for n in names
        ]
        cls = "dx-total" if code == PROVINCE else ("dx-current" if code == ctx.unit else "")
        body.append(row(cells, cls))
    return html_table([head], body, "dx-table dx-compact")
