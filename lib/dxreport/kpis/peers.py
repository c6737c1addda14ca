"""A unit's view: its indicators for a month, and its rank and the mean among its peers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxreport.kpis.indicators import BY_NAME, INDICATORS, Frame
from dxreport.params import PROVINCE
from dxreport.units import Registry


def peers_of(registry: Registry, month: str, unit: str) -> tuple[list[str], str]:
    """The units a unit is ranked among (the districts, or the provincial agencies) and their name."""
    if unit == PROVINCE:
        return [], ""
    kind = registry.get(unit, month).type
    codes = [u.code for u in registry.reporting_units(month) if u.type == kind]
    return codes, ("huyện, thị xã, thành phố" if kind == "district" else "cơ quan cấp tỉnh")


def peer_stats(values: Frame, month: str, peers: list[str]) -> Frame:
    """Per (unit, indicator) among `peers` this month: rank (1 = best), how many have a value, their mean.

    Ties share the better rank. Indicators that are not `ranked` get no rank, only the mean.
    """
    part = values[(values["month"] == month) & values["unit"].isin(peers)]
    if part.empty:
        return pd.DataFrame(columns=["unit", "indicator", "rank", "ranked_among", "peer_mean"])
    wide = part.pivot_table(index="unit", columns="indicator", values="value", aggfunc="first")
    out = []
    for name in wide.columns:
        ind = BY_NAME.get(name)
        if ind is None:
            continue
        col = wide[name]
        # no rank when it says nothing: an indicator not meant for ranking, or every peer equal
        if ind.ranked and col.dropna().nunique() > 1:
            rank = col.rank(ascending=not ind.higher_is_better, method="min")
        else:
            rank = col * np.nan
        out.append(
            pd.DataFrame(
                {
                    "unit": col.index,
                    "indicator": name,
                    "rank": rank.to_numpy(),
                    "ranked_among": float(col.notna().sum()),
                    "peer_mean": col.mean(),
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def unit_view(values: Frame, month: str, unit: str, peers: list[str] | None = None) -> Frame:
    """One unit's indicators for one month with labels, units and changes, in definition order.

    With `peers`, each row also has the unit's rank among them and their mean.
    """
    part = values[(values["month"] == month) & (values["unit"] == unit)].set_index("indicator")
    stats = peer_stats(values, month, peers).set_index(["unit", "indicator"]) if peers else None
    optional = ("previous", "change", "change_pct", "last_year", "yoy_change", "yoy_pct", "ytd", "ytd_months")
    rows = []
    for ind in INDICATORS:
        if ind.name not in part.index:
            continue
        r = part.loc[ind.name]
        row = {
            "indicator": ind.name,
            "label": ind.label,
            "measure": ind.unit,
            "kind": ind.kind,
            "section": ind.section,
            "value": r["value"],
        }
        row.update({k: r.get(k) for k in optional})
        if stats is not None:
            key = (unit, ind.name)
            row["rank"] = stats.at[key, "rank"] if key in stats.index else np.nan
            row["ranked_among"] = stats.at[key, "ranked_among"] if key in stats.index else np.nan
            row["peer_mean"] = stats.at[key, "peer_mean"] if key in stats.index else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
