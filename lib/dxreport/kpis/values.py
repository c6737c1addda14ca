"""Indicator values from the base table, and the comparisons: the previous month (like for like
when the base table has it), the same month last year and the year to date.

A comparison never joins two months on a code alone: a unit is compared with the month before or
the same month last year only when its code names the same unit with the same area in both
(dxreport.kpis.compare). For an area unit whose area changed, the `Tổ công nghệ số` sums of the
other month are rebuilt from the old communes' rows (`rebuilt`); every other figure of it is not
comparable and has no previous value. Columns `previous_basis` and `last_year_basis` say which
(`same`, `rebuilt`, `not_comparable`); `previous_uncertain` and `last_year_uncertain` that an
uncertain crosswalk row was followed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxreport.kpis.compare import (
    NOT_COMPARABLE,
    REBUILT,
    REBUILT_COLUMNS,
    SAME,
    TEAM_SUMS,
    Crosswalk,
    changed_area_units,
    crosswalk,
    pack,
    rebuilt,
    same_ground,
    unpack,
)
from dxreport.kpis.indicators import BY_NAME, INDICATORS, Frame
from dxreport.kpis.roles import AREA, PROVINCE_ROLE
from dxreport.params import PROVINCE, previous_month
from dxreport.units import Registry, load_registry

_CARRIED = ("like_for_like", "rebuilt")


def compute(base: Frame) -> Frame:
    """Long table (month, unit, indicator, value) of every indicator for every row of `base`.

    Area indicators (scope `area`) go to the area units and the province, whatever the area
    units' level in the month."""
    columns = ["month", "unit", "indicator", "value"]
    if base is None or base.empty:
        return pd.DataFrame(columns=columns)
    frame = base.reset_index()
    frame.attrs = {"min_population_coverage": base.attrs.get("min_population_coverage", 0.0)}
    area = frame["type"].isin([AREA, PROVINCE_ROLE])
    province = frame["type"] == PROVINCE_ROLE
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
    for key in _CARRIED:
        if key in base.attrs:
            out.attrs[key] = base.attrs[key]
    return out


def _chung(frame: Frame) -> pd.Series:
    """Rows of the `chung` section (who reported), compared as they are."""
    return frame["indicator"].map(lambda n: BY_NAME[n].section == "chung" if n in BY_NAME else True)


def _flags(frame: Frame, other: pd.Series, cw: Crosswalk) -> tuple[np.ndarray, np.ndarray, Frame]:
    """Per row of `frame` compared with month `other`: whether its code may be joined (the same
    unit in the same role), whether the comparison rests on an uncertain crosswalk row, and the
    distinct (month, other, unit, same, uncertain)."""
    keys = pd.DataFrame(
        {"month": frame["month"].to_numpy(), "other": np.asarray(other), "unit": frame["unit"].to_numpy()}
    )
    pairs = keys.drop_duplicates().reset_index(drop=True)
    pairs["same"] = [cw.same(u, m, o) for m, o, u in zip(pairs["month"], pairs["other"], pairs["unit"])]
    pairs["uncertain"] = [cw.uncertain(u, m, o) for m, o, u in zip(pairs["month"], pairs["other"], pairs["unit"])]
    flags = keys.merge(pairs, on=["month", "other", "unit"], how="left")
    return (
        flags["same"].fillna(False).astype(bool).to_numpy(),
        flags["uncertain"].fillna(False).astype(bool).to_numpy(),
        pairs,
    )


def previous_basis(values: Frame, registry: Registry | None = None) -> Frame:
    """`previous_basis` and `previous_uncertain` for a table of `with_changes` whose columns were
    not kept (the warehouse keeps month, unit, indicator, value, previous, change, change_pct):
    `same` where the code names the same unit in the month before, `rebuilt` where a changed
    area unit has a previous team sum, else `not_comparable`."""
    cw = crosswalk(registry if registry is not None else load_registry())
    frame = values.copy()
    same, uncertain, _ = _flags(frame, frame["month"].map(previous_month), cw)
    rebuilt_rows = ~same & frame["indicator"].isin(list(TEAM_SUMS)).to_numpy() & frame["previous"].notna().to_numpy()
    frame["previous_basis"] = np.where(same, SAME, np.where(rebuilt_rows, REBUILT, NOT_COMPARABLE))
    frame["previous_uncertain"] = uncertain
    return frame


