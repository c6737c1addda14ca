"""The base table: the submitted figures added up per unit and month following the form's
adding-up rules (area figures of the province are sums over the area units; rates are never
added), and the like-for-like changes over the figures present in two months.

Units have roles (dxreport.kpis.roles): `area` for the units that report for an area (districts
until 2025-06, communes from 2025-07), `agency`, and `province` for `tinh`. Two months are
compared through the registry (dxreport.kpis.compare), never on a code alone."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxreport.kpis.compare import Crosswalk, changed_area_units, crosswalk, like_rows, pack, rebuilt
from dxreport.kpis.indicators import (
    _STATUS_WORDS,
    CATALOG_KEYS,
    EHEALTH_PLATFORM,
    OUTSIDE_CATALOG,
    STATUS_KEYS,
    VNEID_PLATFORM,
    Frame,
)
from dxreport.kpis.roles import AGENCY, AREA, PROVINCE_ROLE
from dxreport.kpis.targets import Scope, load_scope
from dxreport.kpis.values import compute, same_month_last_year
from dxreport.months import following as month_after, previous as month_before
from dxreport.params import PROVINCE
from dxreport.units import Registry

_SUM_SHEETS = {
    "hue_s": {
        "downloads": "downloads",
        "accounts": "hues_accounts",
        "reports_received": "reports_received",
        "reports_processed": "reports_processed",
        "reports_on_time": "reports_on_time",
    },
    "to_cns": {
        "teams": "teams",
        "members": "members",
        "trainings": "trainings",
        "trained": "trained",
        "households": "households",
    },
    "doanh_nghiep": {
        "sme_reached": "sme_reached",
        "sme_using": "sme_using",
        "dbi_assessed": "dbi_assessed",
        "sme_supported": "sme_supported",
    },
}
_STATUS_COLUMNS = {
    "dang_su_dung": "platforms_in_use",
    "dang_thu_nghiem": "platforms_trial",
    "chua_trien_khai": "platforms_not_deployed",
}
_CATALOG_COLUMNS = [f"{cat}_{_STATUS_WORDS[s][0]}" for cat in CATALOG_KEYS for s in STATUS_KEYS]
# Counts that are zero (not missing) once a unit has reported any platform row.
_PLATFORM_COUNTS = [
    *_STATUS_COLUMNS.values(),
    "platforms_lgsp",
    "platforms_unmatched",
    "deployments",
    "lgsp_deployments",
    "deployments_lgsp",
    *_CATALOG_COLUMNS,
]
# Area sheets and the area part of the platform rows: the province figure is the area units' sum.
# Figures given per 100 residents: the population behind each is that of the units that reported it
# (`pop:`), over the figures of those of them whose population is known (`known:`).
_PER_CAPITA = ("downloads", "hues_accounts", "ehealth_accounts", "vneid_accounts")
_AREA_COLUMNS = [c for m in _SUM_SHEETS.values() for c in m.values()] + [
    "sat_weighted",
    "sat_weight",
    "communes_with_team",
    "communes_reported",
    "ehealth_accounts",
    "vneid_accounts",
]


def _sums(facts: Frame) -> Frame:
    """Per (month, unit): sums of the area sheets' numeric metrics (empty cells stay unreported)."""
    frames = []
    for sheet, mapping in _SUM_SHEETS.items():
        part = facts[(facts["sheet"] == sheet) & facts["metric"].isin(list(mapping))]
        if part.empty:
            continue
        wide = part.pivot_table(index=["month", "unit"], columns="metric", values="value", aggfunc="sum", dropna=False)
        frames.append(wide.rename(columns=mapping))
    hue = facts[(facts["sheet"] == "hue_s") & facts["metric"].isin(["satisfaction", "reports_processed"])]
    if not hue.empty:
        w = hue.pivot_table(index=["month", "unit"], columns="metric", values="value", aggfunc="sum")
        if "satisfaction" in w:
            processed = w["reports_processed"] if "reports_processed" in w else pd.Series(np.nan, index=w.index)
            has = w["satisfaction"].notna() & processed.notna()
            frames.append(
                pd.DataFrame(
                    {"sat_weighted": (w["satisfaction"] * processed).where(has), "sat_weight": processed.where(has)}
                )
            )
    teams = facts[(facts["sheet"] == "to_cns") & (facts["metric"] == "teams")]
    if not teams.empty:
        # only valid rows are facts: a commune whose row was rejected is neither with nor without a team
        counted = teams[teams["value"].notna()].assign(has=lambda t: t["value"] > 0)
        by_unit = counted.groupby(["month", "unit"])["has"]
        frames.append(
            pd.DataFrame(
                {"communes_with_team": by_unit.sum().astype(float), "communes_reported": by_unit.size().astype(float)}
            )
        )
    return pd.concat(frames, axis=1) if frames else pd.DataFrame()


