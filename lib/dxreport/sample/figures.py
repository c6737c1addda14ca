"""The figures of the sample: the series through the public anchors, and each sheet's rows for a unit and month."""

from __future__ import annotations

import math
import random
from typing import Any

from dxreport import forms
from dxreport.sample.model import (
    BASE_MONTH,
    FIELD_REPORTS_BASE,
    FIELD_REPORTS_STEP,
    HUES_DOWNLOADS_2022_01,
    HUES_DOWNLOADS_2022_07,
    HUES_DOWNLOADS_2022_12,
    _LOCAL_PLATFORM_UNIT,
)
from dxreport.sample.profiles import (
    _AGENCY_DEFAULT_PROFILE,
    _AGENCY_PLATFORMS,
    _AGENCY_PROFILES,
    _AGENCY_STAFF,
    _ALWAYS_DEPLOYED,
    _DISTRICT_CORE,
    _DISTRICT_OPTIONAL,
    _DISTRICT_PROFILES,
    _FORCED_ALIASES,
    _NOT_YET_DEPLOYABLE,
    _PROPOSALS,
)
from dxreport.units import Registry, Unit


def month_index(month: str) -> int:
    """Months since 2022-01 (2022-01 → 0, 2022-12 → 11, 2021-12 → -1)."""
    y, m = map(int, month.split("-"))
    by, bm = map(int, BASE_MONTH.split("-"))
    return (y - by) * 12 + (m - bm)


def _solve_downloads_curve() -> tuple[float, float]:
    """(C, k) of D(t) = D0 + C (1 - e^(-k t)) through the 01, 07 and 12/2022 anchors."""
    target = (HUES_DOWNLOADS_2022_07 - HUES_DOWNLOADS_2022_01) / (HUES_DOWNLOADS_2022_12 - HUES_DOWNLOADS_2022_01)
    lo, hi = 1e-4, 5.0
    for _ in range(100):
        k = (lo + hi) / 2
        ratio = (1 - math.exp(-6 * k)) / (1 - math.exp(-11 * k))
        lo, hi = (k, hi) if ratio < target else (lo, k)
    k = (lo + hi) / 2
    c = (HUES_DOWNLOADS_2022_12 - HUES_DOWNLOADS_2022_01) / (1 - math.exp(-11 * k))
    return c, k


_DL_C, _DL_K = _solve_downloads_curve()


#: After 2022 the curve slows down more gently: months over which its rate of 12/2022 decays by e.
_DL_LATER_MONTHS = 24


def province_downloads(t: int) -> float:
    """Hue-S downloads to date summed over the districts at month index t (smooth, increasing).

    Through 2022 the curve through the three anchors; after it the same rate at first, decaying
    over _DL_LATER_MONTHS (about 120 a month by 2026)."""
    if t > 11:
        rate = _DL_C * _DL_K * math.exp(-_DL_K * 11)
        return province_downloads(11) + rate * _DL_LATER_MONTHS * (1 - math.exp(-(t - 11) / _DL_LATER_MONTHS))
    if t >= 0:
        return HUES_DOWNLOADS_2022_01 + _DL_C * (1 - math.exp(-_DL_K * t))
    slope = _DL_C * _DL_K / HUES_DOWNLOADS_2022_01
    return HUES_DOWNLOADS_2022_01 * math.exp(slope * t)


def _grown_share(share0: float, growth: float, t: int) -> float:
    """A platform's accounts as a share of its base after 2022: from its 12/2022 share towards
    90% (or its 12/2022 share when higher), at the platform's growth rate."""
    start = share0 * (1 + growth) ** 11
    ceiling = max(start, 0.9)
    return start + (ceiling - start) * (1 - math.exp(-growth * (t - 11)))


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _sme_curve(t: int) -> float:
    """Share of a district's 12/2022 SME reach attained at month index t (non-decreasing)."""
    if t <= 0:
        return 0.35 * max(0.0, 1 + t / 24)
    if t <= 11:
        return 0.35 + 0.65 * (t / 11) ** 1.4
    return 1 + 0.04 * (t - 11)


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


_ADOPTION = {"thanh_pho": 1.3, "thi_xa": 1.05, "huyen": 0.8}


