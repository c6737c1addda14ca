"""Comparing two months without joining them on a code alone.

A code is not a unit: 474 was thành phố Huế until 2024 and quận Thuận Hóa in 2025, 19753 was
phường Thuận Lộc and is phường Phú Xuân from 2025-07. Two months are compared for a unit only
when the registry says the code names the same unit with the same area in both
(`Registry.same_unit`), in the same role (`Crosswalk.same`). For an area unit whose area changed
(or that did not report for an area in the other month), the `Tổ công nghệ số` sums of the
earlier month are rebuilt from the old communes' rows (through the crosswalk, `predecessors`)
when every one of them has a valid row; every other figure of such a unit is not comparable.

Everything costly is worked out once per registry and pair of months (`crosswalk`): which codes
are the same unit, which communes of the earlier month lie in each unit of the later one, and
which area unit holds each commune. A month of forty area units costs a few milliseconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dxreport.kpis.indicators import Frame
from dxreport.params import PROVINCE
from dxreport.units import Registry, Unit

#: The `Tổ công nghệ số` sums that can be rebuilt from the old communes' rows: metric of the
#: facts (sheet `to_cns`) → indicator.
TEAM_SUMS = {
    "teams": "teams",
    "members": "members",
    "trainings": "trainings",
    "trained": "trained",
    "households": "households",
}
TEAM_SHEET = "to_cns"

#: How a figure is compared with another month (columns `previous_basis`, `last_year_basis`).
SAME = "same"  # the code names the same unit with the same area
REBUILT = "rebuilt"  # the earlier figure is rebuilt from the old communes' rows
NOT_COMPARABLE = "not_comparable"  # the area changed and the figure cannot be rebuilt

REBUILT_COLUMNS = ["month", "other", "unit", "indicator", "rebuilt", "uncertain"]


class Crosswalk:
    """A registry's look-ups across months, cached per code and pair of months."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self._holders: dict[str, dict[str, str]] = {}
        self._areas: dict[str, tuple[str, ...]] = {}
        self._agencies: dict[str, tuple[str, ...]] = {}
        self._roles: dict[str, dict[str, str]] = {}
        self._communes: dict[tuple[str, str], tuple[str, ...]] = {}
        self._maps: dict[tuple[str, str], dict[str, tuple[str | None, bool]]] = {}
        self._segments: dict[tuple[str, str], str] = {}

    # --- one month ----------------------------------------------------------------------
    def row(self, code: str, month: str) -> Unit | None:
        """The registry row of `code` in `month`, or None."""
        return next((u for u in self.registry.rows(code) if u.valid_in(month)), None)

    def area_units(self, month: str) -> tuple[str, ...]:
        """The codes of the month's area units."""
        if month not in self._areas:
            try:
                self._areas[month] = tuple(u.code for u in self.registry.area_units(month))
            except KeyError:  # a month before the registry's first province
                self._areas[month] = ()
        return self._areas[month]

    def agencies(self, month: str) -> tuple[str, ...]:
        """The codes of the month's agencies."""
        if month not in self._agencies:
            self._agencies[month] = tuple(u.code for u in self.registry.agencies(month))
        return self._agencies[month]

    def communes(self, code: str, month: str) -> tuple[str, ...]:
        """The commune-level units of area unit `code` in `month` (the rows of its teams sheet)."""
        key = (str(code), month)
        if key not in self._communes:
            self._communes[key] = tuple(c.code for c in self.registry.communes(code, month))
        return self._communes[key]

    def holders(self, month: str) -> dict[str, str]:
        """Commune code → the area unit of `month` that holds it."""
        if month not in self._holders:
            self._holders[month] = {c: area for area in self.area_units(month) for c in self.communes(area, month)}
        return self._holders[month]

    # --- two months ---------------------------------------------------------------------
    def same_unit(self, code: str, month: str, other: str) -> bool:
        """`Registry.same_unit` (which keeps its answers); the province is always itself."""
        return str(code) == PROVINCE or self.registry.same_unit(str(code), month, other)

    def role(self, code: str, month: str) -> str:
        """`province`, `area`, `agency`, or '' for a code that does not report in `month`."""
        code = str(code)
        if code == PROVINCE:
            return "province"
        if month not in self._roles:  # one look-up per code, also for a national month of 3,321 units
            roles = dict.fromkeys(self.agencies(month), "agency")
            roles.update(dict.fromkeys(self.area_units(month), "area"))
            self._roles[month] = roles
        return self._roles[month].get(code, "")

    def same(self, code: str, month: str, other: str) -> bool:
        """Whether two months may be joined on `code`: it reports in both, in the same role, and
        names the same unit with the same area (`same_unit`). Dương Nỗ (19909) is the same
        commune in 06/2025 and 07/2025, but only reports from 07/2025: not joined on its code."""
        role = self.role(code, month)
        return bool(role) and role == self.role(code, other) and self.same_unit(code, month, other)

    def forward_map(self, earlier: str, later: str) -> dict[str, tuple[str | None, bool]]:
        """Every commune-level unit of `earlier` (in the area units' order) → the commune-level
        unit of `later` it lies in (None when the crosswalk does not say) and whether a step on
        the way is uncertain (`Registry.forward`)."""
        key = (earlier, later)
        if key not in self._maps:
            try:
                self._maps[key] = self.registry.forward_map(earlier, later)
            except KeyError:  # a month before the registry's first province
                self._maps[key] = {}
        return self._maps[key]

    def predecessors(self, code: str, month: str, earlier: str) -> tuple[tuple[str, ...], bool]:
        """The commune-level units of `earlier` that lie in area unit `code` of `month`, and
        whether any of them is an uncertain crosswalk row: `Registry.predecessors`, from one
        forward map per pair of months."""
        if self.row(code, month) is None:
            return (), False
        try:
            found, uncertain = self.registry.predecessors(str(code), month, earlier)
        except KeyError:  # a month before the registry's first province
            return (), False
        return tuple(c.code for c in found), uncertain

    def uncertain(self, code: str, month: str, other: str) -> bool:
        """Whether comparing area unit `code` of `month` with the earlier month `other` rests on
        an uncertain crosswalk row (its rows differ and its communes were followed through the
        crosswalk)."""
        code = str(code)
        if code == PROVINCE or code not in self.area_units(month):
            return False
        if other >= month:
            return False  # only an earlier month is ever rebuilt onto a later unit
        a, b = self.row(code, month), self.row(code, other)
        if a is not None and a is b:
            return False
        return self.predecessors(code, month, other)[1]

    def segment(self, code: str, month: str) -> str:
        """The first day of the run of registry rows that `code` names as one unit up to
        `month` (renamed rows continue it; a reused code or a changed area starts another)."""
        key = (str(code), month)
        if key not in self._segments:
            row = self.row(code, month)
            if row is None or str(code) == PROVINCE:
                self._segments[key] = ""
            else:
                rows = self.registry.rows(code)
                i = rows.index(row)
                while i > 0 and rows[i - 1].valid_to and self.same(code, month, rows[i - 1].valid_to[:7]):
                    i -= 1
                self._segments[key] = rows[i].valid_from
        return self._segments[key]


