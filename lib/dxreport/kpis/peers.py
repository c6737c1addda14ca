"""A unit's view: its indicators for a month, and its rank and the mean among its peers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxreport.kpis.indicators import BY_NAME, INDICATORS, Frame
from dxreport.kpis.roles import AGENCY, AREA, peers_name
from dxreport.params import PROVINCE
from dxreport.units import Registry, load_registry


def peers_of(registry: Registry, month: str, unit: str) -> tuple[list[str], str]:
    """The units a unit is ranked among and their name: the units of the same role in the same
    month (the area units: `huyện, thị xã, thành phố` in 2022, `xã, phường` from 2025-07; or the
    agencies: `cơ quan cấp tỉnh` in 2022, `cơ quan cấp thành phố` from 2025). None for the
    province or a code that does not report in the month."""
    if unit == PROVINCE:
        return [], ""
    areas = [u.code for u in registry.area_units(month)]
    if str(unit) in areas:
        return areas, peers_name(registry, month, AREA)
    agencies = [u.code for u in registry.agencies(month)]
    if str(unit) in agencies:
        return agencies, peers_name(registry, month, AGENCY)
    return [], ""


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


def unit_view(
    values: Frame,
    month: str,
    unit: str,
    peers: list[str] | None = None,
    registry: Registry | None = None,
    *,
    stats: Frame | None = None,
) -> Frame:
    """One unit's indicators for one month with labels, units and changes, in definition order.

    Labels are said with the month's words (Indicator.label_in; the 2022 labels in 2022). With
    `peers`, each row also has the unit's rank among them and their mean (`stats`: their
    peer_stats(values, month, peers) when already at hand).
    """
    part = values[(values["month"] == month) & (values["unit"] == unit)].set_index("indicator")
    if peers:
        stats = (stats if stats is not None else peer_stats(values, month, peers)).set_index(["unit", "indicator"])
    else:
        stats = None
    optional = ("previous", "change", "change_pct", "last_year", "yoy_change", "yoy_pct", "ytd", "ytd_months")
    rows = []
    registry = registry if registry is not None else (load_registry() if not part.empty else None)
    for ind in INDICATORS:
        if ind.name not in part.index:
            continue
        r = part.loc[ind.name]
        row = {
            "indicator": ind.name,
            "label": ind.label_in(month, registry),
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