def _hue_s(seed: int, month: str, t: int, districts: list[Unit]) -> dict[str, dict[str, Any]]:
    """True Hue-S figures of every district for the month."""
    pops = {u.code: float(u.population or 0) for u in districts}
    weights = {u.code: pops[u.code] * (1.35 if u.kind == "thanh_pho" else 1.0) for u in districts}
    total_w = sum(weights.values()) or 1.0
    province_received = (FIELD_REPORTS_BASE + FIELD_REPORTS_STEP * _clamp(t, 0, 11)) * _rng(
        seed, month, "tinh", "hue_s"
    ).uniform(0.975, 1.02)
    downloads_total = province_downloads(t)
    # adoption differs: the city and towns ahead, mountain and lagoon districts behind
    adoption = {
        u.code: pops[u.code] * _ADOPTION.get(u.kind, 1.0) * _rng(seed, u.code, "adoption").uniform(0.88, 1.12)
        for u in districts
    }
    total_adoption = sum(adoption.values()) or 1.0
    out = {}
    for u in districts:
        stable = _rng(seed, u.code, "hue_s")
        ratio_offset = stable.uniform(-0.03, 0.03)
        rng = _rng(seed, month, u.code, "hue_s")
        downloads = round(downloads_total * adoption[u.code] / total_adoption)
        ratio = _clamp(0.60 + 0.08 * t / 11, 0.55, 0.75) + ratio_offset
        received = round(province_received * weights[u.code] / total_w * rng.uniform(0.92, 1.08))
        processed = math.floor(received * rng.uniform(0.965, 0.985))
        on_time = math.floor(processed * rng.uniform(0.90, 0.95))
        out[u.code] = {
            "downloads": downloads,
            "accounts": math.floor(downloads * ratio),
            "reports_received": received,
            "reports_processed": processed,
            "reports_on_time": on_time,
            "satisfaction": round(rng.uniform(78.0, 84.0), 1),
        }
    return out


def _commune_traits(seed: int, commune: Unit) -> tuple[int, int, float]:
    """(target teams, founding month index 1–3, members per team) of a commune."""
    rng = _rng(seed, commune.code, "teams")
    return rng.randint(6, 20), rng.randint(1, 3), rng.uniform(3.5, 6.0)


def _teams_at(target: int, start: int, t: int) -> int:
    if t < start:
        return 0
    frac = min(1.0, (t - start + 1) / (5 - start + 1))
    return math.ceil(target * frac)


def _commune_figures(seed: int, month: str, t: int, commune: Unit) -> dict[str, int]:
    """The `Tổ công nghệ số` figures of one commune of the old map."""
    target, start, per_team = _commune_traits(seed, commune)
    teams = _teams_at(target, start, t)
    members = min(7 * teams, round(teams * per_team) + math.floor(teams * 0.04 * max(0, t - 5)))
    rng = _rng(seed, month, commune.code, "to_cns")
    if t >= start:
        trainings = rng.randint(1, 4)
        trained = trainings * rng.randint(12, 30)
        households = round(teams * rng.uniform(3.0, 10.0))
    else:
        trainings = trained = households = 0
    return {"teams": teams, "members": members, "trainings": trainings, "trained": trained, "households": households}


def _to_cns(seed: int, month: str, t: int, registry: Registry, district: Unit) -> list[dict[str, Any]]:
    """True `Tổ công nghệ số` rows of a district, one per commune."""
    return [
        {"commune_code": commune.code, "commune_name": commune.name, **_commune_figures(seed, month, t, commune)}
        for commune in registry.communes(district.code, month)
    ]


def _doanh_nghiep(seed: int, month: str, t: int, district: Unit) -> dict[str, Any]:
    """True `Doanh nghiệp` row of a district."""
    stable = _rng(seed, district.code, "sme")
    per_thousand = 1.8 if district.kind == "thanh_pho" else stable.uniform(0.8, 1.4)
    using_base = stable.uniform(0.14, 0.17)
    end = (district.population or 0) / 1000 * per_thousand

    def reached_at(tt: int) -> int:
        return round(end * _sme_curve(tt))

    reached = reached_at(t)
    ct = _clamp(t, 0, 11)
    rng = _rng(seed, month, district.code, "sme")
    supported = round(max(0, reached - reached_at(t - 1)) * rng.uniform(0.2, 0.5)) + rng.randint(0, 2)
    return {
        "sme_reached": reached,
        "sme_using": math.floor(reached * (using_base + 0.08 * ct / 11)),
        "dbi_assessed": math.floor(reached * (0.04 + 0.12 * ct / 11)),
        "sme_supported": supported,
    }


def _active_share(pid: str, lo: float, hi: float, t: int, rng: random.Random) -> float:
    if pid == "nd-pccovid":  # COVID-19 waning through 2022
        return _clamp(0.25 - 0.02 * t, lo, 0.30) * rng.uniform(0.85, 1.0)
    share = rng.uniform(lo, hi)
    if pid == "nd-daytructuyen" and t % 12 + 1 in (6, 7, 8):  # summer holidays
        share *= 0.3
    return share


def _platform_name(
    seed: int, unit: Unit, pid: str, names: dict[str, str], aliases: dict[str, tuple[str, ...]]
) -> tuple[str, bool]:
    """(name the unit writes, True if it is an alias)."""
    forced = _FORCED_ALIASES.get((unit.code, pid))
    if forced:
        return forced, True
    rng = _rng(seed, unit.code, pid, "name")
    choices = aliases.get(pid, ())
    if choices and rng.random() < 0.15:
        return rng.choice(choices), True
    return names[pid], False


