"""The platform rows (one per unit, month and platform of the `Nền tảng` sheets) and the
per-platform summary behind the per-platform tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxreport.kpis.base import catalog_of
from dxreport.kpis.indicators import CATALOG_KEYS, OUTSIDE_CATALOG, Frame
from dxreport.kpis.roles import AGENCY, AREA, role_of

# `cell`: where the row's status is in the unit's file (Nền tảng!C9), to find the row again.
PLATFORM_ROW_COLUMNS = [
    "month",
    "unit",
    "subject",
    "subject_name",
    "catalog",
    "status",
    "accounts",
    "mau",
    "uses",
    "lgsp",
    "proposal",
    "note",
    "cell",
]


def platform_rows(facts: Frame, catalog: Frame | None = None) -> Frame:
    """One row per (month, unit, platform) of the `Nền tảng` sheets: status, figures, proposal.

    `catalog` (platform_id, catalog, name) gives the catalog and the catalog's name of a platform;
    a platform outside it keeps the name the unit wrote and the catalog 'ngoai_danh_muc'.
    """
    rows = facts[facts["sheet"] == "nen_tang"]
    if rows.empty:
        return pd.DataFrame(columns=PLATFORM_ROW_COLUMNS)
    keys = ["month", "unit", "subject"]
    numeric = rows[rows["metric"].isin(["accounts", "mau", "uses", "lgsp"])].pivot_table(
        index=keys, columns="metric", values="value", aggfunc="first"
    )
    text = rows[rows["metric"].isin(["status", "proposal", "note"])].pivot_table(
        index=keys, columns="metric", values="text", aggfunc="first"
    )
    first = rows.groupby(keys)["subject_name"].first().to_frame()
    cells = rows[rows["metric"] == "status"].set_index(keys)["cell"]
    first["cell"] = cells[~cells.index.duplicated()].reindex(first.index)
    frame = first.join(numeric).join(text)
    for column in PLATFORM_ROW_COLUMNS:
        if column not in frame.columns and column not in keys:
            frame[column] = np.nan
    frame = frame.reset_index()
    catalogs = catalog_of(catalog)
    names = dict(zip(catalog["platform_id"], catalog["name"])) if catalog is not None and not catalog.empty else {}
    frame["catalog"] = [catalogs.get(s, OUTSIDE_CATALOG) for s in frame["subject"]]
    frame["subject_name"] = [names.get(s, n) for s, n in zip(frame["subject"], frame["subject_name"])]
    return frame[PLATFORM_ROW_COLUMNS]


def platform_summary(rows: Frame, unit_types: dict[str, str]) -> Frame:
    """Per platform (over the units of `rows`): how many units use it, try it, have not deployed
    it, have connected it to LGSP; accounts, active users and uses summed over the area units
    (columns `…_districts`, whatever the area units' level) and over the agencies separately (the
    two are never added). `unit_types`: the month's reporting units → role (`area`, `agency`; a
    registry type `district` or `commune` is read as `area`)."""
    if rows.empty:
        return pd.DataFrame(
            columns=[
                "subject",
                "subject_name",
                "catalog",
                "in_use",
                "trial",
                "not_deployed",
                "lgsp",
                "accounts",
                "mau",
                "uses",
                "accounts_districts",
                "accounts_agencies",
                "mau_districts",
                "mau_agencies",
                "uses_districts",
                "uses_agencies",
            ]
        )
    roles = {code: role_of(kind) for code, kind in unit_types.items()}
    r = rows.assign(type=rows["unit"].map(roles))
    r["in_use"] = (r["status"] == "dang_su_dung").astype(int)
    r["trial"] = (r["status"] == "dang_thu_nghiem").astype(int)
    r["not_deployed"] = (r["status"] == "chua_trien_khai").astype(int)
    r["lgsp_in_use"] = ((r["lgsp"] == 1) & (r["status"] == "dang_su_dung")).astype(int)
    for metric in ("accounts", "mau", "uses"):
        r[f"{metric}_districts"] = r[metric].where(r["type"] == AREA)
        r[f"{metric}_agencies"] = r[metric].where(r["type"] == AGENCY)
    out = (
        r.groupby(["catalog", "subject"], sort=False)
        .agg(
            subject_name=("subject_name", "first"),
            in_use=("in_use", "sum"),
            trial=("trial", "sum"),
            not_deployed=("not_deployed", "sum"),
            lgsp=("lgsp_in_use", "sum"),
            accounts=("accounts", lambda s: s.sum(min_count=1)),
            mau=("mau", lambda s: s.sum(min_count=1)),
            uses=("uses", lambda s: s.sum(min_count=1)),
            **{
                f"{m}_{who}": (f"{m}_{who}", lambda s: s.sum(min_count=1))
                for m in ("accounts", "mau", "uses")
                for who in ("districts", "agencies")
            },
        )
        .reset_index()
    )
    order = {c: i for i, c in enumerate([*CATALOG_KEYS, OUTSIDE_CATALOG])}
    out["_c"] = out["catalog"].map(order).fillna(len(order))
    out = out.sort_values(["_c", "in_use", "subject_name"], ascending=[True, False, True]).drop(columns="_c")
    return out.reset_index(drop=True)
