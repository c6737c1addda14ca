"""What a report reads from the warehouse: the hashes that make each report's fingerprint.

The report side declares what a report depends on; the runner asks for it (`unit_inputs`) and
adds the code version, the package versions and the parameters. A unit's report reads its own
rows, the catalog and whether the month is sample data; an area unit's report (a district until
2025-06, a commune from 2025-07) also compares the area indicators of every area unit of the
month, and when its area changed since the same month last year, the `Tổ công nghệ số` rows of
the communes it was formed from; the province's report reads everything.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from dxreport import kpis, store
from dxreport.kpis.compare import TEAM_SHEET, crosswalk
from dxreport.params import PROVINCE

_EMPTY = hashlib.sha256(b"").hexdigest()[:16]


def _row_hashes(frame):
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _frame_digest(frame) -> str:
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(_row_hashes(frame).tobytes())
    return digest.hexdigest()[:16]


def _digests_by_unit(frame) -> dict[str, str]:
    if frame.empty:
        return {}
    hashes = _row_hashes(frame)
    return {
        str(unit): hashlib.sha256(hashes[idx].tobytes()).hexdigest()[:16]
        for unit, idx in frame.groupby("unit", dropna=True, sort=False).indices.items()
    }


def unit_inputs(outputs: Path, month: str, units: list[str], registry) -> dict[str, dict[str, str]]:
    """Per unit, hashes of the warehouse rows its report reads (read-only, after 03_analyse).

    A unit's report reads its own submissions, issues and facts of the month, its indicators of
    every month up to the month (the trend), the catalog, and whether the month is sample data; an
    area unit's report also compares the area indicators of every area unit of the month (its
    peers, by role) and the province. An area unit whose area changed since the same month last
    year (a code of another unit then, or a unit formed from other communes) has its year-ago
    `Tổ công nghệ số` sums rebuilt from its old communes' rows (kpis.with_year given those facts):
    their hash is `last_year_communes`. The province report reads all of it. These hashes, with
    the code version, the package versions and the parameters, make the report's fingerprint.
    """
    cw = crosswalk(registry)
    last_year = kpis.same_month_last_year(month)
    changed = {
        code: cw.predecessors(code, month, last_year)[0]
        for code in units
        if code != PROVINCE
        and code in cw.area_units(month)
        and cw.area_units(last_year)
        and not cw.same(code, month, last_year)
    }
    with store.connect(store.warehouse_path(outputs), read_only=True) as con:
        # where the archived copy lies is no input of a report (its content hash is the submission_id)
        subs = store.submissions_frame(con, month).drop(columns=["archived_path"], errors="ignore")
        issues = store.issues_frame(con, month)
        facts = store.facts_frame(con, [month])
        values = con.execute(
            "SELECT month, unit, indicator, value, previous, change, change_pct FROM indicators "
            "WHERE month <= ? ORDER BY month, unit, indicator",
            [month],
        ).df()
        catalog = store.table_frame(con, "catalog")
        earlier = store.facts_frame(con, [last_year]) if changed else None
    sample = str(bool(subs.loc[subs["status"] == "accepted", "is_sample"].fillna(False).astype(bool).any()))
    catalog_hash = _frame_digest(catalog)
    own = {
        name: _digests_by_unit(frame)
        for name, frame in (("submissions", subs), ("issues", issues), ("facts", facts), ("indicators", values))
    }
    area = [i.name for i in kpis.INDICATORS if i.scope == "area"]
    peers = values[
        (values["month"] == month)
        & values["indicator"].isin(area)
        & values["unit"].isin([u.code for u in registry.area_units(month)] + [PROVINCE])
    ]
    peers_hash = _frame_digest(peers)
    whole = None
    out = {}
    for code in units:
        if code == PROVINCE:
            if whole is None:
                whole = {
                    name: _frame_digest(frame)
                    for name, frame in (
                        ("submissions", subs),
                        ("issues", issues),
                        ("facts", facts),
                        ("indicators", values),
                    )
                }
            out[code] = {"catalog": catalog_hash, "sample": sample, **whole}
            continue
        parts = {"catalog": catalog_hash, "sample": sample}
        parts.update({name: digests.get(code, _EMPTY) for name, digests in own.items()})
        if registry.is_area(code, month):
            parts["area_units"] = peers_hash
        if code in changed:
            rows = earlier[(earlier["sheet"] == TEAM_SHEET) & earlier["subject"].astype(str).isin(changed[code])]
            parts["last_year_communes"] = _frame_digest(rows)
        out[code] = parts
    return out
