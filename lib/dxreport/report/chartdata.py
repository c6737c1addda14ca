"""The data behind the report's charts (dxreport.charts): an indicator's months, the districts of
a month, the province's value, the units' platform statuses."""

from __future__ import annotations

import pandas as pd

from dxreport import kpis
from dxreport.months import history_start
from dxreport.params import PROVINCE
from dxreport.report.context import Context
from dxreport.report.markup import _missing


def series(ctx: Context, indicator: str, unit: str | None = None) -> pd.DataFrame:
    """Month and value of one indicator for one unit, from January of the year before up to the
    report's month, over the months in which the code named the same unit with the same area
    (the whole area always: a reused code, 474 or 19753, never draws another place's line)."""
    unit = unit or ctx.unit
    v = ctx.values
    part = v[
        (v["unit"] == unit)
        & (v["indicator"] == indicator)
        & (v["month"] <= ctx.month)
        & (v["month"] >= history_start(ctx.month))
    ]
    same = [ctx.registry.same_unit(unit, m, ctx.month) for m in part["month"]]
    return part[same][["month", "value"]].sort_values("month")


def trend_frame(ctx: Context, indicators: dict[str, str], unit: str | None = None) -> pd.DataFrame:
    """Month, series label and value of several indicators of one unit (for charts.trends)."""
    frames = [series(ctx, name, unit).assign(series=label) for name, label in indicators.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["month", "value", "series"])


def districts_frame(ctx: Context, indicator: str) -> pd.DataFrame:
    """Label and value of one indicator for each area unit this month (the districts, or the
    communes from 2025-07)."""
    v = ctx.values
    part = v[(v["month"] == ctx.month) & (v["indicator"] == indicator)]
    codes = {u.code: u.name for u in ctx.registry.area_units(ctx.month)}
    part = part[part["unit"].isin(list(codes))]
    return pd.DataFrame({"code": part["unit"], "label": part["unit"].map(codes), "value": part["value"]})


#: The titles of the report's charts; {areas}: the kinds of the month's area units.
CHART_TITLES = {
    "hues_downloads": "Lượt tải ứng dụng Hue-S (lũy kế)",
    "reports": "Phản ánh hiện trường qua Hue-S theo tháng",
    "hues_penetration": "Lượt tải Hue-S trên 100 dân, theo {areas}",
    "teams_per_commune": "Số tổ công nghệ số bình quân mỗi xã, theo {areas}",
    "teams": "Số tổ công nghệ số cộng đồng (lũy kế), theo {areas}",
    "grid": "Tình trạng triển khai nền tảng số theo đơn vị",
}
#: The axis of the charts that compare the area units: its words and decimals.
_AXES = {"hues_penetration": ("lượt tải / 100 dân", 1), "teams_per_commune": ("tổ / xã", 1), "teams": ("tổ", 0)}


def chart_title(ctx: Context, key: str) -> str:
    """A chart's title in the words of the month's map (`…, theo huyện, thị xã, thành phố`)."""
    return CHART_TITLES[key].format(areas=ctx.area_kinds)


def area_chart(ctx: Context, indicator: str) -> dict:
    """What charts.compare needs to compare the month's area units on an indicator: the frame,
    title, axis, the unit highlighted, the province's line. Teams per commune become the teams
    themselves when every area unit is one commune (from 2025-07)."""
    if indicator == "teams_per_commune" and ctx.area_level == "commune":
        indicator = "teams"
    xlabel, decimals = _AXES[indicator]
    return {
        "frame": districts_frame(ctx, indicator),
        "title": chart_title(ctx, indicator),
        "xlabel": xlabel,
        "highlight": None if ctx.is_province else ctx.unit_name,
        "reference": province_value(ctx, indicator),
        "reference_label": ctx.whole,
        "decimals": decimals,
    }


def province_value(ctx: Context, indicator: str) -> float | None:
    """The province's value of an indicator this month (a reference line in charts)."""
    v = ctx.values
    part = v[(v["month"] == ctx.month) & (v["unit"] == PROVINCE) & (v["indicator"] == indicator)]
    return None if part.empty or _missing(part["value"].iloc[0]) else float(part["value"].iloc[0])


def grid_frame(ctx: Context) -> pd.DataFrame:
    """Unit × platform statuses of the month (for charts.status_grid): short unit names in
    registry order and platforms in catalog order, as ordered categories."""
    rows = ctx.platforms
    units = [u for u in ctx.registry.reporting_units(ctx.month)]
    short = {u.code: u.short_name for u in units}
    cat_order = {c: i for i, c in enumerate([*kpis.CATALOG_KEYS, kpis.OUTSIDE_CATALOG])}
    rows = rows[rows["unit"].isin(list(short))]
    platforms = (
        rows.assign(_c=rows["catalog"].map(cat_order))
        .sort_values(["_c", "subject_name"])["subject_name"]
        .drop_duplicates()
        .tolist()
    )
    return pd.DataFrame(
        {
            "unit_label": pd.Categorical(
                rows["unit"].map(short), categories=[short[u.code] for u in units], ordered=True
            ),
            "platform_label": pd.Categorical(rows["subject_name"], categories=platforms, ordered=True),
            "status": rows["status"].to_numpy(),
            "group": rows["catalog"].to_numpy(),
            "unit_group": rows["unit"].map(ctx.unit_types).to_numpy(),
        }
    ).reset_index(drop=True)
