"""The changes of a catalog from one snapshot to another: platforms added, removed and renamed.

The changes of a month compare each catalog's part in use with the newest good part of that
catalog dated in an earlier calendar month.
"""

from __future__ import annotations

import pandas as pd

from dxreport.catalog.ids import link_key
from dxreport.catalog.match import similarity, thresholds
from dxreport.catalog.model import CHANGE_COLUMNS, CHANGES
from dxreport.textnorm import fold, nfc


def diff(
    previous: pd.DataFrame, current: pd.DataFrame, *, snapshot_date: str, threshold: float | None = None
) -> pd.DataFrame:
    """Platforms added, removed and renamed from `previous` to `current` (CHANGE_COLUMNS).

    Renamed: the same id with another name; or a removed and an added platform of the same
    catalog with the same link, or whose names are at least `threshold` alike (default
    params/settings.yaml catalog.rename_threshold), best pairs first.
    """
    threshold = thresholds()["rename_threshold"] if threshold is None else threshold
    prev = {r["platform_id"]: r for r in previous.to_dict("records")}
    cur = {r["platform_id"]: r for r in current.to_dict("records")}
    rows = []

    def row(change, r, previous_name=None):
        rows.append(
            {
                "change": change,
                "platform_id": r["platform_id"],
                "catalog": r["catalog"],
                "name": r["name"],
                "previous_name": previous_name,
                "snapshot_date": snapshot_date,
            }
        )

    for pid in cur.keys() & prev.keys():
        if nfc(cur[pid]["name"]) != nfc(prev[pid]["name"]):
            row("renamed", cur[pid], prev[pid]["name"])
    removed = [prev[p] for p in prev if p not in cur]
    added = [cur[p] for p in cur if p not in prev]
    pairs = []
    for r in removed:
        for a in added:
            if r["catalog"] != a["catalog"]:
                continue
            same_link = bool(link_key(r.get("link"))) and link_key(r.get("link")) == link_key(a.get("link"))
            score = 2.0 if same_link else similarity(r["name"], a["name"])
            if score >= threshold:
                pairs.append((score, r["platform_id"], a["platform_id"], r, a))
    taken_r, taken_a = set(), set()
    for _, rid, aid, r, a in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if rid in taken_r or aid in taken_a:
            continue
        taken_r.add(rid)
        taken_a.add(aid)
        row("renamed", a, r["name"])
    for a in added:
        if a["platform_id"] not in taken_a:
            row("added", a)
    for r in removed:
        if r["platform_id"] not in taken_r:
            row("removed", r)
    order = {c: i for i, c in enumerate(CHANGES)}
    frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    if len(frame):
        frame = frame.sort_values(
            ["catalog", "change", "name"], key=lambda c: c.map(order) if c.name == "change" else c.map(fold)
        ).reset_index(drop=True)
    return _none_for_missing(frame)


def _none_for_missing(frame: pd.DataFrame) -> pd.DataFrame:
    frame["previous_name"] = frame["previous_name"].astype(object).where(frame["previous_name"].notna(), None)
    return frame


def combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The changes of several catalogs as one table (CHANGE_COLUMNS)."""
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CHANGE_COLUMNS)
    return _none_for_missing(frame)
