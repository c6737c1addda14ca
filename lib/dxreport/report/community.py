"""Section V: the community digital technology teams, by district or by commune."""

from __future__ import annotations

import pandas as pd

from dxreport import narrative
from dxreport.report.context import Context, _area
from dxreport.report.markup import _fmt, _missing, _note, _p, cell, num, row
from dxreport.report.markup import table as html_table
from dxreport.report.rejected import TEAMS_SHEET, _rejected_communes, rejected_rows
from dxreport.report.tables import district_table, indicator_table


def teams(ctx: Context) -> str:
    """V. Community digital technology teams."""
    if not ctx.is_area:
        return _note(f"Đơn vị là {ctx.agency_kind}, không báo cáo tổ công nghệ số cộng đồng theo địa bàn.")
    ytd = narrative.year_to_date(ctx.view, "households", ctx.month, "lượt hộ")
    ranked = ["teams", "households"] if ctx.is_commune else ["teams_per_commune", "households"]
    parts = [
        _p(
            narrative.teams(ctx.view, _area(ctx), ctx.places, own=ctx.is_commune),
            f"Số hộ được hỗ trợ {ytd}." if ytd else "",
            narrative.ranks(ctx.view, ranked, ctx.peers[1], named=ctx.is_commune, places=ctx.places),
        ),
        _p(teams_rejected_sentence(ctx)),
    ]
    if ctx.is_province:
        parts.append(
            district_table(ctx, [n for n in TEAM_COLUMNS if ctx.area_level != "commune" or n not in PER_COMMUNE])
        )
    else:
        view = ctx.view[ctx.view["section"] == "to_cns"]
        names = [n for n in view["indicator"] if not (ctx.is_commune and n in PER_COMMUNE)]
        parts.append(indicator_table(ctx, names=names, notes=False))
        parts.append(commune_table(ctx))
    return "\n".join(p for p in parts if p)


#: The columns of the province's table of teams, one row per area unit.
TEAM_COLUMNS = (
    "teams",
    "members",
    "communes_with_team",
    "communes_without_team",
    "teams_per_commune",
    "trainings",
    "trained",
    "households",
)
#: Figures over an area unit's communes: they say nothing of a unit that is one commune (2025-07).
PER_COMMUNE = ("communes_with_team", "communes_without_team", "teams_per_commune", "communes_no_data")


def teams_rejected_sentence(ctx: Context) -> str:
    """Names the unit and the commune of every rejected row of the teams sheet: their figures are
    missing, neither a commune without a team nor a reason to call the district lagging."""
    rows = rejected_rows(ctx)
    rows = rows[rows["sheet"] == TEAMS_SHEET] if not rows.empty else rows
    if rows.empty:
        return ""
    items = []
    for unit, part in rows.groupby("unit", sort=False):
        name = narrative.people_committee(str(part["unit_name"].iloc[0]), commune=ctx.area_level == "commune")
        communes = part["communes"].iloc[0]
        lines = narrative.join([f"dòng {r}" for r in part["row"] if r])
        items.append(f"{name}: {communes or lines} ({narrative.join(list(dict.fromkeys(part['reason'])))})")
    return (
        f"Số liệu tổ công nghệ số của các {ctx.commune_kinds} sau bị loại khi kiểm tra, được ghi là chưa có số "
        "liệu hợp lệ, không tính là chưa có tổ và không dùng để đánh giá chậm triển khai: " + "; ".join(items) + "."
    )


def commune_table(ctx: Context) -> str:
    """A district's communes (a commune-level unit: itself, one row): teams, members, trainings,
    people trained, households helped."""
    communes = ctx.registry.communes(ctx.unit, ctx.month)
    facts = ctx.facts[(ctx.facts["sheet"] == "to_cns") & (ctx.facts["unit"] == ctx.unit)]
    wide = (
        facts.pivot_table(index="subject", columns="metric", values="value", aggfunc="first")
        if not facts.empty
        else pd.DataFrame()
    )
    metrics = ["teams", "members", "trainings", "trained", "households"]
    rejected = _rejected_communes(ctx, ctx.unit)
    body = []
    for c in communes:
        if c.code not in wide.index and narrative.in_sentence(c.name) in rejected:
            body.append(
                row(
                    [
                        cell(c.name),
                        cell("Chưa có số liệu hợp lệ (dòng số liệu bị loại khi kiểm tra)", colspan=len(metrics)),
                    ],
                    "dx-current",
                )
            )
            continue
        cells = [
            num(_fmt(wide.at[c.code, m] if c.code in wide.index and m in wide else None, "count")) for m in metrics
        ]
        none = (
            c.code not in wide.index
            or _missing(wide.at[c.code, "teams"] if "teams" in wide else None)
            or wide.at[c.code, "teams"] == 0
        )
        body.append(row([cell(c.name), *cells], "dx-current" if none else ""))
    kinds = ctx.commune_kinds
    head = [
        "Đơn vị" if ctx.is_commune else kinds[:1].upper() + kinds[1:],
        "Số tổ lũy kế",
        "Thành viên lũy kế",
        "Buổi tập huấn",
        "Lượt người được tập huấn",
        "Hộ được hỗ trợ",
    ]
    return html_table([head], body, "dx-table dx-compact") + _note(
        f"Dòng in nghiêng: {kinds} chưa có tổ hoặc chưa có số liệu trong tháng (–: không báo cáo)."
    )
