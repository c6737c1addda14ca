"""The deterministic sample submissions (dxreport.sample).

The files are read back here with a small reader written from spec/submission-form.md (fold
names, find the header row below the title block, parse Vietnamese numbers), so the figures
are checked as a reader of the form would see them, not as the generator meant them.
"""

from __future__ import annotations

import os
import time
import unicodedata
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from dxreport import forms, sample
from dxreport.catalog import Matcher, load_aliases, load_bundled
from dxreport.params import load_settings
from dxreport.textnorm import NumberFormatError, fold, format_month, parse_count, parse_rate
from dxreport.units import load_registry

MONTHS = ("2022-01", "2022-06", "2022-07", "2022-12")
VN = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh, no daylight saving time

# Public figures (DOMAIN.md)
HUES_DOWNLOADS_26_07_2022 = 793_050  # dantri.com.vn, 26/07/2022
HUES_DOWNLOADS_END_2022 = 800_000  # "over 800,000", ~12/2022
PROCESSED_SHARE_2022 = 97.5  # % of field reports processed, 26/07/2022

SHEET_BY_FOLD = {fold(s.name): s for s in forms.SHEETS}
CELL_FAULTS = ("text_in_count", "members_lt_teams", "mau_gt_accounts")


@lru_cache(maxsize=None)
def _faults(month):
    return tuple(sample.faults(month))


def month_faults(month):
    """sample.faults(month), computed once per test session."""
    return [dict(f) for f in _faults(month)]


# --- A reader written from the spec ----------------------------------------------------------


def _is_percent_cell(cell) -> bool:
    return isinstance(cell.value, (int, float)) and "%" in (cell.number_format or "")


def read_submission(path):
    """{'info': {field key: value}, 'tables': {sheet key: table}, 'sheet_names': [...], 'props': ...}.

    A table is {'columns': {field key: column index}, 'headers': [...], 'header_row': n,
    'rows': [(excel row number, {field key: cell})]}.
    """
    wb = load_workbook(path, read_only=True)
    out = {"info": {}, "tables": {}, "sheet_names": list(wb.sheetnames), "props": wb.properties}
    labels = {fold(f.header): f.key for f in forms.THONG_TIN.fields}
    for ws in wb.worksheets:
        sheet = SHEET_BY_FOLD[fold(ws.title)]
        grid = [list(r) for r in ws.iter_rows(min_row=1)]
        if sheet.key == "thong_tin":
            for row in grid:
                if row and row[0].value is not None:
                    out["info"][labels[fold(row[0].value)]] = row[1].value if len(row) > 1 else None
            continue
        wanted = {fold(f.header): f.key for f in sheet.fields}
        required = {fold(f.header) for f in sheet.fields if f.required}
        for h, row in enumerate(grid):
            folded = [fold(c.value) if isinstance(c.value, str) else None for c in row]
            if required <= set(folded):
                break
        else:
            raise AssertionError(f"{path.name}: no header row in {ws.title}")
        columns = {wanted[v]: j for j, v in enumerate(folded) if v in wanted}
        rows = []
        for i in range(h + 1, len(grid)):
            cells = grid[i]
            if all(c.value in (None, "") for c in cells):
                continue
            rows.append((i + 1, {k: cells[j] for k, j in columns.items() if j < len(cells)}))
        out["tables"][sheet.key] = {
            "columns": columns,
            "header_row": h + 1,
            "rows": rows,
            "headers": [c.value for c in grid[h]],
        }
    wb.close()
    return out


def value_of(cell, kind):
    """A cell read per the spec; NumberFormatError when it breaks the field kind."""
    if cell is None:
        return None
    if kind == forms.COUNT:
        return parse_count(cell.value)
    if kind == forms.RATE:
        return parse_rate(cell.value, percent_cell=_is_percent_cell(cell))
    return cell.value


def violations(sub):
    """[(sheet name, cell address)] of every cell that breaks a rule of the form."""
    bad = []
    for key, table in sub["tables"].items():
        sheet = forms.sheet(key)
        for rownum, cells in table["rows"]:
            values = {}
            for f in sheet.fields:
                cell = cells.get(f.key)
                addr = f"{get_column_letter(table['columns'][f.key] + 1)}{rownum}"
                try:
                    values[f.key] = value_of(cell, f.kind)
                except NumberFormatError:
                    bad.append((sheet.name, addr))
                    continue
                v = values[f.key]
                if f.required and v in (None, ""):
                    bad.append((sheet.name, addr))
                if f.kind == forms.CHOICE and v is not None and fold(v) not in {fold(c) for c in f.choices.values()}:
                    bad.append((sheet.name, addr))
            for check in sheet.checks:
                a, b = values.get(check.left), values.get(check.right)
                if a is None or b is None:
                    continue
                if (check.op == "<=" and a > b) or (check.op == ">=" and a < b):
                    bad.append((sheet.name, f"{get_column_letter(table['columns'][check.left] + 1)}{rownum}"))
    return bad