_CROSSWALKS: dict[int, tuple[Registry, Crosswalk]] = {}


def crosswalk(registry: Registry) -> Crosswalk:
    """The registry's cached look-ups (one Crosswalk per registry object)."""
    held = _CROSSWALKS.get(id(registry))
    if held is None or held[0] is not registry:
        if len(_CROSSWALKS) > 16:
            _CROSSWALKS.clear()
        held = (registry, Crosswalk(registry))
        _CROSSWALKS[id(registry)] = held
    return held[1]


# --- rebuilt figures --------------------------------------------------------------------------


def _team_rows(facts: Frame, month: str) -> pd.Series:
    """(commune, metric) → value of the month's valid `Tổ công nghệ số` rows."""
    part = facts[
        (facts["month"] == month)
        & (facts["sheet"] == TEAM_SHEET)
        & facts["metric"].isin(list(TEAM_SUMS))
        & facts["value"].notna()
    ]
    if part.empty:
        return pd.Series(dtype=float)
    return part.groupby([part["subject"].astype(str), "metric"])["value"].sum()


def rebuilt(facts: Frame | None, cw: Crosswalk, pairs) -> Frame:
    """The `Tổ công nghệ số` sums of an earlier month rebuilt onto area units whose area changed.

    `pairs`: (month, other, unit) with `other` before `month`. Each sum is that of the
    predecessor communes' rows of `other` (facts with sheet `to_cns`, subject = commune code),
    given only when every predecessor has a valid row (else missing: not comparable);
    `uncertain` says that an uncertain crosswalk row was followed.
    """
    rows = []
    by_other: dict[str, list[tuple[str, str]]] = {}
    for month, other, unit in pairs:
        by_other.setdefault(other, []).append((month, unit))
    for other, wanted in by_other.items():
        values = _team_rows(facts, other) if facts is not None and not facts.empty else pd.Series(dtype=float)
        have = values.to_dict()
        for month, unit in wanted:
            preds, unsure = cw.predecessors(unit, month, other)
            for metric, name in TEAM_SUMS.items():
                got = [have.get((c, metric)) for c in preds]
                ok = bool(preds) and all(v is not None and not pd.isna(v) for v in got)
                rows.append(
                    {
                        "month": month,
                        "other": other,
                        "unit": unit,
                        "indicator": name,
                        "rebuilt": float(sum(got)) if ok else np.nan,
                        "uncertain": unsure,
                    }
                )
    return pd.DataFrame(rows, columns=REBUILT_COLUMNS)


