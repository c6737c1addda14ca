"""Sections II-IV: the platforms serving the government, enterprises (with SMEdx and DBI) and
citizens (with Hue-S), and the platform tables they show."""

from __future__ import annotations

import pandas as pd

from dxreport import kpis, narrative
from dxreport.forms import STATUS_CHOICES
from dxreport.report.context import Context, _area, _scope
from dxreport.labels import CATALOGS, PLATFORM_STATUSES
from dxreport.report.markup import _fmt, _note, _p, _upper, cell, num, row, th
from dxreport.report.markup import table as html_table
from dxreport.report.tables import district_table, indicator_table
from dxreport.textnorm import format_number


CATALOG_TITLES = {**CATALOGS, kpis.OUTSIDE_CATALOG: "Nền tảng không có trong danh mục của Bộ TT&TT"}


def _catalog_title(ctx: Context, catalog: str) -> str:
    """A catalog's title; platforms outside the catalogs name the month's ministry."""
    if catalog == kpis.OUTSIDE_CATALOG:
        return f"Nền tảng không có trong danh mục của {ctx.ministry_short}"
    return CATALOG_TITLES.get(catalog, catalog)


def platform_rows(ctx: Context) -> pd.DataFrame:
    """The platform rows of this unit (or of every unit for the province), one row per platform."""
    rows = ctx.platforms
    return rows if ctx.is_province else rows[rows["unit"] == ctx.unit]


def platform_table(ctx: Context, catalog: str | None = None) -> str:
    """The unit's platforms (status, accounts, active users, uses, LGSP); for the province, per
    platform: how many units use it, try it or have not deployed it, with the sums."""
    rows = platform_rows(ctx)
    if catalog:
        rows = rows[rows["catalog"] == catalog]
    if rows.empty:
        # the section's sentence (narrative.catalog_platforms) already says so
        return "" if catalog else _note("Chưa có báo cáo nền tảng nào trong tháng.")
    if ctx.is_province:
        return _province_platform_table(rows, ctx)
    order = {k: i for i, k in enumerate(kpis.STATUS_KEYS)}
    rows = rows.assign(_o=rows["status"].map(order)).sort_values(["_o", "subject_name"])
    body = []
    for _, r in rows.iterrows():
        lgsp = {1.0: "Có", 0.0: "Không"}.get(r.get("lgsp"), "–")
        body.append(
            row(
                [
                    cell(r["subject_name"]),
                    cell(STATUS_CHOICES.get(r.get("status"), "–")),
                    num(_fmt(r.get("accounts"), "count")),
                    num(_fmt(r.get("mau"), "count")),
                    num(_fmt(r.get("uses"), "count")),
                    cell(lgsp),
                ]
            )
        )
    head = [
        "Nền tảng",
        "Tình trạng",
        "Tài khoản lũy kế",
        "Người dùng hoạt động trong tháng",
        "Lượt sử dụng trong tháng",
        "Kết nối LGSP",
    ]
    return html_table([head], body, "dx-table dx-compact dx-platforms")


def _province_platform_table(rows: pd.DataFrame, ctx: Context) -> str:
    summary = kpis.platform_summary(rows, ctx.unit_types)
    body, current = [], None
    for _, r in summary.iterrows():
        if r["catalog"] != current and summary["catalog"].nunique() > 1:
            current = r["catalog"]
            body.append(row([cell(_catalog_title(ctx, current), colspan=9)], "dx-group"))
        # residents of the districts and staff of the agencies are summed apart, never together
        body.append(
            row(
                [
                    cell(r["subject_name"]),
                    num(int(r["in_use"])),
                    num(int(r["trial"])),
                    num(int(r["not_deployed"])),
                    num(int(r["lgsp"])),
                    num(_fmt(r["accounts_districts"], "count")),
                    num(_fmt(r["mau_districts"], "count")),
                    num(_fmt(r["uses_districts"], "count")),
                    num(_fmt(r["mau_agencies"], "count")),
                ]
            )
        )
    head = [
        [
            th("Nền tảng", rowspan=2),
            th("Số đơn vị", colspan=4),
            th(f"Trên địa bàn các {ctx.area_kinds}", colspan=3),
            "Các sở, ban, ngành",
        ],
        [
            PLATFORM_STATUSES["dang_su_dung"],
            "Thử nghiệm",
            PLATFORM_STATUSES["chua_trien_khai"],
            "Đã kết nối LGSP",
            "Tài khoản lũy kế",
            "Người dùng hoạt động",
            "Lượt sử dụng",
            "Người dùng hoạt động",
        ],
    ]
    return html_table(head, body, "dx-table dx-compact dx-platforms")


def _not_deployed_sentence(ctx: Context, catalog: str) -> str:
    rows = platform_rows(ctx)
    rows = rows[(rows["catalog"] == catalog) & (rows["status"] == "chua_trien_khai")]
    if rows.empty:
        return ""
    if not ctx.is_province:
        names = sorted(set(rows["subject_name"]))
        proposed = int(rows["proposal"].notna().sum())
        return f"Chưa triển khai: {narrative.join(names)}; đơn vị có {format_number(proposed)} đề xuất (mục VIII)."
    counts = rows.groupby("subject_name")["unit"].nunique().sort_values(ascending=False)
    items = [f"{n} ({format_number(c)} đơn vị)" for n, c in counts.items()]
    proposed = int(rows["proposal"].notna().sum())
    return (
        f"Nền tảng còn đơn vị chưa triển khai: {narrative.join(items)}; các đơn vị có "
        f"{format_number(proposed)} đề xuất triển khai (tổng hợp ở mục VIII)."
    )