def figures(sub, key):
    """Rows of a table sheet as {field key: parsed value} (rows with a bad cell are skipped)."""
    sheet = forms.sheet(key)
    out = []
    for _, cells in sub["tables"].get(key, {"rows": []})["rows"]:
        try:
            out.append({f.key: value_of(cells.get(f.key), f.kind) for f in sheet.fields})
        except NumberFormatError:
            continue
    return out


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def generated(tmp_path_factory, registry):
    """{month: {file name: parsed submission}} plus the paths and the timings."""
    root = tmp_path_factory.mktemp("sample")
    out, timings = {}, {}
    for month in MONTHS:
        start = time.perf_counter()
        paths = sample.generate_month(month, root / month, registry=registry)
        timings[month] = time.perf_counter() - start
        out[month] = {p.name: dict(read_submission(p), path=p) for p in paths}
    print("\ngenerate_month: " + ", ".join(f"{m} {s:.2f} s" for m, s in timings.items()))
    return {"subs": out, "timings": timings, "root": root}


def effective(subs, registry, month):
    """{unit code: submission} keeping, for each unit, the file with the latest Ngày lập."""
    best = {}
    for sub in subs[month].values():
        info = sub["info"]
        if info["period"] != format_month(month):
            continue
        code = info["unit_code"]
        if code not in best or info["prepared_on"] > best[code]["info"]["prepared_on"]:
            best[code] = sub
    return best


def district_codes(registry, month):
    return [u.code for u in registry.area_units(month)]


# --- Tests ------------------------------------------------------------------------------------


def test_generation_time(generated):
    for month, seconds in generated["timings"].items():
        print(f"generate_month({month}): {seconds:.2f} s")
        assert seconds < 2.0


def test_deterministic(tmp_path, registry):
    first = sample.generate_month("2022-12", tmp_path / "a", registry=registry)
    second = sample.generate_month("2022-12", tmp_path / "b", registry=registry)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second):
        wa, wb = load_workbook(a), load_workbook(b)
        assert wa.sheetnames == wb.sheetnames
        for sa, sb in zip(wa.worksheets, wb.worksheets):
            cells_a = [(c.coordinate, c.value, c.number_format) for row in sa.iter_rows() for c in row]
            cells_b = [(c.coordinate, c.value, c.number_format) for row in sb.iter_rows() for c in row]
            assert cells_a == cells_b, a.name
        assert os.stat(a).st_mtime == os.stat(b).st_mtime
    # another seed gives other figures
    other = sample.generate_month("2022-12", tmp_path / "c", registry=registry, seed=1)
    assert figures(read_submission(other[0]), "hue_s") != figures(read_submission(first[0]), "hue_s")


def test_files_and_sheets(generated, registry):
    for month, subs in generated["subs"].items():
        assert list(subs) == sample.file_names(month, registry=registry)
        codes = {sub["info"]["unit_code"] for sub in subs.values()}
        assert codes == {u.code for u in registry.reporting_units(month)}
        assert len(codes) == 30
        for name, sub in subs.items():
            unit = registry.get(sub["info"]["unit_code"], month)
            expected = {fold(s.name) for s in forms.sheets_for(unit.sections)}
            assert sorted(fold(n) for n in sub["sheet_names"]) == sorted(expected), name
            assert sub["props"].keywords == sample.SAMPLE_KEYWORD
            assert "mẫu" in sub["props"].title
            info = sub["info"]
            assert isinstance(info["prepared_on"], datetime), name
            assert info["preparer"] and str(info["form_version"]) == "1"
            for key, table in sub["tables"].items():
                assert table["header_row"] == sample.HEADER_ROW == 3
                assert set(table["columns"]) == {f.key for f in forms.sheet(key).fields}


def test_text_is_nfc_except_the_nfd_file(generated):
    for month, subs in generated["subs"].items():
        nfd_files = {f["file"] for f in month_faults(month) if f["kind"] == "nfd_text"}
        assert len(nfd_files) == 1
        for name, sub in subs.items():
            texts = list(sub["sheet_names"]) + [
                str(v)
                for t in sub["tables"].values()
                for _, cells in t["rows"]
                for v in (c.value for c in cells.values())
                if isinstance(v, str)
            ]
            texts += [h for t in sub["tables"].values() for h in t["headers"] if isinstance(h, str)]
            if name in nfd_files:
                assert all(unicodedata.is_normalized("NFD", s) for s in texts)
                assert any(not unicodedata.is_normalized("NFC", s) for s in texts)
            else:
                assert all(unicodedata.is_normalized("NFC", s) for s in texts), name