def pack(rows: Frame) -> tuple:
    """Rebuilt rows as a tuple of records, to ride in a table's attrs (pandas compares attrs when
    it joins tables, which a DataFrame there would break)."""
    return tuple(rows[REBUILT_COLUMNS].itertuples(index=False, name=None))


def unpack(rows) -> Frame | None:
    """The rows that `pack` made (a DataFrame is taken as it is; None stays None)."""
    if rows is None or isinstance(rows, pd.DataFrame):
        return rows
    return pd.DataFrame(list(rows), columns=REBUILT_COLUMNS)


def changed_area_units(cw: Crosswalk, month: str, other: str) -> list[str]:
    """The area units of `month` that are not the same unit in `other`."""
    return [u for u in cw.area_units(month) if not cw.same(u, month, other)]


# --- like for like across a change -----------------------------------------------------------

_KEY = ["sheet", "subject", "metric"]


def _components(cw: Crosswalk, before: str, month: str) -> list[tuple[set[str], set[str]]] | None:
    """The smallest groups of area units (of `before`, of `month`) that cover the same ground:
    each commune of `before` lies in a unit of `month` of the same group. Units that are the
    same unit in both months form a group of their own. Communes the crosswalk does not follow
    leave their units out."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        parent[find(a)] = find(b)

    holders_then, holders_now = cw.holders(before), cw.holders(month)
    broken = set()
    for area in cw.area_units(before):
        find(("then", area))
    for area in cw.area_units(month):
        find(("now", area))
    for commune, (target, _) in cw.forward_map(before, month).items():
        a = ("then", holders_then[commune])
        b = ("now", holders_now.get(target)) if target else None
        if b is None or b[1] is None:
            broken.add(find(a))
            continue
        union(a, b)
    groups: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for node in list(parent):
        root = find(node)
        then, now = groups.setdefault(root, (set(), set()))
        (then if node[0] == "then" else now).add(node[1])
    broken = {find(b) for b in broken}
    return [g for root, g in groups.items() if root not in broken and g[0] and g[1]]


def _keys(rows: Frame) -> Frame:
    return rows[["unit", *_KEY]].drop_duplicates()


def like_rows(facts: Frame, cw: Crosswalk, before: str, month: str) -> tuple[Frame, Frame, Frame]:
    """The rows of `month` and of `before` that cover the same ground, and the changed area
    units' team sums over it.

    Same units (agencies under the same name, area units with the same area) keep the rows
    present in both months, as before the reform. The `Tổ công nghệ số` rows go commune by
    commune: a commune of `month` counts when it has a valid row and every commune of `before`
    that lies in it has one. Other rows of area units whose area changed count by groups of
    units covering the same ground (`_components`), when every unit of the group has the row
    in both months. Returns (rows of month, rows of before, team sums of changed units: unit,
    indicator, lfl_previous, lfl_now).
    """
    now = facts[facts["month"] == month]
    then = facts[facts["month"] == before]
    is_team_now, is_team_then = now["sheet"] == TEAM_SHEET, then["sheet"] == TEAM_SHEET
    areas_now, areas_then = set(cw.area_units(month)), set(cw.area_units(before))

    # same units, rows other than the teams sheet: the rows present in both months
    same = {u for u in set(now["unit"]) | set(then["unit"]) if cw.same(u, month, before)}
    other_now = now[~is_team_now & now["unit"].isin(same)]
    other_then = then[~is_team_then & then["unit"].isin(same)]
    common = _keys(other_now).merge(_keys(other_then), on=["unit", *_KEY])
    parts_now = [other_now.merge(common, on=["unit", *_KEY])]
    parts_then = [other_then.merge(common, on=["unit", *_KEY])]

    # area units whose area changed: by groups covering the same ground
    changed_now = areas_now - same
    changed_then = areas_then - same
    if changed_now or changed_then:
        rest_now = now[~is_team_now & now["unit"].isin(changed_now)]
        rest_then = then[~is_team_then & then["unit"].isin(changed_then)]
        for group_then, group_now in _components(cw, before, month):
            if group_then <= same or not (group_then & changed_then or group_now & changed_now):
                continue
            rows_now = rest_now[rest_now["unit"].isin(group_now)]
            rows_then = rest_then[rest_then["unit"].isin(group_then)]
            if rows_now.empty or rows_then.empty:
                continue
            has_now = rows_now.groupby(_KEY, dropna=False)["unit"].nunique()
            has_then = rows_then.groupby(_KEY, dropna=False)["unit"].nunique()
            full = (has_now[has_now == len(group_now)].index).intersection(has_then[has_then == len(group_then)].index)
            if len(full) == 0:
                continue
            keep = pd.DataFrame(list(full), columns=_KEY)
            parts_now.append(rows_now.merge(keep, on=_KEY))
            parts_then.append(rows_then.merge(keep, on=_KEY))

    # the teams sheet, commune by commune
    team_now = now[is_team_now & now["unit"].isin(areas_now) & now["value"].notna()]
    team_then = then[is_team_then & then["unit"].isin(areas_then) & then["value"].notna()]
    fmap = cw.forward_map(before, month)
    target = team_then["subject"].astype(str).map(lambda c: fmap.get(c, (None, False))[0])
    preds: dict[str, list[str]] = {}
    for commune, (to, _) in fmap.items():
        if to is not None:
            preds.setdefault(to, []).append(commune)
    then_have = set(zip(team_then["subject"].astype(str), team_then["metric"]))
    ok = [
        bool(preds.get(d)) and all((c, metric) in then_have for c in preds[d])
        for d, metric in zip(team_now["subject"].astype(str), team_now["metric"])
    ]
    team_now = team_now[np.array(ok, dtype=bool)] if len(team_now) else team_now
    kept = set(zip(team_now["subject"].astype(str), team_now["metric"]))
    in_then = [(d, m) in kept for d, m in zip(target, team_then["metric"])]
    team_then_kept = team_then[np.array(in_then, dtype=bool)] if len(team_then) else team_then
    parts_now.append(team_now)
    parts_then.append(team_then_kept)

    # the changed units' team sums over the communes kept
    sums = []
    changed_team = team_now[team_now["unit"].isin(changed_now) & team_now["metric"].isin(list(TEAM_SUMS))]
    if not changed_team.empty:
        holder_now = cw.holders(month)
        t = team_then_kept[team_then_kept["metric"].isin(list(TEAM_SUMS))].assign(
            later=[holder_now.get(fmap.get(c, (None, False))[0] or "") for c in team_then_kept["subject"].astype(str)]
            if len(team_then_kept)
            else []
        )
        prev = t[t["later"].isin(changed_now)].groupby(["later", "metric"])["value"].sum()
        cur = changed_team.groupby(["unit", "metric"])["value"].sum()
        for (unit, metric), value in cur.items():
            sums.append(
                {
                    "unit": unit,
                    "indicator": TEAM_SUMS[metric],
                    "lfl_previous": float(prev.get((unit, metric), np.nan)),
                    "lfl_now": float(value),
                }
            )
    team_sums = pd.DataFrame(sums, columns=["unit", "indicator", "lfl_previous", "lfl_now"])
    columns = list(facts.columns)
    return (
        pd.concat(parts_now, ignore_index=True)[columns] if parts_now else now.iloc[:0],
        pd.concat(parts_then, ignore_index=True)[columns] if parts_then else then.iloc[:0],
        team_sums,
    )


# --- who reported: like totals of the province ------------------------------------------------


def same_ground(cw: Crosswalk, month: str, sent_now: set[str], other: str, sent_then: set[str]) -> tuple[bool, bool]:
    """Whether the units that reported in `month` and in `other` cover the same ground: (area
    units, agencies). Area units: the communes of `other` held by the units that reported then
    lie exactly in the communes held by those that report now. Agencies: the same agencies."""
    early, late = sorted((month, other))
    sent_early, sent_late = (sent_now, sent_then) if early == month else (sent_then, sent_now)
    fmap = cw.forward_map(early, late)
    covered_early = {c for u in sent_early if u in set(cw.area_units(early)) for c in cw.communes(u, early)}
    covered_late = {c for u in sent_late if u in set(cw.area_units(late)) for c in cw.communes(u, late)}
    moved = {fmap.get(c, (None, False))[0] for c in covered_early}
    # every commune of `late` reached from the reporting units of `early`, and no other
    reached = {c for c, (target, _) in fmap.items() if target in covered_late}
    areas = None not in moved and moved == covered_late and reached == covered_early
    agencies_early = {u for u in sent_early if u in set(cw.agencies(early))}
    agencies_late = {u for u in sent_late if u in set(cw.agencies(late))}
    agencies = agencies_early == agencies_late and all(cw.same(u, early, late) for u in agencies_late)
    return areas, agencies
