"""Who does what in a month (late, bad cell, resubmission, NFD text, variants), and when files arrive."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dxreport import months
from dxreport.sample.figures import _rng, month_index
from dxreport.sample.model import SAMPLE_TZ, _CAPS_UNIT
from dxreport.units import Registry, Unit, load_registry


@dataclass
class _Schedule:
    """Who does what in a month (see the docstring of dxreport.sample)."""

    index: int
    late: str | None
    bad: str | None
    bad_kind: str
    resubmit: str | None
    nfd: str | None
    variant: str | None
    caps: str | None
    wrong_period: str | None
    areas: list[Unit] = field(default_factory=list)  # districts until 2025-06, communes from 2025-07
    agencies: list[Unit] = field(default_factory=list)


def _schedule(month: str, registry: Registry) -> _Schedule:
    i = month_index(month)
    areas = registry.area_units(month)
    agencies = registry.agencies(month)
    nd, na = len(areas), len(agencies)

    def d(offset: int) -> str | None:
        return areas[(i + offset) % nd].code if nd else None

    def a(offset: int) -> str | None:
        return agencies[(i + offset) % na].code if na else None

    kind = {0: "text_in_count", 1: "mau_gt_accounts", 2: "members_lt_teams"}[i % 3]
    caps = _CAPS_UNIT if i % 3 == 2 and any(u.code == _CAPS_UNIT for u in agencies) else None
    wrong = a(6) if month.endswith("-12") else None
    late = a(0)
    return _Schedule(
        index=i,
        late=late,
        bad=d(8),
        bad_kind=kind,
        resubmit=d(4),
        nfd=d(2),
        variant=d(6),
        caps=caps,
        wrong_period=wrong,
        areas=areas,
        agencies=agencies,
    )


def file_names(month: str, *, registry: Registry | None = None) -> list[str]:
    """Names of the files the sample holds for `month`, in writing order."""
    registry = registry or load_registry()
    sched = _schedule(month, registry)
    names = []
    for unit in sched.areas + sched.agencies:
        names.append(f"{unit.code}_{month}.xlsx")
        if unit.code == sched.resubmit:
            names.append(f"{unit.code}_{month}_sua.xlsx")
    return names


def _arrival(
    seed: int,
    month: str,
    code: str,
    deadline_day: int,
    *,
    late: bool = False,
    early: bool = False,
    tag: str = "arrival",
) -> datetime:
    rng = _rng(seed, month, code, tag)
    first = months.first_day(months.following(month))
    if late:
        day = first + timedelta(days=deadline_day - 1 + rng.randint(1, 3))
    else:
        last_day = max(1, min(2 if early else 4, deadline_day - (1 if early else 0)))
        day = first + timedelta(days=rng.randint(1, last_day) - 1)
    clock = time(rng.randint(8, 14 if early else 16), rng.randint(0, 59), rng.randint(0, 59))
    return datetime.combine(day, clock, tzinfo=SAMPLE_TZ)


def _deadline(month: str, deadline_day: int) -> date:
    """The last day for the month's files: `deadline_day` of the following month."""
    return months.first_day(months.following(month)) + timedelta(days=deadline_day - 1)