def test_hue_s_downloads_match_public_figure(generated, registry):
    subs = generated["subs"]
    totals = {}
    for month in MONTHS:
        eff = effective(subs, registry, month)
        rows = [figures(eff[c], "hue_s")[0] for c in district_codes(registry, month)]
        totals[month] = sum(r["downloads"] for r in rows)
        accounts = sum(r["accounts"] for r in rows)
        assert 0.58 <= accounts / totals[month] <= 0.72
    assert abs(totals["2022-07"] - HUES_DOWNLOADS_26_07_2022) <= 0.02 * HUES_DOWNLOADS_26_07_2022
    assert HUES_DOWNLOADS_END_2022 < totals["2022-12"] < 1.02 * HUES_DOWNLOADS_END_2022
    assert 0.97 * 690_000 <= totals["2022-01"] <= 1.03 * 690_000
    assert totals["2022-01"] < totals["2022-06"] < totals["2022-07"] < totals["2022-12"]


def test_field_reports(generated, registry):
    for month in MONTHS:
        eff = effective(generated["subs"], registry, month)
        rows = [figures(eff[c], "hue_s")[0] for c in district_codes(registry, month)]
        received = sum(r["reports_received"] for r in rows)
        processed = sum(r["reports_processed"] for r in rows)
        on_time = sum(r["reports_on_time"] for r in rows)
        assert 3_500 <= received <= 4_800
        assert abs(100 * processed / received - PROCESSED_SHARE_2022) <= 1.0
        assert 0.90 <= on_time / processed <= 0.95
        satisfaction = sum(r["satisfaction"] * r["reports_processed"] for r in rows) / processed
        assert 78 <= satisfaction <= 84
    # about 4,200 a month in July rising to 4,700 in December: the 58,000 to date of July 2022
    # passes 80,000 by the end of 2022
    jul, dec = (
        sum(figures(eff[c], "hue_s")[0]["reports_received"] for c in district_codes(registry, m))
        for m, eff in (
            ("2022-07", effective(generated["subs"], registry, "2022-07")),
            ("2022-12", effective(generated["subs"], registry, "2022-12")),
        )
    )
    assert 3_900 <= jul <= 4_600
    assert 58_000 + 5 * dec > 80_000


def test_communes_and_teams(generated, registry):
    for month in MONTHS:
        eff = effective(generated["subs"], registry, month)
        for code in district_codes(registry, month):
            table = eff[code]["tables"]["to_cns"]
            listed = [cells["commune_code"].value for _, cells in table["rows"]]
            names = [cells["commune_name"].value for _, cells in table["rows"]]
            communes = registry.communes(code, month)
            assert sorted(listed) == sorted(c.code for c in communes)
            assert len(set(listed)) == len(listed)
            assert all(registry.find_commune(code, n, month) for n in names)
            teams = [parse_count(cells["teams"].value) for _, cells in table["rows"]]
            if month >= "2022-06":
                assert all(6 <= t <= 20 for t in teams), (month, code)
            if month == "2022-01":
                assert all(t == 0 for t in teams)
            faulty_rows = {
                int(f["cell"].lstrip("ABCDEFGHIJ"))
                for f in month_faults(month)
                if f["kind"] in CELL_FAULTS and f["file"] == eff[code]["path"].name
            }
            for rownum, cells in table["rows"]:
                if rownum in faulty_rows:
                    continue
                row = {f.key: value_of(cells.get(f.key), f.kind) for f in forms.TO_CNS.fields}
                if row["teams"]:
                    assert 3 * row["teams"] <= row["members"] <= 7 * row["teams"]
                    assert 1 <= row["trainings"] <= 4


def test_enterprises(generated, registry):
    previous = {}
    for month in MONTHS:
        eff = effective(generated["subs"], registry, month)
        reached = {}
        for code in district_codes(registry, month):
            row = figures(eff[code], "doanh_nghiep")[0]
            assert row["sme_using"] <= row["sme_reached"] and row["dbi_assessed"] <= row["sme_reached"]
            assert row["sme_supported"] <= 50
            if month == "2022-12":
                assert 10 <= row["sme_reached"] <= 1_000
                assert 0.14 <= row["sme_using"] / row["sme_reached"] <= 0.26
            reached[code] = row["sme_reached"]
            assert row["sme_reached"] >= previous.get(code, 0)
        assert max(reached, key=reached.get) == "474"  # Huế the most
        previous = reached


def test_cumulative_values_never_fall(generated, registry):
    _check_cumulative(generated["subs"], MONTHS, registry)


def test_cumulative_values_never_fall_after_the_reforms(later, registry):
    # the same units within each period: the nine of 01–06/2025, the forty from 07/2025
    _check_cumulative(later["subs"], ("2025-01", "2025-06"), registry)
    _check_cumulative(later["subs"], ("2025-07", "2026-11"), registry)


def _check_cumulative(subs, months, registry):
    bad_cells = {(f["file"], f["sheet"], f["cell"]) for m in months for f in month_faults(m) if f["cell"]}
    last = {}
    for month in months:
        eff = effective(subs, registry, month)
        for code, sub in eff.items():
            for key, table in sub["tables"].items():
                sheet = forms.sheet(key)
                for rownum, cells in table["rows"]:
                    ident = cells.get("commune_code") or cells.get("platform_name")
                    for f in sheet.fields:
                        addr = f"{get_column_letter(table['columns'][f.key] + 1)}{rownum}"
                        if not f.cumulative or (sub["path"].name, sheet.name, addr) in bad_cells:
                            continue
                        value = value_of(cells.get(f.key), f.kind)
                        k = (code, key, fold(ident.value) if ident is not None else "", f.key)
                        if value is not None and k in last:
                            assert value >= last[k], (month, k)
                        if value is not None:
                            last[k] = value


