"""The figures of the units of 2025 and later: each one added up from the shares of the old units
it holds (dxreport.sample.lineage), so that every series of the city goes on without a jump."""

from __future__ import annotations

import math
import re
from typing import Any

from dxreport import forms
from dxreport.sample.figures import (
    _ADOPTION,
    _active_share,
    _agency_platform_plan,
    _clamp,
    _commune_figures,
    _district_platform_plan,
    _grown_share,
    _platform_name,
    _rng,
    _sme_curve,
    province_downloads,
)
from dxreport.sample.lineage import Lineage, Origin
from dxreport.sample.model import FIELD_REPORTS_BASE, FIELD_REPORTS_STEP
from dxreport.sample.profiles import (
    _AGENCY_DEFAULT_PROFILE,
    _AGENCY_PROFILES,
    _AGENCY_STAFF,
    _DISTRICT_PROFILES,
    _PROPOSALS_LATER,
)
from dxreport.textnorm import fold
from dxreport.units import Unit

#: From this month the department is Sở Khoa học và Công nghệ, under Bộ Khoa học và Công nghệ.
MERGED_MINISTRY = "2025-03"


def _department(month: str) -> str:
    return "Sở KH&CN" if month >= MERGED_MINISTRY else "Sở TT&TT"


def _ministry(month: str) -> str:
    return "Bộ KH&CN" if month >= MERGED_MINISTRY else "Bộ TT&TT"


def slug(unit: Unit) -> str:
    """A unit's short name folded to letters and digits (`Phú Xuân` → `phuxuan`)."""
    return re.sub(r"[^a-z0-9]", "", fold(unit.short_name or unit.name))


def _old_traits(seed: int, lineage: Lineage) -> dict[str, dict[str, float]]:
    """Per old district: population, adoption of Hue-S, weight in field reports, accounts offset."""
    out = {}
    for u in lineage.old_areas:
        pop = float(u.population or 0)
        out[u.code] = {
            "pop": pop,
            "weight": pop * (1.35 if u.kind == "thanh_pho" else 1.0),
            "adoption": pop * _ADOPTION.get(u.kind, 1.0) * _rng(seed, u.code, "adoption").uniform(0.88, 1.12),
            "offset": _rng(seed, u.code, "hue_s").uniform(-0.03, 0.03),
            "staff": 150.0 + 30.0 * len(lineage.old_communes[u.code]),
        }
    return out


def _share(origins: list[Origin], traits: dict[str, dict[str, float]], key: str) -> float:
    return sum(o.weight * traits[o.unit.code][key] for o in origins)


def hue_s(seed: int, month: str, t: int, areas: list[Unit], lineage: Lineage) -> dict[str, dict[str, Any]]:
    """True Hue-S figures of every area unit of a later month."""
    traits = _old_traits(seed, lineage)
    total_w = sum(v["weight"] for v in traits.values()) or 1.0
    total_adoption = sum(v["adoption"] for v in traits.values()) or 1.0
    province_received = (FIELD_REPORTS_BASE + FIELD_REPORTS_STEP * _clamp(t, 0, 11)) * _rng(
        seed, month, "tinh", "hue_s"
    ).uniform(0.975, 1.02)
    downloads_total = province_downloads(t)
    out = {}
    for u in areas:
        origins = lineage.origins(u)
        adoption = _share(origins, traits, "adoption")
        offset = (
            sum(o.weight * traits[o.unit.code]["adoption"] * traits[o.unit.code]["offset"] for o in origins) / adoption
            if adoption
            else 0.0
        )
        rng = _rng(seed, month, u.code, "hue_s")
        downloads = round(downloads_total * adoption / total_adoption)
        ratio = _clamp(0.60 + 0.08 * t / 11, 0.55, 0.75) + offset
        received = round(province_received * _share(origins, traits, "weight") / total_w * rng.uniform(0.92, 1.08))
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


def to_cns(seed: int, month: str, t: int, unit: Unit, lineage: Lineage) -> list[dict[str, Any]]:
    """True `Tổ công nghệ số` rows of an area unit of a later month: one per commune (a commune-level
    unit's only row is itself), each the sum of the old communes that lie in it."""
    rows = []
    for commune in lineage.registry.communes(unit.code, month):
        row: dict[str, Any] = {"commune_code": commune.code, "commune_name": commune.name}
        parts = [_commune_figures(seed, month, t, old) for old in lineage.old_communes_of(commune)]
        for key in ("teams", "members", "trainings", "trained", "households"):
            row[key] = sum(p[key] for p in parts)
        rows.append(row)
    return rows


def _sme_traits(seed: int, district: Unit) -> tuple[float, float]:
    """(reach in 12/2022, share using platforms in 01/2022) of an old district."""
    stable = _rng(seed, district.code, "sme")
    per_thousand = 1.8 if district.kind == "thanh_pho" else stable.uniform(0.8, 1.4)
    using_base = stable.uniform(0.14, 0.17)
    return (district.population or 0) / 1000 * per_thousand, using_base


def doanh_nghiep(seed: int, month: str, t: int, unit: Unit, lineage: Lineage) -> dict[str, Any]:
    """True `Doanh nghiệp` row of an area unit of a later month."""
    parts = [(o.weight, *_sme_traits(seed, o.unit)) for o in lineage.origins(unit)]
    ct = _clamp(t, 0, 11)

    def reached_at(tt: int) -> float:
        return sum(w * end * _sme_curve(tt) for w, end, _ in parts)

    reached = round(reached_at(t))
    using = sum(w * end * _sme_curve(t) * (base + 0.08 * ct / 11) for w, end, base in parts)
    rng = _rng(seed, month, unit.code, "sme")
    supported = round(max(0.0, reached_at(t) - reached_at(t - 1)) * rng.uniform(0.2, 0.5)) + rng.randint(1, 3)
    return {
        "sme_reached": reached,
        "sme_using": min(reached, math.floor(using)),
        "dbi_assessed": math.floor(reached * (0.04 + 0.12 * ct / 11)),
        "sme_supported": supported,
    }