def _units_by_month(registry: Registry, months: list[str]) -> Frame:
    """One row per (month, reporting unit): type (its role: 'area' for an area unit, whatever its
    level; 'agency'), population and its year (missing when unknown), communes in the registry."""
    columns = ["month", "unit", "type", "population", "population_year", "communes_total"]
    rows = [
        {
            "month": month,
            "unit": u.code,
            "type": AREA if area else AGENCY,
            "population": u.population if area else np.nan,
            "population_year": u.population_year if area else np.nan,
            "communes_total": float(len(registry.communes(u.code, month))) if area else np.nan,
        }
        for month in months
        for area, group in ((True, registry.area_units(month)), (False, registry.agencies(month)))
        for u in group
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("population", "population_year"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def catalog_of(catalog: Frame | None) -> dict[str, str]:
    """Platform id -> catalog key, from a catalog table (platform_id, catalog)."""
    if catalog is None or catalog.empty:
        return {}
    return dict(zip(catalog["platform_id"].astype(str), catalog["catalog"].astype(str)))


def _platform_counts(
    facts: Frame, units: Frame, catalogs: dict[str, str], lgsp_catalogs: tuple[str, ...] = ("chinh_quyen",)
) -> Frame:
    """Per (month, unit) and per (month, province): platform counts and sums of the platform rows.

    `units` (month, unit, type) selects whose rows count: the reporting units of each month.
    A platform is counted once however many units report it; a deployment is one unit's platform.
    """
    rows = facts[facts["sheet"] == "nen_tang"].merge(units[["month", "unit", "type"]], on=["month", "unit"])
    if rows.empty:
        return pd.DataFrame()
    status = rows.loc[rows["metric"] == "status", ["month", "unit", "type", "subject", "text"]].copy()
    status["catalog"] = [catalogs.get(s, OUTSIDE_CATALOG) for s in status["subject"]]
    status["unmatched"] = status["subject"].astype(str).str.startswith("unmatched:")
    lgsp = rows.loc[(rows["metric"] == "lgsp") & (rows["value"] == 1), ["month", "unit", "subject"]]
    in_use = status[status["text"] == "dang_su_dung"]
    # connection to LGSP is asked of the platforms of the catalogs named in params/targets.yaml only
    lgsp_in_use = in_use[in_use["catalog"].isin(lgsp_catalogs)]
    connected = lgsp_in_use.merge(lgsp, on=["month", "unit", "subject"])

    status["column"] = status["catalog"] + "_" + status["text"].map({k: v[0] for k, v in _STATUS_WORDS.items()})

    def counts(keys: list[str]) -> Frame:
        index = status.groupby(keys).size().index
        by_status = status.groupby([*keys, "text"])["subject"].nunique().unstack("text")
        by_catalog = status.groupby([*keys, "column"])["subject"].nunique().unstack("column")
        frame = pd.DataFrame(index=index)
        for key, column in _STATUS_COLUMNS.items():
            frame[column] = by_status[key] if key in by_status else np.nan
        for column in _CATALOG_COLUMNS:
            frame[column] = by_catalog[column] if column in by_catalog else np.nan
        frame["platforms_lgsp"] = connected.groupby(keys)["subject"].nunique()
        frame["deployments"] = in_use.groupby(keys).size()
        frame["lgsp_deployments"] = lgsp_in_use.groupby(keys).size()
        frame["deployments_lgsp"] = connected.groupby(keys).size()
        frame["platforms_unmatched"] = status[status["unmatched"]].groupby(keys)["subject"].nunique()
        # a unit that reported platforms has zero of what it did not report
        frame[_PLATFORM_COUNTS] = frame[_PLATFORM_COUNTS].astype(float).fillna(0)
        return frame

    per_unit = counts(["month", "unit"])
    province = counts(["month"])
    province["unit"] = PROVINCE
    province = province.reset_index().set_index(["month", "unit"])
    sums = {}
    for metric, column in (("accounts", "platform_accounts"), ("mau", "platform_mau"), ("uses", "platform_uses")):
        part = rows[rows["metric"] == metric]
        sums[column] = part.groupby(["month", "unit"])["value"].sum(min_count=1)
        # the province's platform figures are the area units' figures; agencies count apart
        part = part[part["type"] == AREA]
        province[column] = (
            part.groupby("month")["value"].sum(min_count=1).reindex(province.index.get_level_values("month")).to_numpy()
        )
    mau = rows[rows["metric"] == "mau"]
    for kind, column in ((AREA, "platform_mau_districts"), (AGENCY, "platform_mau_agencies")):
        province[column] = (
            mau[mau["type"] == kind]
            .groupby("month")["value"]
            .sum(min_count=1)
            .reindex(province.index.get_level_values("month"))
            .to_numpy()
        )
    accounts = rows[(rows["metric"] == "accounts")]
    for pid, column in ((EHEALTH_PLATFORM, "ehealth_accounts"), (VNEID_PLATFORM, "vneid_accounts")):
        part = accounts[(accounts["subject"] == pid) & (accounts["type"] == AREA)]
        sums[column] = part.groupby(["month", "unit"])["value"].sum(min_count=1)
    per_unit = per_unit.join(pd.DataFrame(sums), how="left")
    return pd.concat([per_unit, province])


def base_table(
    facts: Frame,
    registry: Registry,
    submitted: Frame,
    catalog: Frame | None = None,
    scope: Scope | None = None,
    *,
    like_for_like: bool = True,
) -> Frame:
    """The added-up figures per (month, unit), the province `tinh` included.

    `submitted` has one row per accepted submission (month, unit, and `late` when known).
    Months are those of `submitted`; every reporting unit valid in a month gets a row, reported
    or not, with its role in column `type` ('area', 'agency'; 'province' for `tinh`). `catalog`
    (platform_id, catalog) sorts the platforms into the three catalogs. `scope`
    (params/targets.yaml, read when None): the catalogs asked to connect to LGSP and the
    population coverage below which no per-capita figure is given. With `like_for_like`, the
    table's attrs hold the month-on-month changes over the rows present in both months
    (`like_for_like`) and the `Tổ công nghệ số` sums of the month before and of the same month
    last year rebuilt onto the area units whose area changed (`rebuilt`, see compare.rebuilt).
    """
    scope = scope if scope is not None else load_scope()
    cw = crosswalk(registry)
    base = _base(facts, registry, submitted, catalog, scope, cw)
    if base.empty:
        return base
    base.attrs = {"min_population_coverage": scope.min_population_coverage}
    if like_for_like:
        base.attrs["like_for_like"] = _like_for_like(facts, registry, submitted, catalog, scope)
        base.attrs["rebuilt"] = pack(_rebuilt(facts, cw, sorted(set(base.index.get_level_values("month")))))
    return base


def _rebuilt(facts: Frame, cw: Crosswalk, months: list[str]) -> Frame:
    """compare.rebuilt for every area unit whose area changed since the month before or the
    same month last year, among `months`."""
    have = set(months)
    pairs = [
        (month, other, unit)
        for month in months
        for other in (month_before(month), same_month_last_year(month))
        if other in have
        for unit in changed_area_units(cw, month, other)
    ]
    return rebuilt(facts, cw, pairs)


def _base(
    facts: Frame,
    registry: Registry,
    submitted: Frame,
    catalog: Frame | None,
    scope: Scope,
    cw: Crosswalk,
    *,
    previous: bool = True,
) -> Frame:
    months = sorted(submitted["month"].unique()) if not submitted.empty else []
    units = _units_by_month(registry, months)
    if units.empty:
        return pd.DataFrame()
    got = submitted.drop_duplicates(["month", "unit"]).assign(submitted=1.0)
    got["late"] = got["late"].fillna(False).astype(float) if "late" in got else np.nan
    units = units.merge(got[["month", "unit", "submitted", "late"]], on=["month", "unit"], how="left")
    units["submitted"] = units["submitted"].fillna(0.0)
    units.loc[units["submitted"] == 0, "late"] = np.nan
    units["expected"] = 1.0
    sent = set(zip(got["month"], got["unit"]))
    # a unit reported in both months only when its code names the same unit in both
    units["both_months"] = [
        float((m, u) in sent and (month_before(m), u) in sent and cw.same(u, m, month_before(m)))
        for m, u in zip(units["month"], units["unit"])
    ]
    base = units.set_index(["month", "unit"])

    sums = _sums(facts)
    if not sums.empty:
        base = base.join(sums.reindex(columns=[c for c in _AREA_COLUMNS if c in sums.columns]))
    platforms = _platform_counts(facts, units, catalog_of(catalog), scope.lgsp_catalogs)
    if not platforms.empty:
        unit_part = platforms[platforms.index.get_level_values("unit") != PROVINCE]
        base = base.join(unit_part.drop(columns=[c for c in unit_part.columns if c in base.columns]))

    is_area = base["type"] == AREA
    base["area_population"] = base["population"].where(is_area)
    per_capita = [k for k in _PER_CAPITA if k in base]
    for key in per_capita:
        base[f"pop:{key}"] = base["population"].where(base[key].notna())
        base[f"known:{key}"] = base[key].where(base["population"].notna())
    prov = pd.DataFrame(index=pd.Index(months, name="month"))
    prov["type"] = PROVINCE_ROLE
    prov["expected"] = base.groupby(level="month")["expected"].sum()
    prov["submitted"] = base.groupby(level="month")["submitted"].sum()
    prov["both_months"] = base.groupby(level="month")["both_months"].sum()
    prov["late"] = base.groupby(level="month")["late"].sum(min_count=1)
    # the province of each month (tỉnh Thừa Thiên Huế, then thành phố Huế from 2025)
    provinces = [registry.province(m) for m in months]
    prov["population"] = pd.to_numeric(pd.Series([p.population for p in provinces], index=prov.index, dtype=object))
    prov["population_year"] = pd.to_numeric(
        pd.Series([p.population_year for p in provinces], index=prov.index, dtype=object)
    )
    areas = base[is_area]
    by_month = areas.groupby(level="month")
    prov["communes_total"] = by_month["communes_total"].sum()
    area = [c for c in _AREA_COLUMNS if c in base.columns]
    if area:
        prov = prov.join(by_month[area].sum(min_count=1))
    _province_population(prov, areas, per_capita)
    if not platforms.empty:
        prov_platforms = platforms.xs(PROVINCE, level="unit")
        prov = prov.join(prov_platforms.drop(columns=[c for c in prov_platforms.columns if c in area]))
    prov["unit"] = PROVINCE
    base = pd.concat([base, prov.reset_index().set_index(["month", "unit"])]).sort_index()

    if "downloads" in base and not previous:
        base["prev_downloads"] = np.nan
    elif "downloads" in base:
        # the previous month's downloads, only when it is the calendar month before and the code
        # names the same unit in both months
        frame = base["downloads"].reset_index()
        frame["month"] = [month_after(m) for m in frame["month"]]
        prev = frame.set_index(["month", "unit"])["downloads"]
        same = [cw.same(u, m, month_before(m)) for m, u in base.index]
        base["prev_downloads"] = prev.reindex(base.index).where(same).to_numpy()
    base.attrs = {"min_population_coverage": scope.min_population_coverage}
    return base


def _province_population(prov: Frame, areas: Frame, per_capita: list[str]) -> None:
    """The province's populations behind its per-capita figures (in place).

    The area's population is the area units' own populations added up when every one is known,
    else the province's. When every area unit of the month reported a figure, the population
    behind it is the whole area's (coverage 100%); otherwise that of the reporting units whose
    population is known, over their figures only. A missing figure stays missing, never 0.
    """
    by_month = areas.groupby(level="month")
    units = by_month.size().reindex(prov.index)
    known_all = by_month["population"].count().reindex(prov.index) == units
    own = by_month["area_population"].sum(min_count=1).reindex(prov.index)
    prov["area_population"] = own.where(known_all & (units > 0), prov["population"])
    for key in per_capita:
        everyone = (by_month[key].count().reindex(prov.index) == units) & (units > 0)
        prov[f"pop:{key}"] = prov["area_population"].where(
            everyone, by_month[f"pop:{key}"].sum(min_count=1).reindex(prov.index)
        )
        prov[f"known:{key}"] = (
            by_month[key]
            .sum(min_count=1)
            .reindex(prov.index)
            .where(everyone, by_month[f"known:{key}"].sum(min_count=1).reindex(prov.index))
        )


def _like_for_like(facts: Frame, registry: Registry, submitted: Frame, catalog: Frame | None, scope: Scope) -> Frame:
    """Per (month, unit, indicator): the change from the month before over the figures present
    in both months only (the same units, communes and platforms), and the previous value over them.

    A unit, commune or platform row that is missing (not sent, or rejected) in either month is
    left out of both, so a partial month is never compared with a full one. Rows are matched
    through the registry (compare.like_rows): a code that names another unit in the month before
    is never matched on its code; the communes of an area unit whose area changed are matched
    with the communes of the month before that lie in them.
    """
    columns = ["month", "unit", "indicator", "lfl_previous", "lfl_change"]
    months = sorted(set(submitted["month"])) if not submitted.empty else []
    cw = crosswalk(registry)
    nows, thens, sums = [], [], []
    for month in months:
        before = month_before(month)
        if before not in months:
            continue
        now, then, team_sums = like_rows(facts, cw, before, month)
        if now.empty or then.empty:
            continue
        nows.append(now)
        thens.append(then)
        sums.append(team_sums.assign(month=month))
    if not nows:
        return pd.DataFrame(columns=columns)
    # every month's rows in one table, and every month before's in another: each month appears
    # once in each, and nothing joins two months in them (no month-before figure is taken)
    now_values = _month_values(pd.concat(nows, ignore_index=True), registry, catalog, scope, cw)
    then_values = _month_values(pd.concat(thens, ignore_index=True), registry, catalog, scope, cw)
    then_values["month"] = [month_after(m) for m in then_values["month"]]
    frame = now_values.merge(then_values, on=["month", "unit", "indicator"], how="left", suffixes=("", "_before"))
    # a unit compared on its code only when it is the same unit in both months
    same = np.array([cw.same(u, m, month_before(m)) for m, u in zip(frame["month"], frame["unit"])], dtype=bool)
    frame = frame[same]
    frame = frame.assign(lfl_previous=frame["value_before"], lfl_change=frame["value"] - frame["value_before"])
    team = pd.concat(sums, ignore_index=True)
    team = team.assign(lfl_change=team["lfl_now"] - team["lfl_previous"])
    parts = [p[columns] for p in (frame, team) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"lfl_previous": float, "lfl_change": float})


def _month_values(rows: Frame, registry: Registry, catalog, scope: Scope, cw: Crosswalk) -> Frame:
    """The indicator values of each month of `rows` over `rows` only (month, unit, indicator,
    value), without a month-before figure."""
    subs = rows[["month", "unit"]].drop_duplicates()
    values = compute(_base(rows, registry, subs, catalog, scope, cw, previous=False))
    return values[["month", "unit", "indicator", "value"]]