def test_platforms(generated, registry):
    snapshot = load_bundled()
    matcher = Matcher(snapshot.platforms, load_aliases())
    lists = {}
    for month in MONTHS:
        eff = effective(generated["subs"], registry, month)
        for code, sub in eff.items():
            unit = registry.get(code, month)
            rows = figures(sub, "nen_tang") or []
            names = [cells["platform_name"].value for _, cells in sub["tables"]["nen_tang"]["rows"]]
            matched = [
                matcher.match(cells["platform_id"].value, cells["platform_name"].value)
                for _, cells in sub["tables"]["nen_tang"]["rows"]
            ]
            ids = [pid for pid, _ in matched if pid]
            assert len(ids) == len(set(ids)), (month, code)
            unmatched = [n for n, (pid, _) in zip(names, matched) if pid is None]
            if unit.type == "district":
                assert 6 <= len(ids) <= 10
                catalogs = dict(zip(snapshot.platforms["platform_id"], snapshot.platforms["catalog"]))
                assert sum(catalogs[p] in ("nguoi_dan", "chinh_quyen") for p in ids) >= len(ids) - 1
                statuses = [fold(cells["status"].value) for _, cells in sub["tables"]["nen_tang"]["rows"]]
                assert 1 <= statuses.count("chua trien khai") <= 2
                for _, cells in sub["tables"]["nen_tang"]["rows"]:
                    if fold(cells["status"].value) == "chua trien khai":
                        assert fold(cells["proposal"].value).startswith("de xuat so tt&tt huong dan trien khai")
                assert unmatched == (["Ứng dụng Phú Vang số"] if code == "478" else []), code
            else:
                assert 3 <= len(ids) <= 6 and not unmatched
                assert {"cq-lgsp", "cq-hop"} <= set(ids)
            if code not in {f["unit"] for f in month_faults(month) if f["kind"] == "mau_gt_accounts"}:
                for row in rows:
                    if row["mau"] is not None and row["accounts"] is not None:
                        assert row["mau"] <= row["accounts"]
            lists.setdefault(code, []).append([fold(n) for n in names])
    syt = effective(generated["subs"], registry, "2022-07")["syt"]
    syt_names = [cells["platform_name"].value for _, cells in syt["tables"]["nen_tang"]["rows"]]
    assert "Sổ SKĐT" in syt_names and "PC-COVID" in syt_names
    assert matcher.match(None, "Sổ SKĐT") == ("nd-sskdt", "alias")
    for code, seen in lists.items():
        assert all(s == seen[0] for s in seen), code  # the same platforms every month


def test_only_planted_faults_break_the_rules(generated):
    for month, subs in generated["subs"].items():
        planted = {}
        for f in month_faults(month):
            if f["kind"] in CELL_FAULTS:
                planted.setdefault(f["file"], []).append((f["sheet"], f["cell"]))
        assert len(planted) == 1 and all(len(v) == 1 for v in planted.values())
        for name, sub in subs.items():
            assert violations(sub) == planted.get(name, []), (month, name)


def test_fault_cells_hold_the_bad_values(generated):
    seen = set()
    for month, subs in generated["subs"].items():
        for f in month_faults(month):
            assert set(f) >= {"unit", "file", "kind", "sheet", "cell", "description"}
            sub = subs[f["file"]]
            assert sub["info"]["unit_code"] == f["unit"]
            seen.add(f["kind"])
            if f["kind"] not in CELL_FAULTS:
                continue
            key = SHEET_BY_FOLD[fold(f["sheet"])].key
            table = sub["tables"][key]
            found = [
                (rownum, cells)
                for rownum, cells in table["rows"]
                for k, c in cells.items()
                if f"{get_column_letter(table['columns'][k] + 1)}{rownum}" == f["cell"]
            ]
            assert len(found) == 1
            rownum, cells = found[0]
            if f["kind"] == "text_in_count":
                assert fold(cells["trained"].value).startswith("khoang ")
                with pytest.raises(NumberFormatError):
                    parse_count(cells["trained"].value)
            elif f["kind"] == "members_lt_teams":
                assert f["cell"].startswith(get_column_letter(table["columns"]["members"] + 1))
                assert parse_count(cells["members"].value) < parse_count(cells["teams"].value)
            else:
                assert f["cell"].startswith(get_column_letter(table["columns"]["mau"] + 1))
                assert parse_count(cells["mau"].value) > parse_count(cells["accounts"].value)
    assert seen >= {
        "late",
        "superseded",
        "resubmission",
        "nfd_text",
        "header_variant",
        "wrong_period",
        "text_in_count",
        "members_lt_teams",
    }