def _district_platform_plan(seed: int, unit: Unit) -> list[tuple[str, str]]:
    """[(platform id or 'local', status key)] of a district, stable across months."""
    rng = _rng(seed, unit.code, "platforms")
    not_deployed = rng.sample(_NOT_YET_DEPLOYABLE, rng.randint(1, 2))
    extra_count = rng.randint(max(1, len(not_deployed)), 5) - len(not_deployed)
    others = rng.sample([p for p in _DISTRICT_OPTIONAL if p not in not_deployed], extra_count)
    testing = set(rng.sample(others + ["nd-sskdt"], min(len(others) + 1, rng.randint(0, 2))))
    chosen = set(_DISTRICT_CORE) | set(not_deployed) | set(others)
    order = list(_DISTRICT_CORE) + list(_DISTRICT_OPTIONAL)
    plan = []
    for pid in order:
        if pid not in chosen:
            continue
        status = "chua_trien_khai" if pid in not_deployed else "dang_thu_nghiem" if pid in testing else "dang_su_dung"
        plan.append((pid, status))
    if unit.code == _LOCAL_PLATFORM_UNIT:
        plan.append(("local", "dang_su_dung"))
    return plan


def _agency_platform_plan(seed: int, unit: Unit) -> list[tuple[str, str]]:
    rng = _rng(seed, unit.code, "platforms")
    plan = [("cq-lgsp", "dang_su_dung"), ("cq-hop", "dang_su_dung")]
    for n, pid in enumerate(_AGENCY_PLATFORMS.get(unit.code, ("nd-dvc",))):
        r = rng.random()
        if n == 0:  # the platform of the agency's own field is in use
            r = 1.0
        elif unit.code in _ALWAYS_DEPLOYED:
            r = max(r, 0.10)
        status = "chua_trien_khai" if r < 0.10 else "dang_thu_nghiem" if r < 0.30 else "dang_su_dung"
        plan.append((pid, status))
    return plan


def _platform_rows(
    seed: int,
    month: str,
    t: int,
    registry: Registry,
    unit: Unit,
    names: dict[str, str],
    aliases: dict[str, tuple[str, ...]],
) -> list[dict[str, Any]]:
    """True `Nền tảng` rows of a unit."""
    is_district = unit.type == "district"
    plan = _district_platform_plan(seed, unit) if is_district else _agency_platform_plan(seed, unit)
    fills_ids = _rng(seed, unit.code, "fills_ids").random() < 0.5
    where = unit.short_name or unit.name
    if is_district:
        people = float(unit.population or 0)
        staff = 150.0 + 30.0 * len(registry.children(unit.code, month))
    else:
        people = 0.0
        staff = float(_AGENCY_STAFF.get(unit.code) or _rng(seed, unit.code, "staff").randint(45, 160))
    rows = []
    for pid, status in plan:
        stable = _rng(seed, unit.code, pid, "profile")
        rng = _rng(seed, month, unit.code, pid)
        if pid == "local":
            name, alias, pid_text = f"Ứng dụng {where} số", False, None
        else:
            name, alias = _platform_name(seed, unit, pid, names, aliases)
            pid_text = pid if fills_ids and not alias else None
        if is_district:
            scale, share0, growth, active, per_user, lgsp = _DISTRICT_PROFILES[pid]
            base = people if scale == "people" else staff
        else:
            share0, per_user, lgsp = _AGENCY_PROFILES.get(pid, _AGENCY_DEFAULT_PROFILE)
            growth, active, base = stable.uniform(0.003, 0.02), (0.40, 0.90), staff
        share0 *= stable.uniform(0.8, 1.2)
        row: dict[str, Any] = {
            "platform_id": pid_text,
            "platform_name": name,
            "status": forms.STATUS_CHOICES[status],
            "accounts": None,
            "mau": None,
            "uses": None,
            "lgsp": None,
            "proposal": None,
            "note": None,
        }
        if status == "chua_trien_khai":
            templates = _PROPOSALS[unit.type]
            row["proposal"] = templates[stable.randrange(len(templates))].format(name=names.get(pid, name), where=where)
            row["lgsp"] = forms.YES_NO_CHOICES["khong"]
        else:
            if status == "dang_thu_nghiem":
                share0 *= 0.08
            accounts = max(
                3, math.floor(base * share0 * (1 + growth) ** t if t <= 11 else base * _grown_share(share0, growth, t))
            )
            mau = math.floor(accounts * _active_share(pid, *active, t, rng))
            row.update(accounts=accounts, mau=mau, uses=round(mau * rng.uniform(*per_user)))
            connected = lgsp if stable.random() > 0.1 else not lgsp
            row["lgsp"] = forms.YES_NO_CHOICES["co" if connected or pid == "cq-lgsp" else "khong"]
            if status == "dang_thu_nghiem":
                row["note"] = (
                    f"Đang thử nghiệm tại {stable.randint(2, 5)} xã, phường"
                    if is_district
                    else "Đang chạy thử tại đơn vị"
                )
            elif pid == "local":
                row["note"] = "Ứng dụng do huyện tự xây dựng, chưa có trong danh mục của Bộ TT&TT"
            elif pid == "nd-pccovid" and t >= 6:
                row["note"] = "Người dùng giảm do dịch COVID-19 đã được kiểm soát"
            elif stable.random() < 0.15:
                row["note"] = "Số liệu lũy kế từ khi triển khai"
        rows.append(row)
    return rows