def government(ctx: Context) -> str:
    """II. Platforms serving the government: deployed, used, connected (LGSP), not deployed."""
    who = ctx.within if ctx.is_province else narrative.in_sentence(ctx.unit_name)
    parts = [
        _p(
            narrative.catalog_platforms(ctx.view, "chinh_quyen", who),
            narrative.lgsp(ctx.view, who),
            narrative.ranks(ctx.view, ["platform_deployments", "lgsp_rate"], ctx.peers[1], places=ctx.places),
        ),
        platform_table(ctx, "chinh_quyen"),
        _p(_not_deployed_sentence(ctx, "chinh_quyen")),
    ]
    if not ctx.is_province:
        parts.append(
            indicator_table(
                ctx,
                names=[
                    "chinh_quyen_in_use",
                    "chinh_quyen_not_deployed",
                    "lgsp_deployments",
                    "lgsp_rate",
                    "platform_mau",
                    "platform_uses",
                ],
                notes=False,
            )
        )
    return "\n".join(p for p in parts if p)


def business(ctx: Context) -> str:
    """III. Platforms serving enterprises; the SME programme (SMEdx) and DBI."""
    who = ctx.within if ctx.is_province else narrative.in_sentence(ctx.unit_name)
    parts = [
        _p(narrative.catalog_platforms(ctx.view, "doanh_nghiep", who)),
        platform_table(ctx, "doanh_nghiep"),
        _p(_not_deployed_sentence(ctx, "doanh_nghiep")),
    ]
    if ctx.is_area:
        ytd = narrative.year_to_date(ctx.view, "sme_supported", ctx.month, "lượt doanh nghiệp")
        parts.append(
            _p(
                narrative.smes(ctx.view, _area(ctx)),
                _upper(ytd) + "." if ytd else "",
                narrative.ranks(ctx.view, ["sme_reached", "sme_using_rate"], ctx.peers[1], places=ctx.places),
            )
        )
        if ctx.is_province:
            parts.append(
                district_table(ctx, ["sme_reached", "sme_using", "sme_using_rate", "dbi_assessed", "sme_supported"])
            )
        else:
            parts.append(
                indicator_table(
                    ctx,
                    names=["sme_reached", "sme_using", "sme_using_rate", "dbi_assessed", "sme_supported"],
                    notes=False,
                )
            )
    else:
        parts.append(_note(f"Đơn vị là {ctx.agency_kind}, không báo cáo số liệu doanh nghiệp theo địa bàn."))
    return "\n".join(p for p in parts if p)


def citizens(ctx: Context) -> str:
    """IV. Platforms serving citizens, and the Hue-S app."""
    who = ctx.within if ctx.is_province else narrative.in_sentence(ctx.unit_name)
    parts = [
        _p(narrative.catalog_platforms(ctx.view, "nguoi_dan", who)),
        platform_table(ctx, "nguoi_dan"),
        _p(_not_deployed_sentence(ctx, "nguoi_dan")),
    ]
    outside = platform_rows(ctx)
    outside = outside[outside["catalog"] == kpis.OUTSIDE_CATALOG]
    if not outside.empty:
        names = [
            f"{n} ({narrative.in_sentence(ctx.names.get(u, u))})"
            for n, u in zip(outside["subject_name"], outside["unit"])
        ]
        parts.append(
            _p(
                f"Nền tảng do đơn vị tự triển khai, không có trong danh mục của {ctx.ministry_short}: {narrative.join(names)}."
            )
        )
    if ctx.is_area:
        population_year = ctx.registry.get(ctx.unit, ctx.month).population_year
        ytd = narrative.year_to_date(ctx.view, "reports_received", ctx.month, "phản ánh")
        threshold = _scope(ctx).min_population_coverage
        parts.append(
            _p(
                narrative.hue_s(ctx.view, ctx.month, population_year, _area(ctx), threshold, ctx.places),
                _upper(ytd) + "." if ytd else "",
                narrative.per_capita(
                    ctx.view,
                    "ehealth_penetration",
                    "ehealth_coverage",
                    "Tài khoản Sổ sức khỏe điện tử",
                    threshold,
                    ctx.places,
                ),
                narrative.per_capita(
                    ctx.view, "vneid_penetration", "vneid_coverage", "Tài khoản VNeID", threshold, ctx.places
                ),
                narrative.ranks(
                    ctx.view,
                    ["hues_penetration", "processed_rate", "on_time_rate", "satisfaction"],
                    ctx.peers[1],
                    places=ctx.places,
                ),
            )
        )
        if ctx.is_province:
            parts.append(
                district_table(
                    ctx,
                    [
                        "hues_downloads",
                        "hues_penetration",
                        "hues_accounts",
                        "reports_received",
                        "processed_rate",
                        "on_time_rate",
                        "satisfaction",
                    ],
                    population=True,
                )
            )
        else:
            parts.append(
                indicator_table(
                    ctx,
                    names=[
                        "hues_downloads",
                        "hues_downloads_month",
                        "hues_penetration",
                        "hues_accounts",
                        "reports_received",
                        "processed_rate",
                        "on_time_rate",
                        "satisfaction",
                        "ehealth_penetration",
                        "vneid_penetration",
                    ],
                    notes=False,
                )
            )
    else:
        parts.append(_note(f"Đơn vị là {ctx.agency_kind}, không báo cáo số liệu Hue-S theo địa bàn."))
    return "\n".join(p for p in parts if p)