def test_arrival_times_and_late_file(generated):
    deadline_day = load_settings()["submission"]["deadline_day"]
    for month, subs in generated["subs"].items():
        y, m = map(int, month.split("-"))
        next_first = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
        deadline_end = datetime.combine(next_first + timedelta(days=deadline_day), datetime.min.time(), VN)
        late = [f["file"] for f in month_faults(month) if f["kind"] == "late"]
        assert len(late) == 1
        for name, sub in subs.items():
            arrived = datetime.fromtimestamp(os.stat(sub["path"]).st_mtime, VN)
            assert 8 <= arrived.hour < 17
            prepared = sub["info"]["prepared_on"].date()
            assert prepared <= arrived.date()
            if name in late:
                assert arrived >= deadline_end
                assert registry_type(sub) == "agency"
            else:
                assert next_first <= arrived.date() < deadline_end.date()


def registry_type(sub):
    return load_registry().rows(sub["info"]["unit_code"])[0].type


def test_resubmission(generated):
    for month, subs in generated["subs"].items():
        fl = month_faults(month)
        first = [f for f in fl if f["kind"] == "superseded"]
        second = [f for f in fl if f["kind"] == "resubmission"]
        assert len(first) == len(second) == 1
        a, b = subs[first[0]["file"]], subs[second[0]["file"]]
        assert second[0]["file"].endswith("_sua.xlsx")
        assert a["info"]["unit_code"] == b["info"]["unit_code"]
        assert a["info"]["period"] == b["info"]["period"] == format_month(month)
        assert b["info"]["prepared_on"] > a["info"]["prepared_on"]
        assert os.stat(b["path"]).st_mtime > os.stat(a["path"]).st_mtime
        assert figures(a, "hue_s") != figures(b, "hue_s")  # corrected figures
        assert figures(a, "hue_s")[0]["reports_received"] < figures(b, "hue_s")[0]["reports_received"]


def test_wrong_period_and_header_variant(generated):
    dec = [f for f in month_faults("2022-12") if f["kind"] == "wrong_period"]
    assert len(dec) == 1
    sub = generated["subs"]["2022-12"][dec[0]["file"]]
    assert sub["info"]["period"] == "11/2022" and dec[0]["cell"] == "B2"
    for month in ("2022-01", "2022-07"):
        assert not [f for f in month_faults(month) if f["kind"] == "wrong_period"]
    for month in ("2022-06", "2022-12"):
        caps = [f for f in month_faults(month) if f["kind"] == "header_variant"]
        assert len(caps) == 1
        headers = generated["subs"][month][caps[0]["file"]]["tables"]["nen_tang"]["headers"]
        assert "TEN NEN TANG" in headers
        assert all(h == h.upper() and h.isascii() for h in headers)
        assert [fold(h) for h in headers] != [fold(f.header) for f in forms.NEN_TANG.fields]
    assert not [f for f in month_faults("2022-07") if f["kind"] == "header_variant"]


def test_text_numbers_and_percent_cells(generated):
    texts = percent = 0
    for subs in generated["subs"].values():
        for sub in subs.values():
            for key, table in sub["tables"].items():
                kinds = {f.key: f.kind for f in forms.sheet(key).fields}
                for _, cells in table["rows"]:
                    for k, c in cells.items():
                        if kinds[k] in (forms.COUNT, forms.RATE) and isinstance(c.value, str):
                            texts += 1
                        percent += kinds[k] == forms.RATE and _is_percent_cell(c)
    assert texts >= 30 and percent == len(MONTHS)


def test_ensure_sample(tmp_path, registry):
    folder = sample.ensure_sample("2022-03", root=tmp_path)
    assert folder == tmp_path / "2022-03"
    names = sorted(p.name for p in folder.iterdir() if p.name != sample.STAMP)
    assert names == sorted(sample.file_names("2022-03", registry=registry))
    stamp = {p.name: p.stat().st_ino for p in folder.iterdir()}
    assert sample.ensure_sample("2022-03", root=tmp_path) == folder
    assert {p.name: p.stat().st_ino for p in folder.iterdir()} == stamp  # left alone
    (folder / names[0]).unlink()
    sample.ensure_sample("2022-03", root=tmp_path)
    assert sorted(p.name for p in folder.iterdir() if p.name != sample.STAMP) == names
    assert [p.name for p in tmp_path.iterdir()] == ["2022-03"]  # no temporary folder left


def test_a_sample_made_by_another_generator_version_is_made_again(tmp_path):
    folder = sample.ensure_sample("2022-03", root=tmp_path)
    assert (folder / sample.STAMP).read_text(encoding="utf-8").strip() == sample.generator_version()
    (folder / sample.STAMP).write_text("an older generator\n", encoding="utf-8")
    before = (folder / "474_2022-03.xlsx").stat().st_ino
    sample.ensure_sample("2022-03", root=tmp_path)
    assert (folder / "474_2022-03.xlsx").stat().st_ino != before
    assert (folder / sample.STAMP).read_text(encoding="utf-8").strip() == sample.generator_version()