def _against(
    frame: Frame,
    other: pd.Series,
    column: str,
    cw: Crosswalk,
    rebuilt_rows: Frame | None,
    facts: Frame | None,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """For each row of `frame` (month, unit, indicator, `column` joined on the code) compared with
    month `other`: the comparable value of the other month, its basis and the uncertain flag.

    The code's value when it names the same unit in both months; for an area unit whose area
    changed, the rebuilt `Tổ công nghệ số` sums (from `rebuilt_rows`, else from `facts`), and
    nothing for any other figure.
    """
    same, uncertain, pairs = _flags(frame, other, cw)
    value = frame[column].where(same)
    basis = pd.Series(np.where(same, SAME, NOT_COMPARABLE), index=frame.index, dtype=object)

    team = frame["indicator"].isin(list(TEAM_SUMS)).to_numpy()
    if (~same & team).any():
        wanted = pairs[~pairs["same"]]
        if rebuilt_rows is None:
            rebuilt_rows = pd.DataFrame(columns=REBUILT_COLUMNS)
        if facts is not None and not facts.empty:
            # the facts given win over the base table's attrs for the months they hold
            held = set(facts["month"])
            wanted = wanted[wanted["other"].isin(held)]
            changed = {(m, o): set(changed_area_units(cw, m, o)) for m, o in set(zip(wanted["month"], wanted["other"]))}
            todo = [
                (m, o, u) for m, o, u in zip(wanted["month"], wanted["other"], wanted["unit"]) if u in changed[(m, o)]
            ]
            kept = rebuilt_rows[~rebuilt_rows["other"].isin(held)]
            rebuilt_rows = pd.concat([kept, rebuilt(facts, cw, todo)], ignore_index=True) if todo else kept
        got = pd.DataFrame(
            {"month": frame["month"], "other": other, "unit": frame["unit"], "indicator": frame["indicator"]}
        )
        got = got.merge(
            rebuilt_rows[["month", "other", "unit", "indicator", "rebuilt"]].drop_duplicates(
                ["month", "other", "unit", "indicator"]
            ),
            on=["month", "other", "unit", "indicator"],
            how="left",
        )
        use = ~same & team & got["rebuilt"].notna().to_numpy()
        value = value.where(~use, got["rebuilt"].to_numpy())
        basis = basis.where(~use, REBUILT)
    return value, basis, pd.Series(uncertain, index=frame.index)


def with_changes(values: Frame, registry: Registry | None = None, facts: Frame | None = None) -> Frame:
    """Add the previous month's value and the change to each row of a `compute` table.

    The previous value is the same unit's (`previous_basis` `same`), or for an area unit whose
    area changed its rebuilt `Tổ công nghệ số` sums (`rebuilt`: from the base table's attrs, else
    from `facts`); anything else is `not_comparable` and has no previous value. `registry`: the
    registry of params/ when None.
    """
    lfl = values.attrs.get("like_for_like")
    rebuilt_rows = unpack(values.attrs.get("rebuilt"))
    cw = crosswalk(registry if registry is not None else load_registry())
    values = values.copy()
    values.attrs = {}
    if "previous" in values and "previous_basis" not in values:
        values = previous_basis(values, cw.registry)  # values read back from the warehouse
    frame = values.copy()
    frame["prev_month"] = frame["month"].map(previous_month)
    prev = values[["month", "unit", "indicator", "value"]].rename(columns={"month": "prev_month", "value": "previous"})
    frame = frame.merge(prev, on=["prev_month", "unit", "indicator"], how="left")
    previous, basis, uncertain = _against(frame, frame["prev_month"], "previous", cw, rebuilt_rows, facts)
    frame["previous"] = previous
    frame = frame.drop(columns="prev_month")
    frame["change"] = frame["value"] - frame["previous"]
    base = frame["previous"]
    if lfl is not None and not lfl.empty:
        # like for like: over the units and rows present in both months (submissions excepted,
        # whose change is the change in who reported)
        frame = frame.merge(lfl, on=["month", "unit", "indicator"], how="left")
        use = ~_chung(frame) & frame["previous"].notna()
        frame.loc[use, "change"] = frame.loc[use, "lfl_change"]
        base = frame["previous"].where(~use, frame["lfl_previous"])
        frame = frame.drop(columns=["lfl_previous", "lfl_change"])
    frame["change_pct"] = (frame["change"] / base.where(base != 0)) * 100
    frame["previous_basis"] = basis.to_numpy()
    frame["previous_uncertain"] = uncertain.to_numpy()
    if rebuilt_rows is not None:
        frame.attrs = {"rebuilt": pack(rebuilt_rows)}
    return frame


def same_month_last_year(month: str) -> str:
    """`2022-07` → `2021-07`."""
    return f"{int(month[:4]) - 1:04d}{month[4:]}"


def _unlike_years(values: Frame, frame: Frame, cw: Crosswalk) -> pd.Series:
    """Province rows (other than who reported) whose month and same month last year were reported
    by units that do not cover the same ground: a change between them would compare unlike totals.

    Area indicators ask for the same ground of area units (matched through the registry, so a
    month after the 2025 reform can be like the month a year before); the others also for the
    same agencies."""
    sent = values[
        (values["indicator"] == "submissions_received") & (values["value"] == 1) & (values["unit"] != PROVINCE)
    ]
    units = sent.groupby("month")["unit"].agg(frozenset).to_dict()
    like = {}
    for month in set(frame.loc[frame["unit"] == PROVINCE, "month"]):
        other = same_month_last_year(month)
        now, then = units.get(month, frozenset()), units.get(other)
        like[month] = same_ground(cw, month, set(now), other, set(then)) if then is not None else (False, False)
    province = frame["unit"] == PROVINCE
    area = frame["indicator"].map(lambda n: n in BY_NAME and BY_NAME[n].scope == "area")
    same_areas = frame["month"].map(lambda m: like.get(m, (False, False))[0]).astype(bool)
    same_all = frame["month"].map(lambda m: all(like.get(m, (False, False)))).astype(bool)
    alike = same_areas.where(area, same_all)
    return province & ~_chung(frame) & frame["last_year"].notna() & ~alike


def with_year(values: Frame, registry: Registry | None = None, facts: Frame | None = None) -> Frame:
    """Add the same month last year (`last_year`, `yoy_change`, `yoy_pct`) and the year to date.

    The same month last year is the same unit's (`last_year_basis` `same`), or for an area unit
    whose area changed its rebuilt `Tổ công nghệ số` sums (`rebuilt`: from the attrs that
    `with_changes` keeps, else from `facts` of that month); anything else is `not_comparable`.
    Values read back from the warehouse (with `previous` but without `previous_basis`) also get
    `previous_basis` and `previous_uncertain` (see `previous_basis`).

    The year to date (`ytd`) is the sum from January to the month of a flow indicator (a figure
    for the month alone), over the months that have a value (`ytd_months` of them) in which the
    code named the same unit; a rate of two flow indicators gets the rate of their sums. Stocks
    (lũy kế) and other rates get none.
    """
    rebuilt_rows = unpack(values.attrs.get("rebuilt"))
    cw = crosswalk(registry if registry is not None else load_registry())
    values = values.copy()
    values.attrs = {}
    if "previous" in values and "previous_basis" not in values:
        values = previous_basis(values, cw.registry)  # values read back from the warehouse
    frame = values.copy()
    base = values[["month", "unit", "indicator", "value"]]
    ly = base.rename(columns={"value": "last_year"})
    ly["month"] = [f"{int(m[:4]) + 1:04d}{m[4:]}" for m in ly["month"]]
    frame = frame.merge(ly, on=["month", "unit", "indicator"], how="left")
    other = frame["month"].map(same_month_last_year)
    last_year, basis, uncertain = _against(frame, other, "last_year", cw, rebuilt_rows, facts)
    frame["last_year"] = last_year
    frame["yoy_change"] = frame["value"] - frame["last_year"]
    frame["yoy_pct"] = frame["yoy_change"] / frame["last_year"].where(frame["last_year"] != 0) * 100
    unlike = _unlike_years(values, frame, cw)
    frame.loc[unlike, ["yoy_change", "yoy_pct"]] = np.nan
    frame["last_year_basis"] = basis.to_numpy()
    frame["last_year_uncertain"] = uncertain.to_numpy()

    flows = [i.name for i in INDICATORS if i.flow]
    part = base[base["indicator"].isin(flows)].sort_values("month").copy()
    part["year"] = part["month"].str[:4]
    # a code that names another unit later in the year starts its own sum
    segments = {(u, m): cw.segment(u, m) for u, m in set(zip(part["unit"], part["month"]))}
    part["segment"] = [segments[(u, m)] for u, m in zip(part["unit"], part["month"])]
    keys = [part["unit"], part["segment"], part["indicator"], part["year"]]
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