def _plans(seed: int, unit: Unit, origins: list[Origin]) -> list[tuple[Origin, dict[str, str]]]:
    if unit.type == "agency":
        return [(o, dict(_agency_platform_plan(seed, o.unit))) for o in origins]
    return [(o, dict(_district_platform_plan(seed, o.unit))) for o in origins]


def _figures(
    seed: int, month: str, t: int, unit: Unit, origin: Origin, pid: str, status: str, traits: dict
) -> tuple[int, int, int]:
    """(accounts, active users, uses) of one platform in the share of one old unit."""
    stable = _rng(seed, origin.unit.code, pid, "profile")
    if origin.unit.type == "agency":
        share0, per_user, _ = _AGENCY_PROFILES.get(pid, _AGENCY_DEFAULT_PROFILE)
        growth, active = stable.uniform(0.003, 0.02), (0.40, 0.90)
        code = origin.unit.code
        base = float(_AGENCY_STAFF.get(code) or _rng(seed, code, "staff").randint(45, 160))
    else:
        scale, share0, growth, active, per_user, _ = _DISTRICT_PROFILES[pid]
        base = traits[origin.unit.code]["pop" if scale == "people" else "staff"]
    share0 *= stable.uniform(0.8, 1.2)
    if status == "dang_thu_nghiem":
        share0 *= 0.08
    base *= origin.weight
    share = share0 * (1 + growth) ** t if t <= 11 else _grown_share(share0, growth, t)
    accounts = max(3, math.floor(base * share))
    rng = _rng(seed, month, unit.code, origin.unit.code, pid)
    mau = math.floor(accounts * _active_share(pid, *active, t, rng))
    return accounts, mau, round(mau * rng.uniform(*per_user))


def platform_rows(
    seed: int,
    month: str,
    t: int,
    unit: Unit,
    names: dict[str, str],
    aliases: dict[str, tuple[str, ...]],
    lineage: Lineage,
) -> list[dict[str, Any]]:
    """True `Nền tảng` rows of a unit of a later month: the platforms its old units listed, each
    with the sum of their figures; in use when one of them used it."""
    origins = lineage.origins(unit)
    plans = _plans(seed, unit, origins)
    traits = _old_traits(seed, lineage)
    order: list[str] = []
    for _, plan in plans:
        order += [pid for pid in plan if pid not in order]
    area = unit.type != "agency"
    where = unit.short_name or unit.name
    kind = lineage.registry.kind_word(unit.kind) or "đơn vị"
    main = origins[0].unit if origins else unit
    fills_ids = _rng(seed, main.code, "fills_ids").random() < 0.5
    rows = []
    for pid in order:
        sources = [(o, plan[pid]) for o, plan in plans if pid in plan]
        deployed = [(o, s) for o, s in sources if s != "chua_trien_khai"]
        first = sources[0][0].unit
        stable = _rng(seed, first.code, pid, "listing")
        if not deployed:
            status = "chua_trien_khai"
        else:
            status = "dang_su_dung" if any(s == "dang_su_dung" for _, s in deployed) else "dang_thu_nghiem"
        if pid == "local":
            name, alias, pid_text = f"Ứng dụng {first.short_name or first.name} số", False, None
        else:
            name, alias = _platform_name(seed, first, pid, names, aliases)
            pid_text = pid if fills_ids and not alias else None
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
            templates = _PROPOSALS_LATER[unit.type]
            row["proposal"] = templates[stable.randrange(len(templates))].format(
                name=names.get(pid, name), where=where, dept=_department(month), kind=kind
            )
            row["lgsp"] = forms.YES_NO_CHOICES["khong"]
            rows.append(row)
            continue
        figures = [_figures(seed, month, t, unit, o, pid, s, traits) for o, s in deployed]
        row.update(accounts=sum(f[0] for f in figures), mau=sum(f[1] for f in figures), uses=sum(f[2] for f in figures))
        if area:
            lgsp = _DISTRICT_PROFILES[pid][5]
        else:
            lgsp = _AGENCY_PROFILES.get(pid, _AGENCY_DEFAULT_PROFILE)[2]
        connected = lgsp if stable.random() > 0.1 else not lgsp
        row["lgsp"] = forms.YES_NO_CHOICES["co" if connected or pid == "cq-lgsp" else "khong"]
        if status == "dang_thu_nghiem":
            if unit.type == "commune":
                row["note"] = "Đang thử nghiệm tại một số thôn, tổ dân phố"
            elif area:
                row["note"] = f"Đang thử nghiệm tại {stable.randint(2, 5)} xã, phường"
            else:
                row["note"] = "Đang chạy thử tại đơn vị"
        elif pid == "local":
            maker = "huyện" if first.code == unit.code else lineage.registry.in_sentence(first) + " (cũ)"
            row["note"] = f"Ứng dụng do {maker} tự xây dựng, chưa có trong danh mục của {_ministry(month)}"
        elif pid == "nd-pccovid":
            row["note"] = "Người dùng giảm do dịch COVID-19 đã được kiểm soát"
        elif stable.random() < 0.15:
            row["note"] = "Số liệu lũy kế từ khi triển khai"
        rows.append(row)
    return rows