def test_docstring_schedule_matches_faults():
    """The 2022 table in the module docstring is what faults() plants."""
    import re

    line = re.compile(r"^\s+(2022-\d\d)\s+(\w+)\s+(\d+) (\w+)\s+(.+?!\w+)\s+(\d+)\s+(\d+)(.*)$")
    rows = [m.groups() for m in map(line.match, sample.__doc__.splitlines()) if m]
    assert [r[0] for r in rows] == [f"2022-{m:02d}" for m in range(1, 13)]
    for month, late, bad_unit, bad_kind, bad_cell, resub, nfd, other in rows:
        by_kind = {f["kind"]: f for f in month_faults(month)}
        assert by_kind["late"]["unit"] == late
        assert by_kind[bad_kind]["unit"] == bad_unit
        assert f"{by_kind[bad_kind]['sheet']}!{by_kind[bad_kind]['cell']}" == bad_cell
        assert by_kind["resubmission"]["unit"] == resub and by_kind["nfd_text"]["unit"] == nfd
        assert ("header_variant" in by_kind) == ("header_variant" in other)
        assert ("wrong_period" in by_kind) == (month == "2022-12")


def test_months_outside_2022():
    for month in ("2021-12", "2023-01"):
        kinds = [f["kind"] for f in month_faults(month)]
        assert kinds.count("late") == 1 and kinds.count("resubmission") == 1
        assert ("wrong_period" in kinds) == month.endswith("-12")
    assert sample.province_downloads(-12) > 0
    assert sample.province_downloads(11) < sample.province_downloads(23) < 1.02 * HUES_DOWNLOADS_END_2022


# --- Through the reforms: 2025 and after --------------------------------------------------------

LATER = ("2025-01", "2025-06", "2025-07", "2026-11")
DISTRICTS_2025_H1 = ("474", "475", "476", "477", "478", "479", "480", "481", "482")
AGENCIES_2025_03 = (
    "vpubnd",
    "snv",
    "stp",
    "stc",
    "sct",
    "sxd",
    "snnmt",
    "svhtt",
    "sdl",
    "skhcn",
    "sgddt",
    "syt",
    "sngv",
    "ttt",
    "hueioc",
)
COMMUNES_2025_07 = {
    # the 40 commune-level units of NQ 1675/NQ-UBTVQH15 (params/admin/units_2025.csv)
    "19753": "Phường Phú Xuân",
    "19774": "Phường Kim Long",
    "19777": "Phường Vỹ Dạ",
    "19789": "Phường Thuận Hóa",
    "19804": "Phường Hương An",
    "19813": "Phường Thủy Xuân",
    "19815": "Phường An Cựu",
    "19819": "Phường Phong Điền",
    "19828": "Phường Phong Phú",
    "19831": "Phường Phong Dinh",
    "19858": "Phường Phong Thái",
    "19867": "Xã Quảng Điền",
    "19873": "Phường Phong Quảng",
    "19885": "Xã Đan Điền",
    "19900": "Phường Thuận An",
    "19909": "Phường Dương Nỗ",
    "19918": "Xã Phú Hồ",
    "19930": "Phường Mỹ Thượng",
    "19942": "Xã Phú Vang",
    "19945": "Xã Phú Vinh",
    "19960": "Phường Phú Bài",
    "19969": "Phường Thanh Thủy",
    "19975": "Phường Hương Thủy",
    "19996": "Phường Hương Trà",
    "20014": "Phường Hóa Châu",
    "20017": "Phường Kim Trà",
    "20035": "Xã Bình Điền",
    "20044": "Xã A Lưới 2",
    "20050": "Xã A Lưới 5",
    "20056": "Xã A Lưới 1",
    "20071": "Xã A Lưới 3",
    "20101": "Xã A Lưới 4",
    "20107": "Xã Phú Lộc",
    "20122": "Xã Vinh Lộc",
    "20131": "Xã Hưng Lộc",
    "20137": "Xã Chân Mây - Lăng Cô",
    "20140": "Xã Lộc An",
    "20161": "Xã Khe Tre",
    "20179": "Xã Nam Đông",
    "20182": "Xã Long Quảng",
}
ALL_SHEETS = sorted(fold(s.name) for s in forms.SHEETS)
# file names, arrival times and cells of the 31 workbooks of 12/2022, as generated before 2025 was added
DIGEST_2022_12 = "794138587aa330dd109c31c3a64910a0b99f992cf66d335dcdbac51bf08dd3d4"


@pytest.fixture(scope="module")
def later(tmp_path_factory, registry):
    """{month: {file name: parsed submission}} for months after the reforms, and the timings."""
    root = tmp_path_factory.mktemp("later")
    out, timings = {}, {}
    for month in LATER:
        start = time.perf_counter()
        paths = sample.generate_month(month, root / month, registry=registry)
        timings[month] = time.perf_counter() - start
        out[month] = {p.name: dict(read_submission(p), path=p) for p in paths}
    print("\ngenerate_month: " + ", ".join(f"{m} {s:.2f} s" for m, s in timings.items()))
    return {"subs": out, "timings": timings}


