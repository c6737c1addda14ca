"""The plan of the month: every workbook with its tables, its format variants and its faults."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from dxreport import forms
from dxreport.params import PARAMS_DIR
from dxreport.sample import regrouped
from dxreport.sample.figures import _doanh_nghiep, _hue_s, _platform_rows, _rng, _to_cns
from dxreport.sample.lineage import Lineage, on_old_map
from dxreport.sample.model import HEADER_ROW, _CAPS_ORDER, _File, _STT, _Styled, _THONG_TIN_ROW, _Table
from dxreport.sample.profiles import _GIVEN, _MIDDLE, _SURNAMES, _aliases_by_id, _catalog_names
from dxreport.sample.schedule import _arrival, _deadline, _schedule
from dxreport.textnorm import fold, format_month, format_number
from dxreport.units import Registry, Unit


def _table(sheet: forms.Sheet, rows: list[dict[str, Any]]) -> _Table:
    return _Table(sheet, [f.key for f in sheet.fields], [f.header for f in sheet.fields], rows)


def _preparer(seed: int, unit: Unit, lineage: Lineage | None = None) -> tuple[str, str, str]:
    """(name, phone, email) of a unit's preparer, stable across months: the same person while the
    unit goes on whole; from 2025 the addresses are on hue.gov.vn."""
    if lineage is not None:
        rng = _rng(seed, lineage.trait_key(unit), "preparer")
    else:
        rng = _rng(seed, unit.code, "preparer")
    sex = rng.choice("mf")
    name = f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE[sex])} {rng.choice(_GIVEN[sex])}"
    phone = (
        f"0234 {rng.randint(3500000, 3899999)}"
        if rng.random() < 0.7
        else f"09{rng.randint(0, 9)}{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    )
    if lineage is not None:
        email = f"vanphong.{regrouped.slug(unit)}@hue.gov.vn" if unit.type != "agency" else f"{unit.code}@hue.gov.vn"
        return name, phone, email
    slug = fold(unit.short_name or unit.name).replace(" ", "") if unit.type == "district" else unit.code
    email = f"vanphong.{slug}@thuathienhue.gov.vn" if unit.type == "district" else f"{slug}@thuathienhue.gov.vn"
    return name, phone, email


def _text_number(value: Any, kind: str) -> str:
    if kind == forms.RATE:
        return format_number(value, 1) + "%"
    return format_number(value)


def _plan(
    month: str, registry: Registry, seed: int, deadline_day: int, params_dir: Path = PARAMS_DIR
) -> tuple[list[_File], list[dict[str, Any]]]:
    """Every workbook of the month, with its faults."""
    sched = _schedule(month, registry)
    t = sched.index
    names = _catalog_names()
    aliases = _aliases_by_id(str(params_dir))
    lineage = None if on_old_map(month) else Lineage(registry, month)
    if lineage is None:
        hue_s = _hue_s(seed, month, t, sched.areas)
    else:
        hue_s = regrouped.hue_s(seed, month, t, sched.areas, lineage)
    files: list[_File] = []
    faults: list[dict[str, Any]] = []
    period = format_month(month)

    for unit in sched.areas + sched.agencies:
        code = unit.code
        area = unit in sched.areas
        if lineage is None:
            tables = [_table(forms.NEN_TANG, _platform_rows(seed, month, t, registry, unit, names, aliases))]
            if area:
                tables += [
                    _table(forms.HUE_S, [dict(hue_s[code])]),
                    _table(forms.TO_CNS, _to_cns(seed, month, t, registry, unit)),
                    _table(forms.DOANH_NGHIEP, [_doanh_nghiep(seed, month, t, unit)]),
                ]
        else:
            tables = [_table(forms.NEN_TANG, regrouped.platform_rows(seed, month, t, unit, names, aliases, lineage))]
            if area:
                tables += [
                    _table(forms.HUE_S, [dict(hue_s[code])]),
                    _table(forms.TO_CNS, regrouped.to_cns(seed, month, t, unit, lineage)),
                    _table(forms.DOANH_NGHIEP, [regrouped.doanh_nghiep(seed, month, t, unit, lineage)]),
                ]
        wanted = {s.key for s in forms.sheets_for(unit.sections)}
        tables = [tb for tb in tables if tb.sheet.key in wanted]
        by_key = {tb.sheet.key: tb for tb in tables}
        rng = _rng(seed, month, code, "layout")
        preparer, phone, email = _preparer(seed, unit, lineage)
        arrival = _arrival(seed, month, code, deadline_day, late=code == sched.late, early=code == sched.resubmit)
        prepared = arrival.date() - timedelta(days=rng.randint(1, 2) if code == sched.resubmit else rng.randint(0, 1))
        unit_period = period
        protected: set[tuple[str, int, str]] = set()  # cells that must keep their value

        if code == sched.variant and "to_cns" in by_key:
            tb = by_key["to_cns"]
            tb.keys.insert(0, _STT)
            tb.headers.insert(0, "STT")
            for n, row in enumerate(tb.rows, start=1):
                row[_STT] = n
            if len(tb.rows) > 1:
                tb.blank_before = len(tb.rows) - 1
        if code == sched.variant and "hue_s" in by_key:
            row = by_key["hue_s"].rows[0]
            row["satisfaction"] = _Styled(round(row["satisfaction"] / 100, 3), "0.0%")
            protected.add(("hue_s", 0, "satisfaction"))
        if code == sched.caps and "nen_tang" in by_key:
            tb = by_key["nen_tang"]
            tb.keys = list(_CAPS_ORDER)
            tb.headers = [fold(forms.NEN_TANG.field(k).header).upper() for k in _CAPS_ORDER]
            faults.append(
                {
                    "unit": code,
                    "file": f"{code}_{month}.xlsx",
                    "kind": "header_variant",
                    "sheet": forms.NEN_TANG.name,
                    "cell": f"A{HEADER_ROW}:{get_column_letter(len(tb.keys))}{HEADER_ROW}",
                    "value": tb.headers[0],
                    "description": "Tiêu đề cột sheet Nền tảng viết hoa, không dấu (TEN NEN TANG…) và đổi thứ tự cột",
                }
            )

        if code == sched.bad:
            fault = _apply_bad_cell(sched.bad_kind, by_key, _rng(seed, month, code, "fault"))
            if fault:
                sheet_key, i, key, value, description, kind = fault
                protected.add((sheet_key, i, key))
                faults.append(
                    {
                        "unit": code,
                        "file": f"{code}_{month}.xlsx",
                        "kind": kind,
                        "sheet": forms.sheet(sheet_key).name,
                        "cell": by_key[sheet_key].address(i, key),
                        "value": value,
                        "description": description,
                    }
                )
        if code == sched.resubmit and "hue_s" in by_key:
            # the superseded copy scales these three; as real numbers they keep their order
            protected |= {("hue_s", 0, k) for k in ("reports_received", "reports_processed", "reports_on_time")}

        _textify_numbers(tables, protected, rng)

        if code == sched.wrong_period:
            y, m = map(int, month.split("-"))
            unit_period = f"{m - 1:02d}/{y}" if m > 1 else f"12/{y - 1}"
            faults.append(
                {
                    "unit": code,
                    "file": f"{code}_{month}.xlsx",
                    "kind": "wrong_period",
                    "sheet": forms.THONG_TIN.name,
                    "cell": f"B{_THONG_TIN_ROW['period']}",
                    "value": unit_period,
                    "description": f"Kỳ báo cáo ghi {unit_period} trong tệp gửi cho tháng {period}: cả tệp bị từ chối",
                }
            )
        if code == sched.late:
            faults.append(
                {
                    "unit": code,
                    "file": f"{code}_{month}.xlsx",
                    "kind": "late",
                    "sheet": None,
                    "cell": None,
                    "value": arrival.isoformat(),
                    "description": f"Tệp đến lúc {arrival:%H:%M} ngày {arrival:%d/%m/%Y}, "
                    f"sau hạn nộp ngày {_deadline(month, deadline_day):%d/%m/%Y}",
                }
            )
        if code == sched.nfd:
            faults.append(
                {
                    "unit": code,
                    "file": f"{code}_{month}.xlsx",
                    "kind": "nfd_text",
                    "sheet": None,
                    "cell": None,
                    "value": None,
                    "description": "Mọi chữ trong tệp (tên sheet, tiêu đề, tên xã, tên nền tảng) ở dạng Unicode NFD",
                }
            )

        info = {
            "unit_code": code,
            "period": unit_period,
            "preparer": preparer,
            "prepared_on": prepared,
            "phone": phone,
            "email": email,
            "form_version": forms.FORM_VERSION,
        }
        final = _File(unit, f"{code}_{month}.xlsx", month, unit_period, info, arrival, tables, nfd=code == sched.nfd)

        if code == sched.resubmit:
            first = _superseded_copy(final, _rng(seed, month, code, "resubmit"))
            final.name = f"{code}_{month}_sua.xlsx"
            final.arrival = arrival + timedelta(
                days=1 if arrival.day < deadline_day else 0, hours=0 if arrival.day < deadline_day else 2
            )
            final.info = dict(info, prepared_on=final.arrival.date())
            files.append(first)
            faults.append(
                {
                    "unit": code,
                    "file": first.name,
                    "kind": "superseded",
                    "sheet": forms.THONG_TIN.name,
                    "cell": f"B{_THONG_TIN_ROW['prepared_on']}",
                    "value": first.info["prepared_on"].isoformat(),
                    "description": f"Tệp đầu, được thay bằng {final.name} (Ngày lập muộn hơn)",
                }
            )
            faults.append(
                {
                    "unit": code,
                    "file": final.name,
                    "kind": "resubmission",
                    "sheet": forms.THONG_TIN.name,
                    "cell": f"B{_THONG_TIN_ROW['prepared_on']}",
                    "value": final.info["prepared_on"].isoformat(),
                    "description": f"Tệp gửi lại thay cho {first.name}: sửa số phản ánh Hue-S "
                    "và bổ sung số liệu Tổ công nghệ số",
                }
            )
        files.append(final)
    order = (
        "late",
        "text_in_count",
        "mau_gt_accounts",
        "members_lt_teams",
        "superseded",
        "resubmission",
        "nfd_text",
        "header_variant",
        "wrong_period",
    )
    faults.sort(key=lambda f: order.index(f["kind"]))
    return files, faults


def _apply_bad_cell(
    kind: str, by_key: dict[str, _Table], rng: random.Random
) -> tuple[str, int, str, Any, str, str] | None:
    """Put one bad value into the tables: (sheet key, row, field key, value, description, kind)."""
    to_cns = by_key.get("to_cns")
    if kind == "members_lt_teams" and to_cns and any(r["teams"] > 0 for r in to_cns.rows):
        i = max(range(len(to_cns.rows)), key=lambda j: (to_cns.rows[j]["teams"], -j))
        row = to_cns.rows[i]
        value = max(0, row["teams"] - rng.randint(1, max(1, row["teams"] // 2)))
        row["members"] = value
        return (
            "to_cns",
            i,
            "members",
            value,
            f"Số thành viên lũy kế ({value}) nhỏ hơn Số tổ lũy kế ({row['teams']}) của {row['commune_name']}",
            "members_lt_teams",
        )
    if kind == "mau_gt_accounts" and "nen_tang" in by_key:
        tb = by_key["nen_tang"]
        candidates = [j for j, r in enumerate(tb.rows) if r["accounts"]]
        if candidates:
            i = rng.choice(candidates)
            row = tb.rows[i]
            value = round(row["accounts"] * rng.uniform(1.1, 1.5)) + 1
            row["mau"] = value
            return (
                "nen_tang",
                i,
                "mau",
                value,
                f"Người dùng hoạt động trong tháng ({value}) lớn hơn Tài khoản lũy kế "
                f"({row['accounts']}) của {row['platform_name']}",
                "mau_gt_accounts",
            )
    if to_cns and to_cns.rows:
        i = rng.randrange(len(to_cns.rows))
        row = to_cns.rows[i]
        value = f"khoảng {max(10, int(round(row['trained'], -1)) or 50)}"
        row["trained"] = value
        return (
            "to_cns",
            i,
            "trained",
            value,
            f"Lượt người được tập huấn ghi bằng chữ “{value}” ở {row['commune_name']}",
            "text_in_count",
        )
    return None


def _textify_numbers(tables: list[_Table], protected: set[tuple[str, int, str]], rng: random.Random) -> None:
    """Write one to three valid numbers as Vietnamese text, preferring values of 1,000 or more."""
    big, small = [], []
    for tb in tables:
        for i, row in enumerate(tb.rows):
            for f in tb.sheet.fields:
                value = row.get(f.key)
                if f.kind not in (forms.COUNT, forms.RATE) or (tb.sheet.key, i, f.key) in protected:
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                (big if value >= 1000 or f.kind == forms.RATE else small).append((tb, i, f))
    pool = big if big else small
    for tb, i, f in rng.sample(pool, min(len(pool), rng.randint(1, 3))):
        tb.rows[i][f.key] = _text_number(tb.rows[i][f.key], f.kind)


def _superseded_copy(final: _File, rng: random.Random) -> _File:
    """The first, superseded file of a resubmitting unit: understated field reports, two empty cells."""
    tables = []
    for tb in final.tables:
        rows = [dict(r) for r in tb.rows]
        if tb.sheet.key == "hue_s" and rows:
            row, f = rows[0], rng.uniform(0.85, 0.95)
            for key in ("reports_received", "reports_processed", "reports_on_time"):
                if isinstance(row[key], int):
                    row[key] = math.floor(row[key] * f)
            if all(isinstance(row[k], int) for k in ("reports_received", "reports_processed", "reports_on_time")):
                row["reports_processed"] = min(row["reports_processed"], row["reports_received"])
                row["reports_on_time"] = min(row["reports_on_time"], row["reports_processed"])
        if tb.sheet.key == "to_cns" and rows:
            rows[-1]["trained"] = None
            rows[-1]["households"] = None
        tables.append(_Table(tb.sheet, list(tb.keys), list(tb.headers), rows, tb.blank_before))
    arrival = final.arrival
    info = dict(final.info)
    return _File(final.unit, final.name, final.month, final.period_text, info, arrival, tables, final.nfd)
