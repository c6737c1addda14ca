"""Indicator values from the base table, and the comparisons: the previous month (like for like
when the base table has it), the same month last year and the year to date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxreport.kpis.indicators import BY_NAME, INDICATORS, Frame
from dxreport.params import PROVINCE, previous_month


def compute(base: Frame) -> Frame:
    """Long table (month, unit, indicator, value) of every indicator for every row of `base`."""
    columns = ["month", "unit", "indicator", "value"]
    if base is None or base.empty:
        return pd.DataFrame(columns=columns)
    frame = base.reset_index()
    frame.attrs = {"min_population_coverage": base.attrs.get("min_population_coverage", 0.0)}
    area = frame["type"].isin(["district", "province"])
    province = frame["type"] == "province"
    parts = []
    for order, ind in enumerate(INDICATORS):
        mask = area if ind.scope == "area" else province if ind.scope == "province" else slice(None)
        values = ind.compute(frame)
        part = pd.DataFrame(
            {
                "month": frame["month"],
                "unit": frame["unit"],
                "indicator": ind.name,
                "value": values.astype(float),
                "_order": order,
            }
        )[mask]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["month", "unit", "_order"], kind="stable").drop(columns="_order")
    out = out.reset_index(drop=True)[columns]
    if "like_for_like" in base.attrs:
        out.attrs["like_for_like"] = base.attrs["like_for_like"]
    return out


def with_changes(values: Frame) -> Frame:
    """Add the previous month's value and the change to each row of a `compute` table."""
    lfl = values.attrs.get("like_for_like")
    values = values.copy()
    values.attrs = {}
    frame = values.copy()
    frame["prev_month"] = frame["month"].map(previous_month)
    prev = values[["month", "unit", "indicator", "value"]].rename(columns={"month": "prev_month", "value": "previous"})
    frame = frame.merge(prev, on=["prev_month", "unit", "indicator"], how="left").drop(columns="prev_month")
    frame["change"] = frame["value"] - frame["previous"]
    base = frame["previous"]
    if lfl is not None and not lfl.empty:
        # like for like: over the units and rows present in both months (submissions excepted,
        # whose change is the change in who reported)
        frame = frame.merge(lfl, on=["month", "unit", "indicator"], how="left")
        chung = frame["indicator"].map(lambda n: BY_NAME[n].section == "chung" if n in BY_NAME else True)
        use = ~chung & frame["previous"].notna()
        frame.loc[use, "change"] = frame.loc[use, "lfl_change"]
        base = frame["previous"].where(~use, frame["lfl_previous"])
        frame = frame.drop(columns=["lfl_previous", "lfl_change"])
    frame["change_pct"] = (frame["change"] / base.where(base != 0)) * 100
    return frame


def same_month_last_year(month: str) -> str:
    """`2022-07` → `2021-07`."""
    return f"{int(month[:4]) - 1:04d}{month[4:]}"


def _unlike_years(values: Frame, frame: Frame) -> pd.Series:
    """Province rows (other than who reported) whose month and same month last year were reported
    by different sets of units: a change between them would compare unlike totals."""
    sent = values[
        (values["indicator"] == "submissions_received") & (values["value"] == 1) & (values["unit"] != PROVINCE)
    ]
    units = sent.groupby("month")["unit"].agg(frozenset)
    now = frame["month"].map(units)
    then = frame["month"].map(lambda m: units.get(same_month_last_year(m)))
    chung = frame["indicator"].map(lambda n: BY_NAME[n].section == "chung" if n in BY_NAME else True)
    return (frame["unit"] == PROVINCE) & ~chung & frame["last_year"].notna() & (now != then)


def with_year(values: Frame) -> Frame:
    """Add the same month last year (`last_year`, `yoy_change`, `yoy_pct`) and the year to date.

    The year to date (`ytd`) is the sum from January to the month of a flow indicator (a figure
    for the month alone), over the months that have a value (`ytd_months` of them); a rate of two
    flow indicators gets the rate of their sums. Stocks (lũy kế) and other rates get none.
    """
    frame = values.copy()
    base = values[["month", "unit", "indicator", "value"]]
    ly = base.rename(columns={"value": "last_year"})
    ly["month"] = [f"{int(m[:4]) + 1:04d}{m[4:]}" for m in ly["month"]]
    frame = frame.merge(ly, on=["month", "unit", "indicator"], how="left")
    frame["yoy_change"] = frame["value"] - frame["last_year"]
    frame["yoy_pct"] = frame["yoy_change"] / frame["last_year"].where(frame["last_year"] != 0) * 100
    unlike = _unlike_years(values, frame)
    frame.loc[unlike, ["yoy_change", "yoy_pct"]] = np.nan

    flows = [i.name for i in INDICATORS if i.flow]
    part = base[base["indicator"].isin(flows)].sort_values("month").copy()
    part["year"] = part["month"].str[:4]
    keys = [part["unit"], part["indicator"], part["year"]]
    part["ytd"] = part["value"].fillna(0).groupby(keys).cumsum()
    part["ytd_months"] = part["value"].notna().astype(int).groupby(keys).cumsum()
    part.loc[part["ytd_months"] == 0, "ytd"] = np.nan
    ytd = part[["month", "unit", "indicator", "ytd", "ytd_months"]]
    rates = []
    wide = ytd.pivot_table(index=["month", "unit"], columns="indicator", values="ytd", aggfunc="first")
    months_wide = ytd.pivot_table(index=["month", "unit"], columns="indicator", values="ytd_months", aggfunc="first")
    for ind in INDICATORS:
        if ind.ratio_of and set(ind.ratio_of) <= set(wide.columns):
            num, den = wide[ind.ratio_of[0]], wide[ind.ratio_of[1]]
            r = (num / den.where(den != 0) * 100).rename("ytd").to_frame()
            r["ytd_months"] = months_wide[ind.ratio_of[1]]
            r["indicator"] = ind.name
            rates.append(r.reset_index())
    ytd = pd.concat([ytd, *rates], ignore_index=True) if rates else ytd
    frame = frame.merge(ytd, on=["month", "unit", "indicator"], how="left")
    return frame