def _codes(subs):
    return {sub["info"]["unit_code"] for sub in subs.values()}


def test_later_months_are_generated_fast(later):
    for month, seconds in later["timings"].items():
        assert seconds < 2.0, month


def test_first_half_of_2025_has_the_nine_units_of_the_city_and_its_133_communes(later, registry):
    jan, jun = later["subs"]["2025-01"], later["subs"]["2025-06"]
    old_agencies = {"skhdt", "snnptnt", "sgtvt", "stnmt", "stttt", "sldtbxh", "bdt"}
    # the agencies merge on 2025-03-01 (Sở Nông nghiệp và Môi trường is new then)
    assert _codes(jan) == set(DISTRICTS_2025_H1) | (set(AGENCIES_2025_03) - {"snnmt"}) | old_agencies
    assert len(_codes(jan)) == 9 + 21
    assert _codes(jun) == set(DISTRICTS_2025_H1) | set(AGENCIES_2025_03)
    for subs, month in ((jan, "2025-01"), (jun, "2025-06")):
        eff = effective(later["subs"], registry, month)
        listed = {
            code: [cells["commune_code"].value for _, cells in eff[code]["tables"]["to_cns"]["rows"]]
            for code in DISTRICTS_2025_H1
        }
        assert sum(len(v) for v in listed.values()) == 133
        assert len(listed["474"]) == 19 and len(listed["475"]) == 13
        # Nam Đông (483) is gone: its communes report with Phú Lộc
        assert {"20161", "20179", "20191"} <= set(listed["482"]) and len(listed["482"]) == 27
        for code in DISTRICTS_2025_H1:
            assert sorted(fold(n) for n in eff[code]["sheet_names"]) == ALL_SHEETS
        for code in set(AGENCIES_2025_03) & set(eff):
            assert sorted(fold(n) for n in eff[code]["sheet_names"]) == sorted(["thong tin", "nen tang"])
    assert "483_2025-01.xlsx" not in jan


def test_from_july_2025_the_forty_communes_report_each_for_itself(later, registry):
    for month in ("2025-07", "2026-11"):
        subs = later["subs"][month]
        assert _codes(subs) == set(COMMUNES_2025_07) | set(AGENCIES_2025_03)
        assert len(subs) == 40 + 15 + 1  # and one resubmission
        assert list(subs) == sample.file_names(month, registry=registry)
        eff = effective(later["subs"], registry, month)
        for code, name in COMMUNES_2025_07.items():
            sub = eff[code]
            assert sorted(fold(n) for n in sub["sheet_names"]) == ALL_SHEETS, code
            rows = [
                (cells["commune_code"].value, cells["commune_name"].value)
                for _, cells in sub["tables"]["to_cns"]["rows"]
            ]
            assert [(c, unicodedata.normalize("NFC", n)) for c, n in rows] == [(code, name)], code
            assert len(sub["tables"]["hue_s"]["rows"]) == len(sub["tables"]["doanh_nghiep"]["rows"]) == 1
        assert sum(n.startswith("Phường") for n in COMMUNES_2025_07.values()) == 21


def test_later_months_plant_only_their_faults(later):
    for month, subs in later["subs"].items():
        kinds = [f["kind"] for f in month_faults(month)]
        assert kinds.count("late") == kinds.count("superseded") == kinds.count("resubmission") == 1
        planted = {}
        for f in month_faults(month):
            if f["kind"] in CELL_FAULTS:
                planted.setdefault(f["file"], []).append((f["sheet"], f["cell"]))
        assert len(planted) == 1
        for name, sub in subs.items():
            assert violations(sub) == planted.get(name, []), (month, name)


def test_addresses_and_wording_after_the_reforms(later, generated, registry):
    info = {m: {sub["info"]["unit_code"]: sub["info"] for sub in subs.values()} for m, subs in later["subs"].items()}
    assert info["2025-07"]["19753"]["email"] == "vanphong.phuxuan@hue.gov.vn"
    assert info["2026-11"]["20137"]["email"] == "vanphong.chanmaylangco@hue.gov.vn"
    assert info["2025-01"]["474"]["email"] == "vanphong.thuanhoa@hue.gov.vn"
    assert info["2025-06"]["snnmt"]["email"] == "snnmt@hue.gov.vn"
    # 2022 as it was
    old = {sub["info"]["unit_code"]: sub["info"] for sub in generated["subs"]["2022-12"].values()}
    assert (
        old["474"]["email"] == "vanphong.hue@thuathienhue.gov.vn" and old["syt"]["email"] == "syt@thuathienhue.gov.vn"
    )
    for month, subs in later["subs"].items():
        for name, sub in subs.items():
            code = sub["info"]["unit_code"]
            assert sub["info"]["email"].endswith("@hue.gov.vn"), name
            for _, cells in sub["tables"]["nen_tang"]["rows"]:
                proposal = cells.get("proposal").value if cells.get("proposal") else None
                note = cells.get("note").value if cells.get("note") else None
                if proposal and registry.get(code, month).type == "commune":
                    assert "huyện" not in fold(proposal).split(), (month, name, proposal)
                if month >= "2025-03":
                    for text in (proposal, note):
                        assert not text or "tt&tt" not in fold(text), (month, name, text)
                    if proposal:
                        assert fold(proposal).startswith("de xuat so kh&cn huong dan trien khai")


def test_later_months_are_deterministic(tmp_path, registry):
    first = sample.generate_month("2025-07", tmp_path / "a", registry=registry)
    second = sample.generate_month("2025-07", tmp_path / "b", registry=registry)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second):
        assert _cells(a) == _cells(b), a.name
        assert os.stat(a).st_mtime == os.stat(b).st_mtime


def _cells(path):
    wb = load_workbook(path)
    return [
        (ws.title, c.coordinate, c.value, c.number_format)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
    ]


def test_a_2022_month_is_generated_as_before(tmp_path, registry):
    """The 12/2022 workbooks hold the cells and arrival times they held before the reforms were
    added (the digest was taken then); the golden test checks the reports made from them."""
    import hashlib

    digest = hashlib.sha256()
    for path in sample.generate_month("2022-12", tmp_path, registry=registry):
        digest.update(f"{path.name}:{int(os.stat(path).st_mtime)}".encode())
        digest.update(repr(_cells(path)).encode())
    assert digest.hexdigest() == DIGEST_2022_12


def _area_sum(later, registry, month, sheet, key):
    eff = effective(later["subs"], registry, month)
    total = 0
    for unit in registry.area_units(month):
        for _, cells in eff[unit.code]["tables"][sheet]["rows"]:
            total += parse_count(cells[key].value)
    return total


def test_city_series_have_no_jump_at_the_july_2025_reform(later, registry):
    # Each area unit's downloads are the city's curve times the unit's share, rounded: the shares
    # add up to 1 before and after, so the sums differ from the curve by at most half a download
    # per unit (9 + 40 units). The curve itself grows by less than one download a month in 2025,
    # while leaving out or double counting even the smallest commune would move the sum by
    # thousands (Xã Nam Đông alone has about 0.5% of the downloads).
    before = _area_sum(later, registry, "2025-06", "hue_s", "downloads")
    after = _area_sum(later, registry, "2025-07", "hue_s", "downloads")
    curve = sample.province_downloads(sample.month_index("2025-07")) - sample.province_downloads(
        sample.month_index("2025-06")
    )
    assert abs(after - before - curve) <= (9 + 40) / 2
    assert HUES_DOWNLOADS_END_2022 < after < 1.05 * HUES_DOWNLOADS_END_2022
    # every commune's teams were founded by 06/2022: the 141 old communes' teams, in 133 then 40 rows
    teams = {m: _area_sum(later, registry, m, "to_cns", "teams") for m in LATER}
    assert teams["2025-01"] == teams["2025-06"] == teams["2025-07"] == teams["2026-11"]
    # enterprises reached grow by a month's worth, not by a reform's
    reached = {m: _area_sum(later, registry, m, "doanh_nghiep", "sme_reached") for m in LATER}
    assert reached["2025-06"] <= reached["2025-07"] <= 1.03 * reached["2025-06"]
    assert reached["2025-07"] < reached["2026-11"]


def test_a_new_unit_holds_the_old_communes_the_registry_says(registry):
    from dxreport.sample.lineage import Lineage

    lineage = Lineage(registry, "2025-07")
    seen = []
    for unit in registry.area_units("2025-07"):
        mine = [c.code for c in lineage.old_communes_of(unit)]
        assert sorted(mine) == sorted(c.code for c in registry.predecessors(unit.code, "2025-07", "2024-12")[0])
        seen += mine
    assert len(seen) == len(set(seen)) == 141
    # Xã Nam Đông: three of the ten communes of the old huyện Nam Đông
    assert [(o.unit.code, o.weight) for o in lineage.origins(registry.get("20179", "2025-07"))] == [("483", 0.3)]


def test_a_merged_agency_lists_the_platforms_of_the_agencies_it_took_over(later, registry):
    matcher = Matcher(load_bundled().platforms, load_aliases())
    eff = effective(later["subs"], registry, "2025-06")

    def ids(code):
        return {
            matcher.match(cells["platform_id"].value, cells["platform_name"].value)[0]
            for _, cells in eff[code]["tables"]["nen_tang"]["rows"]
        }

    # Sở NN&MT: Sở NN&PTNT (bản đồ số, cửa hàng số) and Sở TN&MT (đất đai, bản đồ số, địa chỉ số)
    assert ids("snnmt") == {"cq-lgsp", "cq-hop", "cq-bandoso", "nd-cuahangso", "nd-datdai", "cq-diachiso"}
    # Sở Nội vụ took over Sở LĐ-TB&XH and its VssID
    assert "nd-vssid" in ids("snv") and "nd-vssid" not in ids("stp")
