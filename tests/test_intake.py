"""Reading submissions: every rule of spec/submission-form.md on small hand-made workbooks.

Each workbook is built here with openpyxl; headers come from dxreport.forms. Expected values
and cell addresses are worked out by hand from the rows written in each test.
"""

from __future__ import annotations

import ast
import copy
import csv
import datetime as dt
import io
import os
import re
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from dxreport import forms, intake, monthload, store
from dxreport.catalog import Matcher, load_aliases, load_bundled
from dxreport.params import load_settings
from dxreport.textnorm import NumberFormatError, format_number, parse_count, parse_number, parse_rate
from dxreport.units import load_registry

MONTH = "2022-09"
ICT = dt.timezone(dt.timedelta(hours=7))
REGISTRY = load_registry()
SNAPSHOT = load_bundled()
MATCHER = Matcher(SNAPSHOT.platforms, load_aliases())
SETTINGS = load_settings()


# --------------------------------------------------------------------------- builders


def info_rows(unit="474", period="09/2022", preparer="Nguyễn Thị Lan", prepared_on="03/10/2022", **extra):
    rows = [
        (forms.THONG_TIN.field("unit_code").header, unit),
        (forms.THONG_TIN.field("period").header, period),
        (forms.THONG_TIN.field("preparer").header, preparer),
        (forms.THONG_TIN.field("prepared_on").header, prepared_on),
    ]
    for key, value in extra.items():
        rows.append((forms.THONG_TIN.field(key).header, value))
    return rows


def headers(key, order=None):
    spec = forms.sheet(key)
    keys = order or [f.key for f in spec.fields]
    return keys, [spec.field(k).header for k in keys]


def add_table(wb, key, rows, *, order=None, title_rows=(), name=None):
    """A table sheet: optional title rows, the header row, then one line per dict in `rows`."""
    spec = forms.sheet(key)
    ws = wb.create_sheet(name or spec.name)
    for title in title_rows:
        ws.append(list(title))
    keys, heads = headers(key, order)
    ws.append(heads)
    for row in rows:
        if row is None:
            ws.append([])
        else:
            ws.append([row.get(k) for k in keys])
    return ws


def build(info=None, sheets=None, *, info_name="Thông tin", keywords=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = info_name
    for label, value in info if info is not None else info_rows():
        ws.append([label, value])
    for key, rows in (sheets or {}).items():
        add_table(wb, key, rows)
    if keywords:
        wb.properties.keywords = keywords
    return wb


def save(wb, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    wb.save(path)
    return path


def read(path, month=MONTH, settings=SETTINGS, reader=None):
    return intake.read_submission(
        path, month=month, registry=REGISTRY, matcher=MATCHER, settings=settings, reader=reader
    )


def only(issues, rule):
    found = [i for i in issues if i["rule"] == rule]
    assert len(found) == 1, (rule, issues)
    return found[0]


def facts_of(sub, sheet=None):
    frame = pd.DataFrame(sub.facts)
    return frame if sheet is None else frame[frame["sheet"] == sheet]


def value(sub, sheet, subject, metric):
    frame = facts_of(sub, sheet)
    hit = frame[(frame["subject"] == subject) & (frame["metric"] == metric)]
    assert len(hit) == 1, (sheet, subject, metric, frame)
    return hit.iloc[0]


HUES = {
    "downloads": 800000,
    "accounts": 300000,
    "reports_received": 1000,
    "reports_processed": 900,
    "reports_on_time": 850,
    "satisfaction": 80,
}
DN = {"sme_reached": 120, "sme_using": 45, "dbi_assessed": 30, "sme_supported": 6}
PLATFORM = {
    "platform_name": "Ứng dụng Hue-S",
    "status": "Đang sử dụng",
    "accounts": 5000,
    "mau": 1200,
    "uses": 30000,
    "lgsp": "Có",
}


def district_workbook(**overrides):
    sheets = {
        "nen_tang": [
            PLATFORM,
            {
                "platform_id": "nd-vneid",
                "platform_name": "VNeID",
                "status": "Đang thử nghiệm",
                "accounts": 200,
                "lgsp": "Không",
                "note": "Đang cài đặt",
            },
        ],
        "hue_s": [HUES],
        "to_cns": [
            {
                "commune_code": "19750",
                "commune_name": "Tây Lộc",
                "teams": 5,
                "members": 25,
                "trainings": 2,
                "trained": 40,
                "households": 120,
            },
            {"commune_name": "Phường Thuận Lộc", "teams": 4, "members": 18},
        ],
        "doanh_nghiep": [DN],
    }
    sheets.update(overrides)
    return build(sheets=sheets)


# --------------------------------------------------------------------------- a good file


def test_complete_district_file_loads_every_figure(tmp_path):
    sub = read(save(district_workbook(), tmp_path, "hue.xlsx"))
    assert not sub.rejected and sub.issues == []
    assert sub.unit == "474" and sub.month == MONTH
    assert sub.prepared_on == dt.date(2022, 10, 3) and sub.preparer == "Nguyễn Thị Lan"
    assert sub.sheets == ["thong_tin", "nen_tang", "hue_s", "to_cns", "doanh_nghiep"]
    assert sub.rows_loaded == 2 + 1 + 2 + 1 and sub.rows_rejected == 0
    assert sub.is_sample is False
    # Nền tảng: header row 1, columns A..I in form order; row 2 Hue-S (name), row 3 VNeID (id).
    hue = value(sub, "nen_tang", "nd-hues", "accounts")
    assert hue["value"] == 5000 and hue["cell"] == "D2" and hue["subject_kind"] == "platform"
    assert hue["subject_name"] == "Ứng dụng Hue-S"
    lgsp = value(sub, "nen_tang", "nd-hues", "lgsp")
    assert (lgsp["value"], lgsp["text"], lgsp["cell"]) == (1.0, "co", "G2")
    status = value(sub, "nen_tang", "nd-vneid", "status")
    assert pd.isna(status["value"]) and status["text"] == "dang_thu_nghiem" and status["cell"] == "C3"
    assert value(sub, "nen_tang", "nd-vneid", "lgsp")["value"] == 0.0
    assert value(sub, "nen_tang", "nd-vneid", "note")["text"] == "Đang cài đặt"
    # Empty cells are "not reported": VNeID has no mau/uses facts at all.
    vneid = facts_of(sub, "nen_tang").query("subject == 'nd-vneid'")
    assert set(vneid["metric"]) == {"status", "accounts", "lgsp", "note"}
    # Hue-S: one row, subject '' of kind unit.
    assert value(sub, "hue_s", "", "satisfaction")["value"] == 80
    assert value(sub, "hue_s", "", "reports_on_time")["cell"] == "E2"
    assert set(facts_of(sub, "hue_s")["subject_kind"]) == {"unit"}
    # Tổ công nghệ số: by code, and by full name "Phường Thuận Lộc" (19753).
    assert value(sub, "to_cns", "19750", "members")["value"] == 25
    assert value(sub, "to_cns", "19753", "teams")["cell"] == "C3"
    assert value(sub, "to_cns", "19753", "teams")["subject_name"] == "Phường Thuận Lộc"
    assert value(sub, "doanh_nghiep", "", "sme_supported")["value"] == 6
    assert len(sub.facts) == 5 + 4 + 6 + 5 + 2 + 4


def test_agency_needs_only_info_and_platforms(tmp_path):
    wb = build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]})
    sub = read(save(wb, tmp_path, "syt.xlsx"))
    assert not sub.rejected and sub.issues == []
    assert sub.unit == "syt" and sub.rows_loaded == 1


def test_sample_keyword_marks_sample(tmp_path):
    wb = build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}, keywords="dxreport-sample seed=1")
    assert read(save(wb, tmp_path, "s.xlsx")).is_sample is True


# --------------------------------------------------------------------------- matching rules


def test_info_sheet_name_in_capitals_without_diacritics(tmp_path):
    wb = build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}, info_name="THONG  TIN")
    sub = read(save(wb, tmp_path, "caps.xlsx"))
    assert not sub.rejected and sub.unit == "syt"


def test_nfd_sheet_names_labels_and_headers(tmp_path):
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = nfd("Thông tin")
    for label, val in info_rows(unit="syt", preparer=nfd("Trần Văn Đức")):
        ws.append([nfd(label), val])
    ws = wb.create_sheet(nfd("Nền tảng"))
    keys, heads = headers("nen_tang")
    ws.append([nfd(h) for h in heads])
    ws.append(
        [
            {
                "platform_name": nfd("Sổ sức khỏe điện tử"),
                "status": nfd("Đang sử dụng"),
                "accounts": 10,
                "lgsp": nfd("Không"),
            }.get(k)
            for k in keys
        ]
    )
    sub = read(save(wb, tmp_path, "nfd.xlsx"))
    assert not sub.rejected and sub.issues == []
    assert sub.preparer == "Trần Văn Đức"  # stored NFC
    fact = value(sub, "nen_tang", "nd-sskdt", "accounts")
    assert fact["subject_name"] == "Sổ sức khỏe điện tử"
    assert unicodedata.is_normalized("NFC", fact["subject_name"])
    assert value(sub, "nen_tang", "nd-sskdt", "lgsp")["text"] == "khong"


def test_title_rows_shuffled_columns_extra_columns_blank_rows(tmp_path):
    wb = build(info_rows(unit="syt"))
    order = ["status", "accounts", "platform_name", "lgsp", "uses", "mau"]
    ws = add_table(wb, "nen_tang", [], order=order, title_rows=[["BÁO CÁO SỬ DỤNG NỀN TẢNG SỐ"], ["Tháng 09/2022"], []])
    # header is row 4: A status, B accounts, C name, D lgsp, E uses, F mau; G an extra column
    ws["G4"] = "STT"
    ws.append(["Đang sử dụng", 300, "Dịch vụ công", "Có", 900, 250, 1])
    ws.append([])
    ws.append([None, None, None, None, None, None, "ghi chú ngoài bảng"])  # only extra column: blank
    ws.append(["dang su dung", 40, "NDXP", "KHÔNG", None, 39, 2])
    sub = read(save(wb, tmp_path, "shuffled.xlsx"))
    assert not sub.rejected and sub.issues == []
    assert sub.rows_loaded == 2
    dvc = value(sub, "nen_tang", "nd-dvc", "uses")
    assert dvc["value"] == 900 and dvc["cell"] == "E5"
    assert value(sub, "nen_tang", "nd-dvc", "mau")["cell"] == "F5"
    ndxp = value(sub, "nen_tang", "cq-ndxp", "accounts")  # alias "NDXP"
    assert ndxp["value"] == 40 and ndxp["cell"] == "B8"
    assert value(sub, "nen_tang", "cq-ndxp", "status")["text"] == "dang_su_dung"
    assert value(sub, "nen_tang", "cq-ndxp", "lgsp")["value"] == 0.0


def test_required_header_marks_are_tolerated(tmp_path):
    wb = build(info_rows(unit="syt"))
    ws = wb.create_sheet("Nền tảng")
    keys, heads = headers("nen_tang")
    ws.append([h + " *" if forms.NEN_TANG.field(k).required else h for k, h in zip(keys, heads)])
    ws.append([PLATFORM.get(k) for k in keys])
    sub = read(save(wb, tmp_path, "marks.xlsx"))
    assert sub.rows_loaded == 1 and sub.issues == []


def test_text_numbers_and_percentages(tmp_path):
    hues = dict(HUES, downloads="1.234.567", accounts=" 300 000 ", satisfaction="12,5%")
    wb = district_workbook(hue_s=[hues])
    sub = read(save(wb, tmp_path, "text.xlsx"))
    assert sub.issues == []
    assert value(sub, "hue_s", "", "downloads")["value"] == 1234567
    assert value(sub, "hue_s", "", "accounts")["value"] == 300000
    assert value(sub, "hue_s", "", "satisfaction")["value"] == 12.5


def test_excel_percent_cell_means_hundredths(tmp_path):
    wb = district_workbook(hue_s=[dict(HUES, satisfaction=0.125)])
    wb["Hue-S"]["F2"].number_format = "0.0%"
    sub = read(save(wb, tmp_path, "pct.xlsx"))
    assert sub.issues == []
    assert value(sub, "hue_s", "", "satisfaction")["value"] == pytest.approx(12.5)


def test_plain_number_rate_is_already_percent(tmp_path):
    sub = read(save(district_workbook(hue_s=[dict(HUES, satisfaction=87.5)]), tmp_path, "p.xlsx"))
    assert value(sub, "hue_s", "", "satisfaction")["value"] == 87.5


@pytest.mark.parametrize(
    "period,prepared",
    [
        ("09/2022", "03/10/2022"),
        (dt.datetime(2022, 9, 1), dt.datetime(2022, 10, 3)),
        ("9/2022", dt.date(2022, 10, 3)),
        ("30/09/2022", "3/10/2022"),
    ],
)
def test_period_and_date_as_text_or_date_cell(tmp_path, period, prepared):
    wb = build(info_rows(unit="syt", period=period, prepared_on=prepared), {"nen_tang": [PLATFORM]})
    sub = read(save(wb, tmp_path, "d.xlsx"))
    assert not sub.rejected, sub.issues
    assert sub.prepared_on == dt.date(2022, 10, 3)


def test_unit_code_as_number_and_agency_code_in_capitals(tmp_path):
    wb = build(info_rows(unit=474), {"hue_s": [HUES]})
    assert read(save(wb, tmp_path, "n.xlsx")).unit == "474"
    wb = build(info_rows(unit="SYT"), {"nen_tang": [PLATFORM]})
    assert read(save(wb, tmp_path, "c.xlsx")).unit == "syt"


def test_commune_names_that_fold_alike_use_diacritics(tmp_path):
    # Hương Trà (480) has Phường Hương Vân (20008) and Phường Hương Văn (20011).
    rows = [
        {"commune_name": "Hương Văn", "teams": 3, "members": 9},
        {"commune_name": "HƯƠNG VÂN", "teams": 2, "members": 8},
        {"commune_name": "Huong Van", "teams": 1, "members": 5},
    ]
    wb = build(info_rows(unit="480"), {"to_cns": rows})
    sub = read(save(wb, tmp_path, "ht.xlsx"))
    assert value(sub, "to_cns", "20011", "teams")["value"] == 3
    assert value(sub, "to_cns", "20008", "teams")["value"] == 2
    issue = only(sub.issues, "row.unknown_commune")
    assert (issue["sheet"], issue["cell"], issue["severity"]) == ("Tổ công nghệ số", "B4", "error")
    assert "Mã xã" in issue["message"]


# --------------------------------------------------------------------------- bad rows


def _bad(tmp_path, **overrides):
    sub = read(save(district_workbook(**overrides), tmp_path, "bad.xlsx"))
    assert not sub.rejected
    return sub


@pytest.mark.parametrize(
    "accounts,message",
    [
        ("1.234,5", "không phải là số nguyên"),
        (-3, "số âm"),
        ("nhiều", "không phải là số"),
        ("12.5", "không phải là số"),
    ],
)
def test_bad_count_quarantines_row_at_exact_cell(tmp_path, accounts, message):
    rows = [PLATFORM, {"platform_name": "VNeID", "status": "Đang sử dụng", "accounts": accounts}]
    sub = _bad(tmp_path, nen_tang=rows)
    issue = only(sub.issues, "cell.count")
    assert (issue["sheet"], issue["cell"], issue["severity"]) == ("Nền tảng", "D3", "error")
    assert issue["message"].startswith("Nền tảng!D3:") and message in issue["message"]
    assert "dòng 3 không được nạp" in issue["message"]
    assert "nd-vneid" not in set(facts_of(sub, "nen_tang")["subject"])
    assert value(sub, "nen_tang", "nd-hues", "accounts")["value"] == 5000
    assert sub.rows_rejected == 1 and sub.rows_loaded == 5


def test_bad_rate(tmp_path):
    sub = _bad(tmp_path, hue_s=[dict(HUES, satisfaction="120%")])
    issue = only(sub.issues, "cell.rate")
    assert issue["cell"] == "F2" and "0–100" in issue["message"]
    assert facts_of(sub, "hue_s").empty


def test_bad_choice(tmp_path):
    sub = _bad(tmp_path, nen_tang=[dict(PLATFORM, status="Đã dùng")])
    issue = only(sub.issues, "cell.choice")
    assert issue["cell"] == "C2" and "Đang sử dụng" in issue["message"]


def test_missing_required_cell(tmp_path):
    sub = _bad(tmp_path, hue_s=[dict(HUES, reports_received=None, reports_processed=None, reports_on_time=None)])
    cells = sorted(i["cell"] for i in sub.issues if i["rule"] == "cell.required")
    assert cells == ["C2", "D2", "E2"]
    assert sub.rows_rejected == 1


@pytest.mark.parametrize(
    "sheet,row,rule,cell",
    [
        ("nen_tang", dict(PLATFORM, mau=6000), "row.mau_le_accounts", "E2"),
        ("hue_s", dict(HUES, reports_processed=1001), "row.processed_le_received", "D2"),
        ("hue_s", dict(HUES, reports_on_time=901), "row.on_time_le_processed", "E2"),
        ("doanh_nghiep", dict(DN, sme_using=121), "row.using_le_reached", "B2"),
    ],
)
def test_row_checks_from_the_form(tmp_path, sheet, row, rule, cell):
    sub = _bad(tmp_path, **{sheet: [row]})
    issue = only(sub.issues, rule)
    assert issue["cell"] == cell and issue["sheet"] == forms.sheet(sheet).name
    assert facts_of(sub, sheet).empty


def test_members_fewer_than_teams(tmp_path):
    rows = [{"commune_code": "19750", "commune_name": "Tây Lộc", "teams": 5, "members": 4}]
    sub = _bad(tmp_path, to_cns=rows)
    issue = only(sub.issues, "row.members_ge_teams")
    assert issue["cell"] == "D2"


def test_same_platform_twice_is_an_error_on_the_second_row(tmp_path):
    rows = [PLATFORM, {"platform_name": "Hue S", "status": "Đang sử dụng", "accounts": 1}]  # alias of nd-hues
    sub = _bad(tmp_path, nen_tang=rows)
    issue = only(sub.issues, "row.duplicate_platform")
    assert issue["cell"] == "B3" and "dòng 2" in issue["message"]
    assert value(sub, "nen_tang", "nd-hues", "accounts")["value"] == 5000


def test_unmatched_platform_is_kept_with_a_warning(tmp_path):
    rows = [{"platform_name": "Zalo  OA", "status": "Đang sử dụng", "accounts": 15}]
    sub = _bad(tmp_path, nen_tang=rows)
    issue = only(sub.issues, "platform.unmatched")
    assert (issue["cell"], issue["severity"]) == ("B2", "warning")
    fact = value(sub, "nen_tang", "unmatched:zalo oa", "accounts")
    assert fact["value"] == 15 and fact["subject_name"] == "Zalo OA"


def test_commune_rules(tmp_path):
    rows = [
        {"commune_code": "19750", "commune_name": "Tây Lộc", "teams": 1, "members": 5},  # ok
        {"commune_code": "99999", "commune_name": "Không rõ", "teams": 1, "members": 5},  # A3 unknown code
        {"commune_code": "19819", "commune_name": "Phong Điền", "teams": 1, "members": 5},  # A4 other district
        {"commune_name": "Phong Hải", "teams": 1, "members": 5},  # B5 other district
        {"commune_name": "Xã Mặt Trăng", "teams": 1, "members": 5},  # B6 unknown name
        {"commune_code": "19753", "commune_name": "Gia Hội", "teams": 1, "members": 5},  # B7 name ≠ code
        {"commune_name": "phuong tay loc", "teams": 1, "members": 5},  # B8 duplicate
    ]
    sub = _bad(tmp_path, to_cns=rows)
    got = sorted((i["rule"], i["cell"]) for i in sub.issues)
    assert got == [
        ("row.duplicate_commune", "B8"),
        ("row.unknown_commune", "A3"),
        ("row.unknown_commune", "B6"),
        ("row.unknown_commune", "B7"),
        ("row.wrong_district_commune", "A4"),
        ("row.wrong_district_commune", "B5"),
    ]
    assert set(facts_of(sub, "to_cns")["subject"]) == {"19750"}
    wrong = [i for i in sub.issues if i["cell"] == "A4"][0]
    assert "Thị trấn Phong Điền" in wrong["message"] and "Huyện Phong Điền" in wrong["message"]


def test_one_row_sheet_with_a_second_data_row(tmp_path):
    sub = _bad(tmp_path, doanh_nghiep=[DN, DN])
    issue = only(sub.issues, "row.extra")
    assert issue["cell"] == "A3"
    assert value(sub, "doanh_nghiep", "", "sme_reached")["value"] == 120


# --------------------------------------------------------------------------- sheets


def test_missing_required_sheet_is_a_warning_and_the_rest_loads(tmp_path):
    wb = build(sheets={"nen_tang": [PLATFORM], "hue_s": [HUES]})
    sub = read(save(wb, tmp_path, "m.xlsx"))
    assert not sub.rejected
    missing = sorted(i["sheet"] for i in sub.issues if i["rule"] == "sheet.missing")
    assert missing == ["Doanh nghiệp", "Tổ công nghệ số"]
    assert all(i["severity"] == "warning" and i["cell"] is None for i in sub.issues)
    assert set(facts_of(sub)["sheet"]) == {"nen_tang", "hue_s"}


def test_sheet_without_header(tmp_path):
    wb = district_workbook()
    del wb["Nền tảng"]
    ws = wb.create_sheet("Nền tảng")
    ws.append(["Tên nền tảng", "Tài khoản lũy kế"])  # no "Tình trạng"
    ws.append(["VNeID", 5])
    sub = read(save(wb, tmp_path, "h.xlsx"))
    issue = only(sub.issues, "sheet.no_header")
    assert issue["severity"] == "error" and issue["sheet"] == "Nền tảng" and "Tình trạng" in issue["message"]
    assert "nen_tang" not in set(facts_of(sub)["sheet"]) and "hue_s" in set(facts_of(sub)["sheet"])


def test_too_many_rows(tmp_path):
    settings = copy.deepcopy(SETTINGS)
    settings["submission"]["max_rows_per_sheet"] = 3
    rows = [{"platform_name": f"Nền tảng riêng {i}", "status": "Chưa triển khai"} for i in range(4)]
    sub = read(save(district_workbook(nen_tang=rows), tmp_path, "big.xlsx"), settings=settings)
    issue = only(sub.issues, "sheet.too_many_rows")
    assert issue["sheet"] == "Nền tảng"
    assert "nen_tang" not in set(facts_of(sub)["sheet"])
    assert not sub.rejected and "hue_s" in set(facts_of(sub)["sheet"])


def test_header_present_but_no_data(tmp_path):
    sub = read(save(district_workbook(doanh_nghiep=[]), tmp_path, "e.xlsx"))
    issue = only(sub.issues, "sheet.missing")
    assert issue["sheet"] == "Doanh nghiệp" and issue["severity"] == "warning"


# --------------------------------------------------------------------------- whole-file rejections


def _rejected(sub, rule, sheet=None, cell=None):
    assert sub.rejected and sub.facts == [] and len(sub.issues) == 1
    issue = sub.issues[0]
    assert (issue["rule"], issue["severity"], issue["sheet"], issue["cell"]) == (rule, "error", sheet, cell)
    assert sub.file_name in issue["message"]
    assert len(sub.submission_id) == 64
    return issue


def test_too_large_file_is_not_opened(tmp_path, monkeypatch):
    settings = copy.deepcopy(SETTINGS)
    settings["submission"]["max_file_bytes"] = 1000
    path = save(district_workbook(), tmp_path, "lon.xlsx")
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("opened"))
    _rejected(read(path, settings=settings), "file.too_large")


def test_not_a_workbook(tmp_path):
    path = tmp_path / "bao_cao.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\n")
    _rejected(read(path), "file.not_workbook")


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "không phải bảng tính")
    _rejected(read(path), "file.not_workbook")


def test_truncated_workbook(tmp_path):
    data = save(district_workbook(), tmp_path, "full.xlsx").read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    _rejected(read(path), "file.not_workbook")


def test_empty_file(tmp_path):
    path = tmp_path / "rong.xlsx"
    path.write_bytes(b"")
    issue = _rejected(read(path), "file.empty")
    assert "0 byte" in issue["message"]


def test_workbook_without_any_value_is_empty(tmp_path):
    _rejected(read(save(openpyxl.Workbook(), tmp_path, "blank.xlsx")), "file.empty")


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def test_password_protected_workbook(tmp_path):
    path = tmp_path / "mat_khau.xlsx"
    path.write_bytes(
        OLE
        + bytes(504)
        + "EncryptionInfo".encode("utf-16-le")
        + bytes(50)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(1000)
    )
    issue = _rejected(read(path), "file.encrypted")
    assert "mật khẩu" in issue["message"]


def test_legacy_xls_is_not_a_workbook(tmp_path):
    path = tmp_path / "cu.xls"
    path.write_bytes(OLE + bytes(504) + "Workbook".encode("utf-16-le") + bytes(1000))
    issue = _rejected(read(path), "file.not_workbook")
    assert ".xls" in issue["message"]


def test_zip_bomb_by_ratio(tmp_path):
    path = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", bytes(30 * 1024 * 1024))
    assert path.stat().st_size < 100_000
    _rejected(read(path), "file.zip_bomb")


def test_zip_bomb_by_total_size(tmp_path, monkeypatch):
    monkeypatch.setattr("dxreport.intake.container.MAX_UNCOMPRESSED_BYTES", 2000)
    _rejected(read(save(district_workbook(), tmp_path, "t.xlsx")), "file.zip_bomb")


def test_no_info_sheet(tmp_path):
    wb = district_workbook()
    del wb["Thông tin"]
    issue = _rejected(read(save(wb, tmp_path, "k.xlsx")), "file.no_info_sheet")
    assert "Nền tảng" in issue["message"]


def test_sheet_present_twice(tmp_path):
    wb = district_workbook()
    add_table(wb, "nen_tang", [PLATFORM], name="NEN TANG")
    _rejected(read(save(wb, tmp_path, "dup.xlsx")), "file.duplicate_sheet", sheet="Nền tảng")


def test_formula_without_cached_value(tmp_path):
    wb = district_workbook()
    wb["Hue-S"]["C2"] = "=1+1"
    issue = _rejected(read(save(wb, tmp_path, "f.xlsx")), "cell.formula", sheet="Hue-S", cell="C2")
    assert "công thức" in issue["message"]


def test_formula_with_cached_value_is_read(tmp_path):
    path = save(district_workbook(), tmp_path, "cached.xlsx")
    # Give Hue-S!C2 a formula with a stored value, as Excel saves it.
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    wb = openpyxl.load_workbook(path, read_only=True)
    part = wb["Hue-S"]._worksheet_path
    wb.close()
    xml = parts[part].decode()
    start = xml.index('<c r="C2"')
    end = xml.index("</c>", start) + 4
    parts[part] = (xml[:start] + '<c r="C2"><f>500+500</f><v>1000</v></c>' + xml[end:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    sub = read(path)
    assert not sub.rejected and value(sub, "hue_s", "", "reports_received")["value"] == 1000


@pytest.mark.parametrize(
    "info,rule,cell",
    [
        (info_rows(preparer=None), "info.missing", "B3"),
        ([r for r in info_rows() if r[0] != "Kỳ báo cáo"], "info.missing", None),
        (info_rows(unit="999"), "info.unknown_unit", "B1"),
        (info_rows(unit="19750"), "info.unknown_unit", "B1"),
        (info_rows(period="08/2022"), "info.wrong_month", "B2"),
        (info_rows(period="tháng chín"), "info.bad_date", "B2"),
        (info_rows(prepared_on="32/13/2022"), "info.bad_date", "B4"),
        (info_rows(form_version="2"), "info.form_version", "B5"),
    ],
)
def test_info_sheet_rules(tmp_path, info, rule, cell):
    wb = build(info, {"hue_s": [HUES]})
    _rejected(read(save(wb, tmp_path, "i.xlsx")), rule, sheet="Thông tin", cell=cell)


def test_form_version_one_is_accepted(tmp_path):
    wb = build(info_rows(unit="syt", form_version=1), {"nen_tang": [PLATFORM]})
    assert not read(save(wb, tmp_path, "v.xlsx")).rejected


def test_wrong_month_message_names_both_months(tmp_path):
    wb = build(info_rows(period="08/2022"), {"hue_s": [HUES]})
    issue = read(save(wb, tmp_path, "w.xlsx")).issues[0]
    assert "08/2022" in issue["message"] and "09/2022" in issue["message"]
    assert unicodedata.is_normalized("NFC", issue["message"])


# --------------------------------------------------------------------------- a month


def _at(folder: Path, name: str, wb, when: dt.datetime) -> Path:
    path = save(wb, folder, name)
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))
    return path


def _month_dirs(tmp_path, month=MONTH):
    inbox = tmp_path / "data" / "inbox" / month
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox, tmp_path / "warehouse.duckdb"


def _ingest(inbox, warehouse, month=MONTH):
    return monthload.ingest_month(month, inbox, warehouse, registry=REGISTRY, snapshot=SNAPSHOT, settings=SETTINGS)


def test_ingest_month_resubmission_late_rejected_and_archive(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path)
    on_time = dt.datetime(2022, 10, 5, 23, 30, tzinfo=ICT)
    # 474: first file prepared 03/10, correction prepared 04/10 (arrives later) → correction wins.
    first = _at(
        inbox,
        "hue_v1.xlsx",
        build(info_rows(prepared_on="03/10/2022"), {"hue_s": [HUES]}),
        dt.datetime(2022, 10, 3, 9, tzinfo=ICT),
    )
    _at(
        inbox,
        "hue_v2.xlsx",
        build(info_rows(prepared_on="04/10/2022"), {"hue_s": [dict(HUES, downloads=810000)]}),
        on_time,
    )
    # syt: late (06/10 00:10 local time).
    _at(
        inbox,
        "syt.xlsx",
        build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}),
        dt.datetime(2022, 10, 6, 0, 10, tzinfo=ICT),
    )
    # snv: the same bytes twice under two names; stp: a PDF.
    snv = _at(inbox, "snv.xlsx", build(info_rows(unit="snv"), {"nen_tang": [PLATFORM]}), on_time)
    (inbox / "snv (1).xlsx").write_bytes(snv.read_bytes())
    (inbox / "stp.pdf").write_bytes(b"%PDF-1.7 not a workbook")

    result = _ingest(inbox, warehouse)
    subs = result.submissions.set_index("file_name")
    assert subs.loc["hue_v1.xlsx", "status"] == "superseded"
    assert subs.loc["hue_v1.xlsx", "superseded_by"] == subs.loc["hue_v2.xlsx", "submission_id"]
    assert subs.loc["hue_v2.xlsx", "status"] == "accepted"
    assert subs.loc["syt.xlsx", "late"] and not subs.loc["hue_v2.xlsx", "late"]
    assert subs.loc["stp.pdf", "status"] == "rejected"
    assert "snv (1).xlsx" not in subs.index and subs.loc["snv.xlsx", "status"] == "accepted"
    assert subs.loc["hue_v2.xlsx", "received_at"] == pd.Timestamp("2022-10-05 23:30")
    assert subs.loc["hue_v2.xlsx", "prepared_on"] == dt.date(2022, 10, 4)

    # Only the accepted files contribute.
    facts = result.facts
    downloads = facts[(facts["unit"] == "474") & (facts["metric"] == "downloads")]
    assert downloads["value"].tolist() == [810000]
    assert set(facts["submission_id"]) == set(subs[subs["status"] == "accepted"]["submission_id"])

    rules = {(r.file_name, r.rule, r.severity) for r in result.issues.itertuples()}
    assert ("hue_v1.xlsx", "submission.superseded", "warning") in rules
    assert ("syt.xlsx", "file.late", "warning") in rules
    assert ("stp.pdf", "file.not_workbook", "error") in rules
    assert ("snv (1).xlsx", "file.duplicate", "warning") in rules
    assert not any(r.rule == "file.late" and r.file_name == "hue_v2.xlsx" for r in result.issues.itertuples())

    # Raw archive: every distinct file kept unchanged under its hash.
    raw = tmp_path / "data" / "raw"
    sid = subs.loc["hue_v1.xlsx", "submission_id"]
    assert (raw / f"{sid}.xlsx").read_bytes() == first.read_bytes()
    assert (raw / f"{subs.loc['stp.pdf', 'submission_id']}.pdf").exists()
    archives = sorted(p.name for p in raw.iterdir() if p.is_file() and not p.name.endswith(".received.json"))
    assert len(archives) == 5
    # each archived copy has its received record beside it, and besides them only the parse cache
    assert sorted(p.name for p in raw.iterdir()) == sorted(
        archives + [f"{a}.received.json" for a in archives] + [intake.cache.CACHE_DIR]
    )
    assert (raw / intake.cache.CACHE_DIR).is_dir()
    assert subs.loc["hue_v1.xlsx", "archived_path"] == str(raw / f"{sid}.xlsx")
    assert set(subs["received_source"]) == {"first_seen"} and subs["received_channel"].isna().all()

    # The warehouse holds the same thing.
    con = store.connect(warehouse, read_only=True)
    try:
        assert len(store.submissions_frame(con, MONTH)) == 5
        assert len(store.facts_frame(con, [MONTH])) == len(facts)
        assert store.months_loaded(con) == [MONTH]
        run = con.execute("SELECT files, accepted, rejected FROM runs").fetchall()
        assert run == [(6, 3, 1)]
        assert con.execute("SELECT count(*) FROM units").fetchone()[0] == len(REGISTRY.units)
        assert con.execute("SELECT count(*) FROM catalog").fetchone()[0] == len(SNAPSHOT.platforms)
    finally:
        con.close()

    # Tracker: 474 resubmitted, syt late, snv received, stp rejected, the rest missing.
    track = intake.tracker(MONTH, REGISTRY, result.submissions, result.facts).set_index("unit")
    assert track.loc["474", "status"] == "resubmitted" and track.loc["474", "status_label"] == "Nộp lại"
    assert track.loc["474", "sections_not_reported"] == "Nền tảng; Tổ công nghệ số; Doanh nghiệp"
    assert track.loc["syt", "status_label"] == "Nộp muộn"
    assert track.loc["snv", "status_label"] == "Đã nộp" and track.loc["snv", "sections_not_reported"] == ""
    assert track.loc["476", "status_label"] == "Chưa nộp"
    assert len(track) == len(REGISTRY.reporting_units(MONTH))


def test_tracker_from_ingest_result_alone(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path)
    wb = build(sheets={"nen_tang": [PLATFORM], "hue_s": [HUES], "doanh_nghiep": [dict(DN, sme_using=999)]})
    _at(inbox, "hue.xlsx", wb, dt.datetime(2022, 10, 2, tzinfo=ICT))
    result = _ingest(inbox, warehouse)
    track = intake.tracker(MONTH, REGISTRY, result.submissions).set_index("unit")
    # Tổ công nghệ số is missing; Doanh nghiệp's only row is quarantined: both not reported.
    assert track.loc["474", "status"] == "received"
    assert track.loc["474", "sections_not_reported"] == "Tổ công nghệ số; Doanh nghiệp"
    con = store.connect(warehouse, read_only=True)
    try:
        again = intake.tracker(MONTH, REGISTRY, store.submissions_frame(con, MONTH), store.facts_frame(con, MONTH))
    finally:
        con.close()
    pd.testing.assert_frame_equal(track.reset_index(), again)


def test_rejected_unit_shows_in_tracker(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path)
    _at(inbox, "hue.xlsx", build(info_rows(period="08/2022"), {"hue_s": [HUES]}), dt.datetime(2022, 10, 2, tzinfo=ICT))
    result = _ingest(inbox, warehouse)
    track = intake.tracker(MONTH, REGISTRY, result.submissions, result.facts).set_index("unit")
    assert track.loc["474", "status"] == "rejected" and track.loc["474", "status_label"] == "Bị từ chối"


def test_ties_on_prepared_date_go_to_later_arrival(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path)
    _at(
        inbox,
        "b.xlsx",
        build(info_rows(unit="syt"), {"nen_tang": [dict(PLATFORM, accounts=1)]}),
        dt.datetime(2022, 10, 2, 8, tzinfo=ICT),
    )
    _at(
        inbox,
        "a.xlsx",
        build(info_rows(unit="syt"), {"nen_tang": [dict(PLATFORM, accounts=2)]}),
        dt.datetime(2022, 10, 2, 9, tzinfo=ICT),
    )
    subs = _ingest(inbox, warehouse).submissions.set_index("file_name")
    assert subs.loc["a.xlsx", "status"] == "accepted" and subs.loc["b.xlsx", "status"] == "superseded"


def test_checks_across_months(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    history = {"2022-06": (1000, 100), "2022-07": (1100, 120), "2022-08": (1200, 110)}
    for month, (accounts, uses) in history.items():
        inbox = tmp_path / "inbox" / month
        mm, yyyy = month[5:], month[:4]
        wb = build(
            info_rows(unit="syt", period=f"{mm}/{yyyy}"),
            {"nen_tang": [dict(PLATFORM, accounts=accounts, mau=10, uses=uses)]},
        )
        _at(inbox, "syt.xlsx", wb, dt.datetime(int(yyyy), int(mm), 28, tzinfo=ICT))
        assert not (_ingest(inbox, warehouse, month).issues["severity"] == "error").any()
    inbox = tmp_path / "inbox" / MONTH
    # accounts 1150 < 1200 (August); uses 5000 > 10 × median(100, 120, 110) = 1100; mau 10 = median.
    wb = build(info_rows(unit="syt"), {"nen_tang": [dict(PLATFORM, accounts=1150, mau=10, uses=5000)]})
    _at(inbox, "syt.xlsx", wb, dt.datetime(2022, 10, 1, tzinfo=ICT))
    result = _ingest(inbox, warehouse)
    got = sorted((r.rule, r.cell, r.severity) for r in result.issues.itertuples())
    assert got == [("history.cumulative_down", "D2", "warning"), ("history.jump", "F2", "warning")]
    down = result.issues.set_index("rule").loc["history.cumulative_down", "message"]
    assert "1.200" in down and "1.150" in down and "08/2022" in down
    jump = result.issues.set_index("rule").loc["history.jump", "message"]
    assert "5.000" in jump and "110" in jump
    assert len(result.facts) == 5  # warnings only: the data is loaded


def test_ingest_twice_gives_the_same_warehouse(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path)
    _at(inbox, "hue.xlsx", district_workbook(), dt.datetime(2022, 10, 3, tzinfo=ICT))
    _at(
        inbox,
        "syt.xlsx",
        build(info_rows(unit="syt"), {"nen_tang": [dict(PLATFORM, mau=9999)]}),
        dt.datetime(2022, 10, 3, tzinfo=ICT),
    )

    def snapshot():
        con = store.connect(warehouse, read_only=True)
        try:
            return {t: store.table_frame(con, t) for t in ("units", "catalog", "submissions", "facts", "issues")}
        finally:
            con.close()

    _ingest(inbox, warehouse)
    first = snapshot()
    _ingest(inbox, warehouse)
    second = snapshot()
    for table in first:
        pd.testing.assert_frame_equal(first[table], second[table], check_dtype=True)
    assert len(first["facts"]) == 26 and len(first["issues"]) == 1
    assert len(list((tmp_path / "data" / "raw").glob("*.xlsx"))) == 2
    assert len(list((tmp_path / "data" / "raw").glob("*.xlsx.received.json"))) == 2


def test_empty_inbox_loads_an_empty_month_and_a_missing_one_is_refused(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path)
    result = _ingest(inbox, warehouse)
    assert result.submissions.empty and result.facts.empty and result.issues.empty
    track = intake.tracker(MONTH, REGISTRY, result.submissions, result.facts)
    assert set(track["status"]) == {"missing"}
    assert track.set_index("unit").loc["syt", "sections_not_reported"] == "Nền tảng"
    with pytest.raises(FileNotFoundError):
        _ingest(tmp_path / "không có", warehouse)
    con = store.connect(warehouse, read_only=True)
    try:
        assert store.months_loaded(con) == [MONTH]
    finally:
        con.close()


def test_one_broken_reader_does_not_stop_the_month(tmp_path, monkeypatch):
    inbox, warehouse = _month_dirs(tmp_path)
    _at(inbox, "a.xlsx", build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}), dt.datetime(2022, 10, 1, tzinfo=ICT))
    _at(inbox, "b.xlsx", build(info_rows(unit="snv"), {"nen_tang": [PLATFORM]}), dt.datetime(2022, 10, 1, tzinfo=ICT))
    real = intake.read_submission

    def flaky(path, **kw):
        if Path(path).name == "a.xlsx":
            raise RuntimeError("hỏng")
        return real(path, **kw)

    monkeypatch.setattr("dxreport.intake.cache.read_submission", flaky)
    subs = _ingest(inbox, warehouse).submissions.set_index("file_name")
    assert subs.loc["a.xlsx", "status"] == "rejected" and subs.loc["b.xlsx", "status"] == "accepted"


# --------------------------------------------------------------------------- validation outputs


def _issues_frame():
    return pd.DataFrame(
        [
            {
                "month": MONTH,
                "unit": "474",
                "file_name": "=cmd|' /C calc'!A0.xlsx",
                "sheet": "Nền tảng",
                "cell": "D3",
                "rule": "cell.count",
                "severity": "error",
                "message": "Nền tảng!D3: “Tài khoản lũy kế” sai",
                "submission_id": "x",
            },
            {
                "month": MONTH,
                "unit": None,
                "file_name": "<b>bad</b>.pdf",
                "sheet": None,
                "cell": None,
                "rule": "file.not_workbook",
                "severity": "error",
                "message": "+SUM(1)",
                "submission_id": "y",
            },
            {
                "month": MONTH,
                "unit": "syt",
                "file_name": "syt.xlsx",
                "sheet": None,
                "cell": None,
                "rule": "file.late",
                "severity": "warning",
                "message": "@late & <late>",
                "submission_id": "z",
            },
        ]
    )


def test_write_validation_csv(tmp_path):
    path = intake.write_validation(_issues_frame(), tmp_path / "out" / "validation.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["file", "sheet", "cell", "rule", "severity", "message", "unit", "received_at", "received_source"]
    assert all(r[7:] == ["", ""] for r in rows[1:])  # without the submissions, no received times
    assert rows[1][0] == "'=cmd|' /C calc'!A0.xlsx" and rows[1][1] == "Nền tảng" and rows[1][2] == "D3"
    assert rows[2][5] == "'+SUM(1)" and rows[2][6] == ""
    assert rows[3][5] == "'@late & <late>"
    assert unicodedata.is_normalized("NFC", raw.decode("utf-8-sig"))


def test_validation_html_is_grouped_and_escaped():
    text = intake.validation_html(_issues_frame(), REGISTRY)
    assert "<h3>Thành phố Huế (474)</h3>" in text and "<h3>Sở Y tế (syt)</h3>" in text
    assert "Chưa xác định được đơn vị" in text
    assert "&lt;b&gt;bad&lt;/b&gt;.pdf" in text and "<b>bad</b>" not in text
    assert "@late &amp; &lt;late&gt;" in text
    assert "<td>Lỗi</td>" in text and "<td>Cảnh báo</td>" in text
    assert text.index("Thành phố Huế") < text.index("Sở Y tế") < text.index("Chưa xác định")


def test_validation_page_is_a_whole_document():
    page = intake.validation_page(_issues_frame(), REGISTRY, MONTH)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page and '<meta charset="utf-8">' in page
    assert "<h1>Kết quả kiểm tra báo cáo tháng 09/2022</h1>" in page
    assert intake.validation_html(_issues_frame(), REGISTRY) in page


def test_validation_html_without_issues():
    assert "Không có lỗi" in intake.validation_html(pd.DataFrame(columns=intake.ISSUE_COLUMNS), REGISTRY)


# --------------------------------------------------------------------------- the number parser


@given(st.integers(min_value=0, max_value=10**15))
def test_count_written_with_dots_parses_back(n):
    assert parse_count(format_number(n)) == n
    assert parse_count(str(n)) == n


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_signed_number_parses_back(n):
    assert parse_number(format_number(n)) == n


@given(st.integers(min_value=0, max_value=1000))
def test_rate_with_comma_decimal_and_percent(tenths):
    text = format_number(tenths / 10, 1) + "%"  # e.g. 125 → "12,5%"
    assert parse_rate(text) == pytest.approx(tenths / 10)
    assert parse_rate(tenths / 1000, percent_cell=True) == pytest.approx(tenths / 10)


_JUNK = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="0123456789.,%+- \u00a0\u202f", max_size=20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 1e-300]),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.booleans(),
    st.none(),
    st.dates(),
)


@hsettings(max_examples=300)
@given(_JUNK)
def test_junk_only_raises_number_format_error(value):
    for parse in (parse_number, parse_count, parse_rate, lambda v: parse_rate(v, percent_cell=True)):
        try:
            parse(value)
        except NumberFormatError:
            pass


@pytest.mark.parametrize("parse,value", [(parse_rate, 1e27), (parse_count, "1" * 40 + ",5")])
def test_huge_values_only_raise_number_format_error(parse, value):
    with pytest.raises(NumberFormatError):
        parse(value)


def test_huge_value_in_a_cell_is_a_row_error(tmp_path):
    rows = [dict(PLATFORM, accounts="1" * 40 + ",5")]
    sub = _bad(tmp_path, nen_tang=rows)
    assert only(sub.issues, "cell.count")["cell"] == "D2"


# --------------------------------------------------------------------------- hostile files


def _with_part(path: Path, part: str, edit) -> Path:
    """Rewrite one XML part of a saved workbook with `edit(text) -> text`."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[part] = edit(parts[part].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _sheet_part(path: Path, title: str) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return wb[title]._worksheet_path
    finally:
        wb.close()


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


def test_xml_bomb_is_refused_before_parsing(tmp_path):
    path = save(build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}), tmp_path, "bom.xlsx")
    part = _sheet_part(path, "Nền tảng")
    _with_part(path, part, lambda x: x.replace("<worksheet", LAUGHS + "<worksheet", 1).replace("<t>", "<t>&lol9;", 1))
    issue = _rejected(read(path), "file.xml_bomb")
    assert part in issue["message"] and "DOCTYPE" in issue["message"]


@pytest.mark.parametrize("reader", intake.READERS)
def test_xml_bomb_behind_a_long_prolog_is_refused_by_defusedxml(tmp_path, monkeypatch, reader):
    # the quick look at the first bytes sees nothing; defusedxml still refuses the entities
    monkeypatch.setattr("dxreport.intake.container.XML_PROLOG_BYTES", 8)
    path = save(build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}), tmp_path, "bom.xlsx")
    _with_part(path, _sheet_part(path, "Nền tảng"), lambda x: x.replace("<worksheet", LAUGHS + "<worksheet", 1))
    _rejected(read(path, reader=reader), "file.xml_bomb")


def _million_rows(path: Path) -> Path:
    """`Nền tảng` with a header and 1,000,000 data rows, streamed into the zip."""
    wb = build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]})
    save(wb, path.parent, path.name)
    part = _sheet_part(path, "Nền tảng")
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    head, tail = parts[part].decode().split("</sheetData>")
    head = head[: head.index('<row r="2"')]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            if name != part:
                z.writestr(name, data)
        with z.open(part, "w") as fh:
            fh.write(head.encode())
            for start in range(2, 1_000_002, 5000):
                fh.write(
                    "".join(
                        f'<row r="{i}"><c r="B{i}" t="inlineStr"><is><t>Nền tảng {i}</t></is></c>'
                        f'<c r="C{i}" t="inlineStr"><is><t>Đang sử dụng</t></is></c></row>'
                        for i in range(start, start + 5000)
                    ).encode()
                )
            fh.write(("</sheetData>" + tail).encode())
    return path


@pytest.fixture(scope="module")
def million_rows(tmp_path_factory):
    return _million_rows(tmp_path_factory.mktemp("trieu") / "trieu_dong.xlsx")


@pytest.mark.parametrize("reader", intake.READERS)
def test_a_sheet_with_a_million_rows_is_refused_and_the_rest_loads(million_rows, reader):
    path = million_rows
    assert path.stat().st_size < SETTINGS["submission"]["max_file_bytes"]
    sub = read(path, reader=reader)
    assert not sub.rejected and sub.reader == "openpyxl"  # calamine would hold it whole: openpyxl streams it
    issue = only(sub.issues, "sheet.too_many_rows")
    assert (issue["sheet"], issue["severity"], issue["cell"]) == ("Nền tảng", "error", None)
    assert "5.000" in issue["message"] and sub.facts == []


def test_a_far_away_cell_never_reaches_calamine(tmp_path):
    # Two cells, A1 and XFD1048576: calamine would allocate the whole rectangle and abort the
    # process. Run in a child process so that a failure shows as a failure, not a dead test run.
    import subprocess
    import sys

    path = save(build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}), tmp_path, "xa.xlsx")
    _with_part(
        path,
        _sheet_part(path, "Nền tảng"),
        lambda x: x.replace(
            "</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
        ),
    )
    code = (
        "import sys; from dxreport import intake; from dxreport.catalog import Matcher, load_aliases, load_bundled;"
        "from dxreport.params import load_settings; from dxreport.units import load_registry;"
        f"s = intake.read_submission({str(path)!r}, month='2022-09', registry=load_registry(),"
        " matcher=Matcher(load_bundled().platforms, load_aliases()), settings=load_settings(), reader='calamine');"
        "print(s.reader, s.rejected, sorted({i['rule'] for i in s.issues}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # openpyxl read it: the far cell is past the rows a sheet may have
    assert done.stdout.split() == ["openpyxl", "False", "['sheet.too_many_rows']"]


@pytest.mark.parametrize("reader", intake.READERS)
def test_an_excel_error_value_in_a_count_is_a_row_error(tmp_path, reader):
    path = save(district_workbook(), tmp_path, "loi.xlsx")
    # Hue-S!C2 holds a formula whose stored result is #DIV/0!
    _with_part(
        path,
        _sheet_part(path, "Hue-S"),
        lambda x: re.sub(r'<c r="C2"[^>]*>.*?</c>', '<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>', x),
    )
    sub = read(path, reader=reader)
    issue = only(sub.issues, "cell.count")
    assert (issue["sheet"], issue["cell"]) == ("Hue-S", "C2") and "#DIV/0!" in issue["message"]
    assert facts_of(sub, "hue_s").empty


# --------------------------------------------------------------------------- two readers, one result


def _variants(tmp_path):
    """Workbooks that exercise the matching rules, dates, percent cells and bad rows."""
    pct = district_workbook(hue_s=[dict(HUES, satisfaction=0.825)])
    pct["Hue-S"]["F2"].number_format = "0.0%"
    custom = district_workbook(hue_s=[dict(HUES, satisfaction=0.5)])
    custom["Hue-S"]["F2"].number_format = '0.00" "%'
    dates = build(
        info_rows(unit="syt", period=dt.datetime(2022, 9, 1), prepared_on=dt.date(2022, 10, 3)),
        {"nen_tang": [dict(PLATFORM, accounts=dt.date(2022, 1, 1))]},
    )
    text = district_workbook(hue_s=[dict(HUES, downloads="1.234.567", accounts=" 300 000 ", satisfaction="12,5%")])
    shuffled = build(info_rows(unit="syt"))
    add_table(
        shuffled,
        "nen_tang",
        [dict(PLATFORM, status="dang su dung")],
        order=["lgsp", "status", "platform_name", "accounts", "mau"],
        title_rows=[["BÁO CÁO"], []],
        name="NEN  TANG",
    )
    bad = district_workbook(
        nen_tang=[PLATFORM, dict(PLATFORM, platform_name="Hue S")],
        to_cns=[{"commune_name": "Xã Mặt Trăng", "teams": 1, "members": 0}],
    )
    return {
        name: save(wb, tmp_path, f"{name}.xlsx")
        for name, wb in dict(pct=pct, custom=custom, dates=dates, text=text, shuffled=shuffled, bad=bad).items()
    }


def test_calamine_and_openpyxl_read_the_same(tmp_path):
    for name, path in _variants(tmp_path).items():
        one, two = read(path, reader="openpyxl"), read(path, reader="calamine")
        assert (one.reader, two.reader) == ("openpyxl", "calamine"), name
        for attr in ("facts", "issues", "unit", "prepared_on", "preparer", "rejected", "rows_loaded", "rows_rejected"):
            assert getattr(one, attr) == getattr(two, attr), (name, attr)
    # worked out by hand: 0.825 in a 0.0% cell is 82.5; 0.5 in a custom 0.00 % cell is 50
    assert value(read(tmp_path / "pct.xlsx", reader="calamine"), "hue_s", "", "satisfaction")["value"] == 82.5
    assert value(read(tmp_path / "custom.xlsx", reader="calamine"), "hue_s", "", "satisfaction")["value"] == 50
    dates = read(tmp_path / "dates.xlsx", reader="calamine")
    assert dates.prepared_on == dt.date(2022, 10, 3)
    assert only(dates.issues, "cell.count")["message"].count("01/01/2022") == 1


def test_unknown_reader_is_refused(tmp_path):
    with pytest.raises(ValueError, match="calamine, openpyxl"):
        read(save(district_workbook(), tmp_path, "x.xlsx"), reader="xlrd")


# --------------------------------------------------------------------------- rows that only name their subject


def test_rows_that_only_name_a_platform_are_not_reported(tmp_path):
    rows = [PLATFORM, {"platform_id": "nd-vneid", "platform_name": "VNeID"}, {"platform_name": "Zalo OA"}]
    sub = _bad(tmp_path, nen_tang=rows)
    got = [(i["rule"], i["cell"], i["severity"]) for i in sub.issues]
    # the first data column after Mã nền tảng and Tên nền tảng is C (Tình trạng)
    assert got == [("row.not_reported", "C3", "warning"), ("row.not_reported", "C4", "warning")]
    assert "nd-vneid – VNeID" in sub.issues[0]["message"]
    assert set(facts_of(sub, "nen_tang")["subject"]) == {"nd-hues"} and sub.rows_rejected == 0


# --------------------------------------------------------------------------- feedback copies


def _month_with_problems(tmp_path):
    """A month: 474 with two bad cells, syt late and clean, snv superseded, a PDF, a wrong month."""
    inbox, warehouse = _month_dirs(tmp_path)
    when = dt.datetime(2022, 10, 3, 9, tzinfo=ICT)
    hue = district_workbook(nen_tang=[dict(PLATFORM, mau=6000)], hue_s=[dict(HUES, satisfaction=0.825)], to_cns=[])
    hue["Hue-S"]["F2"].number_format = "0.0%"
    note = hue["Nền tảng"]["I2"]  # a note typed as text that a spreadsheet would run as a formula
    note.value, note.data_type = '=HYPERLINK("http://x","bấm")', "s"
    _at(inbox, "hue.xlsx", hue, when)
    _at(
        inbox,
        "syt.xlsx",
        build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}),
        dt.datetime(2022, 10, 7, 9, tzinfo=ICT),
    )
    _at(inbox, "snv_cu.xlsx", build(info_rows(unit="snv", prepared_on="01/10/2022"), {"nen_tang": [PLATFORM]}), when)
    _at(inbox, "snv_moi.xlsx", build(info_rows(unit="snv", prepared_on="02/10/2022"), {"nen_tang": [PLATFORM]}), when)
    (inbox / "stp.pdf").write_bytes(b"%PDF-1.4")
    _at(inbox, "sct.xlsx", build(info_rows(unit="sct", period="08/2022"), {"nen_tang": [PLATFORM]}), when)
    return _ingest(inbox, warehouse)


def test_feedback_copies_of_a_month(tmp_path):
    result = _month_with_problems(tmp_path)
    raw = {p.name: p.read_bytes() for p in (tmp_path / "data" / "raw").iterdir() if p.is_file()}
    out = tmp_path / "out" / MONTH / "feedback"
    (out).mkdir(parents=True)
    (out / "old_left_over.xlsx").write_bytes(b"stale")
    copies = intake.write_feedback_month(
        MONTH, result.submissions, result.issues, out, registry=REGISTRY, settings=SETTINGS
    )
    # snv_cu was superseded and snv_moi is clean: no copy for snv
    assert sorted(p.name for p in out.iterdir()) == [
        "474_hue.xlsx",
        "khong_ro_don_vi_stp.pdf.xlsx",
        "sct_sct.xlsx",
        "syt_syt.xlsx",
    ]
    assert sorted(copies["file_name"]) == ["hue.xlsx", "sct.xlsx", "stp.pdf", "syt.xlsx"]
    # the archive is untouched
    assert {p.name: p.read_bytes() for p in (tmp_path / "data" / "raw").iterdir() if p.is_file()} == raw

    wb = openpyxl.load_workbook(out / "474_hue.xlsx")
    assert wb.sheetnames == ["Cần sửa", "Thông tin", "Nền tảng", "Hue-S", "Tổ công nghệ số", "Doanh nghiệp"]
    cell = wb["Nền tảng"]["E2"]  # mau 6000 > accounts 5000
    assert cell.value == 6000 and cell.fill.patternType == "lightUp"
    assert "row.mau_le_accounts" in cell.comment.text and "[Lỗi]" in cell.comment.text
    assert "6.000 so với 5.000" in cell.comment.text
    note = wb["Nền tảng"]["I2"]
    assert note.value == '\'=HYPERLINK("http://x","bấm")' and note.data_type == "s"
    assert wb["Hue-S"]["F2"].value == 0.825 and wb["Hue-S"]["F2"].number_format == "0.0%"
    assert wb["Nền tảng"]["D2"].comment is None and wb["Nền tảng"]["D2"].fill.patternType is None
    todo = wb["Cần sửa"]
    rows = [[c.value for c in r] for r in todo.iter_rows(min_row=8)]
    # every issue of the file, in the order of the form's sheets, whole-sheet ones included
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("Nền tảng", "E2", "Lỗi", "row.mau_le_accounts"),
        ("Tổ công nghệ số", None, "Cảnh báo", "sheet.missing"),
    ]
    assert todo["C8"].hyperlink.location == "'Nền tảng'!E2"
    assert todo["A2"].value == "Đơn vị: Thành phố Huế"

    late = openpyxl.load_workbook(out / "syt_syt.xlsx")["Cần sửa"]
    assert [c.value for c in late[8]][1:5] == ["(cả tệp)", None, "Cảnh báo", "file.late"]
    wrong = openpyxl.load_workbook(out / "sct_sct.xlsx")
    period = wrong["Thông tin"]["B2"]
    assert period.fill.patternType == "lightUp" and "info.wrong_month" in period.comment.text
    pdf = openpyxl.load_workbook(out / "khong_ro_don_vi_stp.pdf.xlsx")
    assert pdf.sheetnames == ["Cần sửa"] and "không đọc được" in pdf["Cần sửa"]["A5"].value


def _written(monkeypatch) -> list[str]:
    """The names of the feedback copies made (not kept) from now on."""
    made: list[str] = []
    real = intake.feedback.write_feedback

    def counting(source, issues, target, **kw):
        made.append(Path(target).name)
        return real(source, issues, target, **kw)

    monkeypatch.setattr(intake.feedback, "write_feedback", counting)
    return made


def test_unchanged_feedback_copies_are_kept_as_they_are(tmp_path, monkeypatch):
    result = _month_with_problems(tmp_path)
    out = tmp_path / "out" / MONTH / "feedback"
    made = _written(monkeypatch)

    def write(issues):
        return intake.write_feedback_month(MONTH, result.submissions, issues, out, registry=REGISTRY, settings=SETTINGS)

    write(result.issues)
    assert sorted(made) == ["474_hue.xlsx", "khong_ro_don_vi_stp.pdf.xlsx", "sct_sct.xlsx", "syt_syt.xlsx"]
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    made.clear()
    copies = write(result.issues)
    assert made == []
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()} == before
    assert sorted(copies["file_name"]) == ["hue.xlsx", "sct.xlsx", "stp.pdf", "syt.xlsx"]

    # one more issue for hue.xlsx: its copy alone is made again, and lists it
    extra = (
        result.issues[result.issues["file_name"] == "hue.xlsx"]
        .iloc[[0]]
        .assign(cell="D2", rule="cell.count", severity="warning", message="Nền tảng!D2: kiểm tra lại")
    )
    write(pd.concat([result.issues, extra], ignore_index=True))
    assert made == ["474_hue.xlsx"]
    assert (out / "474_hue.xlsx").stat().st_ino != before["474_hue.xlsx"][0]
    rules = [c.value for c in openpyxl.load_workbook(out / "474_hue.xlsx")["Cần sửa"]["E"]]
    assert "cell.count" in rules
    for name in ("khong_ro_don_vi_stp.pdf.xlsx", "sct_sct.xlsx", "syt_syt.xlsx"):
        assert (out / name).stat().st_ino == before[name][0]

    # a changed message is a changed issue too
    made.clear()
    changed = result.issues.copy()
    changed.loc[changed["file_name"] == "syt.xlsx", "message"] = "Tệp “syt.xlsx” nhận lúc khác."
    write(changed)
    assert made == ["474_hue.xlsx", "syt_syt.xlsx"]


def test_a_damaged_or_foreign_feedback_copy_is_made_again(tmp_path, monkeypatch):
    result = _month_with_problems(tmp_path)
    out = tmp_path / "fb"
    made = _written(monkeypatch)
    intake.write_feedback_month(MONTH, result.submissions, result.issues, out, registry=REGISTRY, settings=SETTINGS)
    (out / "syt_syt.xlsx").write_bytes(b"PK broken")
    # a copy saved by a person (no key in its properties) under the same name
    hand = openpyxl.Workbook()
    hand.save(out / "sct_sct.xlsx")
    made.clear()
    intake.write_feedback_month(MONTH, result.submissions, result.issues, out, registry=REGISTRY, settings=SETTINGS)
    assert sorted(made) == ["sct_sct.xlsx", "syt_syt.xlsx"]
    assert openpyxl.load_workbook(out / "syt_syt.xlsx").sheetnames == ["Cần sửa", "Thông tin", "Nền tảng"]


def test_feedback_key_depends_on_what_the_copy_shows(tmp_path):
    result = _month_with_problems(tmp_path)
    sub = result.submissions.set_index("file_name").loc["hue.xlsx"]
    issues = result.issues[result.issues["submission_id"] == sub["submission_id"]]
    args = {"file_name": "hue.xlsx", "unit_name": "Thành phố Huế", "month": MONTH, "settings": SETTINGS}
    archived = Path(sub["archived_path"])
    base = intake.feedback.feedback_key(archived, issues, **args)
    assert intake.feedback.feedback_key(archived, issues.copy(), **args) == base
    other_settings = {**SETTINGS, "submission": {**SETTINGS["submission"], "max_rows_per_sheet": 3}}
    others = [
        intake.feedback.feedback_key(archived, issues.iloc[:1], **args),
        intake.feedback.feedback_key(archived, issues.assign(severity="warning"), **args),
        intake.feedback.feedback_key(None, issues, **args),
        intake.feedback.feedback_key(archived, issues, **{**args, "file_name": "hue2.xlsx"}),
        intake.feedback.feedback_key(archived, issues, **{**args, "unit_name": "Quận Thuận Hóa"}),
        intake.feedback.feedback_key(archived, issues, **{**args, "month": "2022-10"}),
        intake.feedback.feedback_key(archived, issues, **{**args, "settings": other_settings}),
    ]
    assert base not in others and len(set(others)) == len(others)


@pytest.mark.parametrize("reader", intake.READERS)
def test_a_corrected_feedback_copy_reads_back_clean(tmp_path, reader):
    result = _month_with_problems(tmp_path)
    out = tmp_path / "fb"
    intake.write_feedback_month(MONTH, result.submissions, result.issues, out, registry=REGISTRY, settings=SETTINGS)
    wb = openpyxl.load_workbook(out / "474_hue.xlsx")
    wb["Nền tảng"]["E2"] = 1200
    wb.save(tmp_path / "hue_sua.xlsx")
    sub = read(tmp_path / "hue_sua.xlsx", reader=reader)
    assert [(i["rule"], i["sheet"]) for i in sub.issues] == [("sheet.missing", "Tổ công nghệ số")]
    assert value(sub, "nen_tang", "nd-hues", "mau")["value"] == 1200
    assert value(sub, "hue_s", "", "satisfaction")["value"] == pytest.approx(82.5)
    assert value(sub, "nen_tang", "nd-hues", "note")["text"] == '\'=HYPERLINK("http://x","bấm")'


def test_feedback_name_is_safe():
    assert intake.feedback_name("474", "Báo cáo T9.xlsx") == "474_Báo cáo T9.xlsx"
    assert intake.feedback_name(None, "a/b:c?.pdf") == "khong_ro_don_vi_a_b_c_.pdf.xlsx"


def test_validation_page_has_the_tracker_and_links_to_feedback(tmp_path):
    result = _month_with_problems(tmp_path)
    track = intake.tracker(MONTH, REGISTRY, result.submissions, result.facts)
    sid = result.submissions.set_index("file_name").loc["hue.xlsx", "submission_id"]
    page = intake.validation_page(result.issues, REGISTRY, MONTH, track, {sid: "feedback/474_hue <1>.xlsx"})
    assert "<h2>Tình hình nộp báo cáo</h2>" in page
    # 30 units: 474 and snv (resubmitted) and syt (late) received, sct rejected, 26 missing
    assert "Đã nộp: 1; Nộp muộn: 1; Chưa nộp: 26; Nộp lại: 1; Bị từ chối: 1." in page
    assert '<a href="feedback/474_hue%20%3C1%3E.xlsx">474_hue &lt;1&gt;.xlsx</a>' in page
    row = page[page.index("<td>sct</td>") :]
    assert row.index("Bị từ chối") < row.index("</tr>")
    assert "Tình trạng: Nộp lại." in page


def test_clean_writes_validation_tracker_and_feedback(tmp_path):
    from dxreport import steps

    inbox = tmp_path / "inbox" / MONTH
    _at(
        inbox,
        "syt.xlsx",
        build(info_rows(unit="syt"), {"nen_tang": [dict(PLATFORM, mau=9999)]}),
        dt.datetime(2022, 10, 3, tzinfo=ICT),
    )
    run = steps.run_params(MONTH, "tinh", str(tmp_path / "inbox"), str(tmp_path / "out"))
    result = steps.clean(run)
    month_dir = tmp_path / "out" / MONTH
    assert (month_dir / "feedback" / "syt_syt.xlsx").exists()
    assert result.feedback["path"].tolist() == [month_dir / "feedback" / "syt_syt.xlsx"]
    page = (month_dir / "validation.html").read_text(encoding="utf-8")
    assert 'href="feedback/syt_syt.xlsx"' in page and "Chưa nộp: 29" in page
    assert result.tracker.set_index("unit").loc["syt", "sections_not_reported"] == "Nền tảng"


def test_feedback_of_a_file_that_breaks_while_copied_is_the_list_alone(tmp_path, monkeypatch):
    monkeypatch.setattr("dxreport.intake.container.XML_PROLOG_BYTES", 8)  # let the entities reach the sheet parser
    path = save(build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}), tmp_path, "bom.xlsx")
    _with_part(path, _sheet_part(path, "Nền tảng"), lambda x: x.replace("<worksheet", LAUGHS + "<worksheet", 1))
    issue = read(path).issues[0]
    frame = pd.DataFrame([{**issue, "unit": None, "submission_id": "x"}])
    out = intake.write_feedback(
        path, frame, tmp_path / "fb" / "bom.xlsx", file_name="bom.xlsx", month=MONTH, settings=SETTINGS
    )
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Cần sửa"]
    assert [c.value for c in wb["Cần sửa"][8]][1:5] == ["(cả tệp)", None, "Lỗi", "file.xml_bomb"]


def test_feedback_falls_back_to_the_list_when_copying_fails(tmp_path, monkeypatch):
    path = save(district_workbook(hue_s=[dict(HUES, satisfaction="120%")]), tmp_path, "hue.xlsx")
    issues = pd.DataFrame([{**i, "unit": "474", "submission_id": "x"} for i in read(path).issues])

    def broken(*args, **kwargs):
        raise RuntimeError("sheet stops half-way")

    monkeypatch.setattr("dxreport.intake.feedback._copy_values", broken)
    wb = openpyxl.load_workbook(
        intake.write_feedback(
            path,
            issues,
            tmp_path / "fb.xlsx",
            file_name="hue.xlsx",
            unit_name="Thành phố Huế",
            month=MONTH,
            settings=SETTINGS,
        )
    )
    assert wb.sheetnames == ["Cần sửa"]
    assert [c.value for c in wb["Cần sửa"][8]][1:5] == ["Hue-S", "F2", "Lỗi", "cell.rate"]
    assert wb["Cần sửa"]["C8"].hyperlink is None  # no copy to point into


def test_a_fuzzy_platform_match_is_loaded_and_reported(tmp_path):
    # one letter off the catalog name "Sổ sức khỏe điện tử": taken for it, with a warning
    rows = [dict(PLATFORM, platform_name="Sổ sức khỏe điện tửu")]
    sub = _bad(tmp_path, nen_tang=rows)
    issue = only(sub.issues, "platform.fuzzy")
    assert (issue["severity"], issue["cell"]) == ("warning", "B2")
    assert "Sổ sức khỏe điện tử" in issue["message"]
    assert {f["subject"] for f in sub.facts if f["sheet"] == "nen_tang"} == {"nd-sskdt"}


# --------------------------------------------------------------------------- when each file was received

OCT = "2022-10"  # due 05/11/2022 (deadline_day 5)


def _oct_file(inbox, name="hue.xlsx", unit="474", when=dt.datetime(2022, 11, 3, 9, 0)):
    sheets = {"hue_s": [HUES]} if unit == "474" else {"nen_tang": [PLATFORM]}
    wb = build(info_rows(unit=unit, period="10/2022", prepared_on="02/11/2022"), sheets)
    return _at(inbox, name, wb, when.replace(tzinfo=ICT))


def _touch(path, when):
    stamp = when.replace(tzinfo=ICT).timestamp()
    os.utime(path, (stamp, stamp))


def _received(result, name):
    sub = result.submissions.set_index("file_name").loc[name]
    return sub["received_at"], sub["received_source"], sub["received_channel"], bool(sub["late"])


def test_touching_copying_or_rebuilding_never_changes_the_received_time(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path, OCT)
    path = _oct_file(inbox)
    first_seen = (pd.Timestamp("2022-11-03 09:00"), "first_seen", None, False)
    assert _received(_ingest(inbox, warehouse, OCT), "hue.xlsx") == first_seen
    # touched after the deadline (20/11) and loaded again: still received 03/11, on time
    _touch(path, dt.datetime(2022, 11, 20))
    assert _received(_ingest(inbox, warehouse, OCT), "hue.xlsx") == first_seen
    # the same bytes under another name, modified later still, the first name gone
    copy = path.rename(inbox / "hue (gửi lại).xlsx")
    _touch(copy, dt.datetime(2022, 11, 21))
    result = _ingest(inbox, warehouse, OCT)
    assert _received(result, "hue (gửi lại).xlsx") == first_seen
    # the warehouse deleted and made anew from the folder and the archive
    warehouse.unlink()
    result = _ingest(inbox, warehouse, OCT)
    assert _received(result, "hue (gửi lại).xlsx") == first_seen
    assert not (result.issues["rule"] == "file.late").any()
    con = store.connect(warehouse, read_only=True)
    try:
        row = con.execute("SELECT received_at, received_source, late FROM submissions").fetchall()
    finally:
        con.close()
    assert row == [(dt.datetime(2022, 11, 3, 9, 0), "first_seen", False)]


def test_two_copies_in_one_folder_keep_the_earlier_time(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path, OCT)
    later = _oct_file(inbox, "b.xlsx", when=dt.datetime(2022, 11, 9))
    (inbox / "a.xlsx").write_bytes(later.read_bytes())
    _touch(inbox / "a.xlsx", dt.datetime(2022, 11, 4, 14, 0))
    result = _ingest(inbox, warehouse, OCT)
    # a.xlsx was seen first (04/11 14:00): it is kept, b.xlsx is its duplicate and takes its time
    assert _received(result, "a.xlsx") == (pd.Timestamp("2022-11-04 14:00"), "first_seen", None, False)
    assert result.issues.set_index("rule").loc["file.duplicate", "file_name"] == "b.xlsx"
    (inbox / "a.xlsx").unlink()
    assert _received(_ingest(inbox, warehouse, OCT), "b.xlsx") == (
        pd.Timestamp("2022-11-04 14:00"),
        "first_seen",
        None,
        False,
    )


def test_a_broken_record_is_made_anew_with_a_warning_kept_from_the_unit(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path, OCT)
    path = _oct_file(inbox)
    sid = _ingest(inbox, warehouse, OCT).submissions.iloc[0]["submission_id"]
    (tmp_path / "data" / "raw" / f"{sid}.xlsx.received.json").write_text("", encoding="utf-8")
    _touch(path, dt.datetime(2022, 11, 4, 8, 0))
    result = _ingest(inbox, warehouse, OCT)
    assert _received(result, "hue.xlsx") == (pd.Timestamp("2022-11-04 08:00"), "first_seen", None, False)
    replaced = result.issues[result.issues["rule"] == "received.record_replaced"]
    assert replaced[["file_name", "severity", "unit"]].values.tolist() == [["hue.xlsx", "warning", "474"]]
    copies = intake.write_feedback_month(
        OCT, result.submissions, replaced, tmp_path / "fb", registry=REGISTRY, settings=SETTINGS
    )
    assert copies.empty
    # made anew, the record answers from now on
    _touch(path, dt.datetime(2022, 11, 30))
    assert _received(_ingest(inbox, warehouse, OCT), "hue.xlsx")[0] == pd.Timestamp("2022-11-04 08:00")


def test_received_csv_comes_first_and_can_make_a_file_late(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path, OCT)
    _oct_file(inbox)  # first seen 03/11 09:00
    _oct_file(inbox, "syt.xlsx", unit="syt", when=dt.datetime(2022, 11, 8))  # first seen 08/11: late
    (inbox / "received.csv").write_text(
        "Tệp,Ngày nhận,Hình thức\nhue.xlsx,07/11/2022 10:15,Thư điện tử\nsyt.xlsx,04/11/2022,văn bản điện tử\n",
        encoding="utf-8",
    )
    result = _ingest(inbox, warehouse, OCT)
    assert sorted(result.submissions["file_name"]) == ["hue.xlsx", "syt.xlsx"]  # the list is no submission
    assert _received(result, "hue.xlsx") == (pd.Timestamp("2022-11-07 10:15"), "received.csv", "email", True)
    assert _received(result, "syt.xlsx") == (pd.Timestamp("2022-11-04 00:00"), "received.csv", "document_system", False)
    late = result.issues[result.issues["rule"] == "file.late"]
    assert late["message"].tolist() == [
        (
            "Tệp “hue.xlsx” nhận lúc 10:15 07/11/2022 (theo khai báo trong received.csv "
            "(thư điện tử)), sau hạn nộp ngày 05/11/2022."
        )
    ]
    assert not (result.issues["file_name"] == "received.csv").any()
    # without the list, the times first seen answer again
    (inbox / "received.csv").unlink()
    result = _ingest(inbox, warehouse, OCT)
    assert _received(result, "hue.xlsx") == (pd.Timestamp("2022-11-03 09:00"), "first_seen", None, False)
    assert _received(result, "syt.xlsx") == (pd.Timestamp("2022-11-08 00:00"), "first_seen", None, True)


def test_bad_rows_of_received_csv_are_warnings_naming_their_cells(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path, OCT)
    _oct_file(inbox)
    (inbox / "received.csv").write_text(
        "file,received,channel\nhue.xlsx,hôm qua,email\nkhong_co.xlsx,07/11/2022,email\n", encoding="utf-8"
    )
    result = _ingest(inbox, warehouse, OCT)
    assert _received(result, "hue.xlsx") == (pd.Timestamp("2022-11-03 09:00"), "first_seen", None, False)
    mine = result.issues[result.issues["file_name"] == "received.csv"]
    assert [(r.cell, r.rule, r.severity) for r in mine.itertuples()] == [
        ("B2", "received.bad_date", "warning"),
        ("A3", "received.unknown_file", "warning"),
    ]
    assert mine["message"].iloc[0].startswith("received.csv, ô B2: dòng 2: ngày nhận “hôm qua” không đọc được")
    assert mine["unit"].isna().all() and mine["submission_id"].isna().all()
    assert not (result.issues["severity"] == "error").any()
    con = store.connect(warehouse, read_only=True)
    try:
        assert store.issues_frame(con, OCT)["rule"].tolist().count("received.bad_date") == 1
    finally:
        con.close()
    copies = intake.write_feedback_month(
        OCT, result.submissions, result.issues, tmp_path / "fb", registry=REGISTRY, settings=SETTINGS
    )
    assert "received.csv" not in copies["file_name"].tolist()  # nothing of the list goes back to the units
    text = intake.validation_html(result.issues, REGISTRY)
    group = text[text.index("<h3>Danh sách ngày nhận tệp (received.csv)</h3>") :]
    assert "received.csv, ô B2" in group and "received.csv, ô A3" in group
    assert "Chưa xác định được đơn vị" not in text


def test_a_unit_that_resubmitted_late_shows_both(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path)
    _at(
        inbox,
        "hue_v1.xlsx",
        build(info_rows(prepared_on="03/10/2022"), {"hue_s": [HUES]}),
        dt.datetime(2022, 10, 3, 9, tzinfo=ICT),
    )
    _at(
        inbox,
        "hue_v2.xlsx",
        build(info_rows(prepared_on="07/10/2022"), {"hue_s": [dict(HUES, downloads=1)]}),
        dt.datetime(2022, 10, 7, 8, tzinfo=ICT),
    )
    _at(inbox, "syt.xlsx", build(info_rows(unit="syt"), {"nen_tang": [PLATFORM]}), dt.datetime(2022, 10, 4, tzinfo=ICT))
    result = _ingest(inbox, warehouse)
    track = intake.tracker(MONTH, REGISTRY, result.submissions, result.facts).set_index("unit")
    hue = track.loc["474"]
    assert (hue["status"], hue["status_label"], hue["late"], hue["resubmitted"]) == (
        "late",
        "Nộp lại, nộp muộn",
        True,
        True,
    )
    assert hue["file_name"] == "hue_v2.xlsx" and hue["received_at"] == pd.Timestamp("2022-10-07 08:00")
    assert (hue["received_source"], hue["received_source_label"]) == ("first_seen", "lần đầu nhận (thời điểm tệp)")
    syt = track.loc["syt"]
    assert (syt["status"], syt["status_label"], syt["late"], syt["resubmitted"]) == ("received", "Đã nộp", False, False)
    missing = track.loc["476"]
    assert missing["status_label"] == "Chưa nộp"
    assert pd.isna(missing["received_source"]) and pd.isna(missing["received_source_label"])
    page = intake.validation_page(result.issues, REGISTRY, MONTH, track.reset_index())
    assert (
        "Đã nộp: 1; Nộp muộn: 1; Chưa nộp: 28; Nộp lại: 1; Bị từ chối: 0. Trong đó 1 đơn vị vừa nộp lại "
        "vừa nộp muộn, được tính ở cả hai mục."
    ) in page
    assert "Tình trạng: Nộp lại, nộp muộn." in page


def test_validation_outputs_give_each_file_its_received_time_and_source(tmp_path):
    inbox, warehouse = _month_dirs(tmp_path, OCT)
    _oct_file(inbox)
    _oct_file(inbox, "a&b <1>.xlsx", unit="syt", when=dt.datetime(2022, 11, 2, 7, 0))
    (inbox / "received.csv").write_text(
        "file,received,channel\nhue.xlsx,06/11/2022 16:45,trực tiếp\n", encoding="utf-8"
    )
    result = _ingest(inbox, warehouse, OCT)
    track = intake.tracker(OCT, REGISTRY, result.submissions, result.facts)
    page = intake.validation_page(result.issues, REGISTRY, OCT, track, submissions=result.submissions)
    files = page[page.index("<h2>Các tệp đã nhận</h2>") : page.index("<h2>Lỗi và cảnh báo theo đơn vị</h2>")]
    assert files.count("<tr>") == 3  # the header and two files, in order of arrival
    assert (
        "<td>a&amp;b &lt;1&gt;.xlsx</td><td>syt</td><td>Được tính</td><td>07:00 02/11/2022</td>"
        "<td>lần đầu nhận (thời điểm tệp)</td><td>Đúng hạn</td>"
    ) in files
    assert (
        "<td>hue.xlsx</td><td>474</td><td>Được tính</td><td>16:45 06/11/2022</td>"
        "<td>khai báo trong received.csv (trực tiếp)</td><td>Sau hạn</td>"
    ) in files
    assert files.index("a&amp;b") < files.index("hue.xlsx")
    tracked = page[page.index("<td>474</td>") :]
    assert (
        "<td>16:45 06/11/2022</td><td>khai báo trong received.csv (trực tiếp)</td>" in tracked[: tracked.index("</tr>")]
    )
    assert "<th>Nguồn thời điểm nhận</th>" in page and "a&b <1>" not in page

    path = intake.write_validation(result.issues, tmp_path / "validation.csv", result.submissions)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    receipts = [
        (r["file"], r["severity"], r["received_at"], r["received_source"], r["message"])
        for r in rows
        if r["rule"] == "file.received"
    ]
    assert receipts == [
        (
            "a&b <1>.xlsx",
            "info",
            "02/11/2022 07:00",
            "lần đầu nhận (thời điểm tệp)",
            "Nhận lúc 07:00 02/11/2022; nguồn: lần đầu nhận (thời điểm tệp).",
        ),
        (
            "hue.xlsx",
            "info",
            "06/11/2022 16:45",
            "khai báo trong received.csv (trực tiếp)",
            "Nhận lúc 16:45 06/11/2022; nguồn: khai báo trong received.csv (trực tiếp).",
        ),
    ]
    late = next(r for r in rows if r["rule"] == "file.late")
    assert (late["file"], late["received_at"], late["received_source"]) == (
        "hue.xlsx",
        "06/11/2022 16:45",
        "khai báo trong received.csv (trực tiếp)",
    )


def test_clean_with_received_lists_and_their_history(tmp_path):
    from dxreport import steps

    inbox = tmp_path / "inbox"
    for month, period, day in ((MONTH, "09/2022", "2022-10-04"), (OCT, "10/2022", "2022-11-04")):
        wb = build(
            info_rows(unit="syt", period=period, prepared_on=f"{day[8:]}/{day[5:7]}/{day[:4]}"),
            {"nen_tang": [PLATFORM]},
        )
        _at(inbox / month, "syt.xlsx", wb, dt.datetime(2022, 12, 1, tzinfo=ICT))  # copied in late
        (inbox / month / "received.csv").write_text(f"file,received,channel\nsyt.xlsx,{day},hand\n", encoding="utf-8")
    run = steps.run_params(OCT, "tinh", str(inbox), str(tmp_path / "out"))
    result = steps.clean(run)
    assert result.history_months == [MONTH]
    assert steps.stale_history(run) == []  # received.csv is not a submission of its month
    sub = result.submissions.iloc[0]
    assert (sub["received_at"], sub["received_source"], bool(sub["late"])) == (
        pd.Timestamp("2022-11-04"),
        "received.csv",
        False,
    )
    assert result.tracker.set_index("unit").loc["syt", "status_label"] == "Đã nộp"
    month_dir = tmp_path / "out" / OCT
    page = (month_dir / "validation.html").read_text(encoding="utf-8")
    assert "<td>khai báo trong received.csv (trực tiếp)</td>" in page and "<h2>Các tệp đã nhận</h2>" in page
    with open(month_dir / "validation.csv", encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["rule"] == "file.received"]
    assert [(r["file"], r["received_at"], r["received_source"]) for r in rows] == [
        ("syt.xlsx", "04/11/2022 00:00", "khai báo trong received.csv (trực tiếp)")
    ]
    # September's list corrected to 09/10 (after its deadline of 05/10): September is loaded again, late
    (inbox / MONTH / "received.csv").write_text("file,received,channel\nsyt.xlsx,09/10/2022,hand\n", encoding="utf-8")
    assert steps.stale_history(run) == [MONTH]
    assert steps.clean(run).history_months == [MONTH]
    con = store.connect(steps.warehouse(run), read_only=True)
    try:
        sept = store.submissions_frame(con, MONTH).iloc[0]
    finally:
        con.close()
    assert (sept["received_at"], bool(sept["late"])) == (pd.Timestamp("2022-10-09"), True)
    # the list taken away: the time first seen (01/12) answers, so September is stale again
    (inbox / MONTH / "received.csv").unlink()
    assert steps.stale_history(run) == [MONTH]


def test_intake_columns_are_the_warehouse_columns():
    assert intake.ISSUE_COLUMNS == store.columns("issues")
    assert intake.FACT_COLUMNS == store.columns("facts")
    assert intake.SUBMISSION_COLUMNS == store.columns("submissions")


def test_the_intake_package_imports_nothing_above_the_inputs_layer():
    above = {
        "store",
        "monthload",
        "kpis",
        "report",
        "narrative",
        "charts",
        "annex",
        "site",
        "steps",
        "runner",
        "render",
        "kernels",
        "cli",
    }
    package = Path(intake.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                assert not (parts[0] == "dxreport" and len(parts) > 1 and parts[1] in above), (path.name, name)


# --------------------------------------------------------------------------- the map of 2025


def _area_form(folder: Path, unit: str, month: str, communes: list[dict], name: str = "f.xlsx") -> Path:
    """A file of an area unit with every area sheet: one platform, Hue-S, its `Tổ công nghệ số`
    rows, the enterprises; written with conftest's write_form."""
    from conftest import PLATFORM_HEADERS, info, write_form

    def table(key, rows):
        keys, heads = headers(key)
        return [heads] + [[row.get(k) for k in keys] for row in rows]

    prepared = dt.date(int(month[:4]) + (month[5:] == "12"), int(month[5:]) % 12 + 1, 3)
    return write_form(
        folder / name,
        info(unit, month, prepared),
        {
            "Nền tảng": [PLATFORM_HEADERS, [None, "Ứng dụng Hue-S", "Đang sử dụng", 5000, 1200, 30000, "Có"]],
            "Hue-S": table("hue_s", [HUES]),
            "Tổ công nghệ số": table("to_cns", communes),
            "Doanh nghiệp": table("doanh_nghiep", [DN]),
        },
    )


@pytest.mark.parametrize(
    "month,unit,commune,name",
    [
        ("2024-12", "474", "19750", "Tây Lộc"),  # thành phố Huế, the last month of the 2022 map
        ("2025-01", "475", "19750", "Tây Lộc"),  # the same phường, now in quận Phú Xuân
        ("2025-06", "475", "19753", "Thuận Lộc"),
        ("2025-07", "19753", "19753", "Phú Xuân"),  # phường Phú Xuân reports for itself
    ],
)
def test_area_file_on_each_side_of_each_change(tmp_path, month, unit, commune, name):
    rows = [{"commune_code": commune, "commune_name": name, "teams": 4, "members": 18}]
    sub = read(_area_form(tmp_path, unit, month, rows), month=month)
    assert not sub.rejected and sub.unit == unit
    assert [i for i in sub.issues if i["severity"] == "error"] == []
    assert sorted(sub.sheets) == ["doanh_nghiep", "hue_s", "nen_tang", "thong_tin", "to_cns"]
    assert value(sub, "to_cns", commune, "teams")["value"] == 4
    assert value(sub, "hue_s", "", "downloads")["value"] == 800000
    assert value(sub, "doanh_nghiep", "", "sme_reached")["value"] == 120


def test_commune_of_another_area_in_2025(tmp_path):
    # 2025-01: Phường Tây Lộc is in quận Phú Xuân (475), not in quận Thuận Hóa (474, a reused code).
    rows = [{"commune_code": "19750", "commune_name": "Tây Lộc", "teams": 1, "members": 5}]
    sub = read(_area_form(tmp_path, "474", "2025-01", rows), month="2025-01")
    issue = only(sub.issues, "row.wrong_district_commune")
    assert issue["message"] == (
        "Tổ công nghệ số!A2: Mã xã “19750” là Phường Tây Lộc thuộc Quận Phú Xuân, không thuộc Quận Thuận Hóa; "
        "dòng 2 không được nạp."
    )


def test_2025_07_commune_lists_only_itself(tmp_path):
    rows = [
        {"commune_code": "19753", "commune_name": "Phường Phú Xuân", "teams": 6, "members": 30},
        {"commune_code": "19774", "commune_name": "Kim Long", "teams": 1, "members": 5},  # A3 another phường
        {"commune_name": "Vỹ Dạ", "teams": 1, "members": 5},  # B4 another phường, by name
        {"commune_name": "Tây Lộc", "teams": 1, "members": 5},  # B5 merged on 01/07/2025
        {"commune_code": "19750", "commune_name": "Tây Lộc", "teams": 1, "members": 5},  # A6 idem, by code
    ]
    sub = read(_area_form(tmp_path, "19753", "2025-07", rows), month="2025-07")
    assert not sub.rejected
    assert set(facts_of(sub, "to_cns")["subject"]) == {"19753"}
    assert value(sub, "to_cns", "19753", "members")["value"] == 30
    messages = {i["cell"]: i["message"] for i in sub.issues if i["severity"] == "error"}
    assert messages == {
        "A3": "Tổ công nghệ số!A3: Mã xã “19774” là Phường Kim Long trực thuộc Thành phố Huế, tự gửi báo cáo, "
        "không thuộc Phường Phú Xuân; dòng 3 không được nạp.",
        "B4": "Tổ công nghệ số!B4: “Vỹ Dạ” không phải đơn vị cấp xã của Phường Phú Xuân "
        "(tên này là của Phường Vỹ Dạ, tự gửi báo cáo); dòng 4 không được nạp.",
        "B5": "Tổ công nghệ số!B5: “Tây Lộc” không có trong danh mục xã, phường của Phường Phú Xuân; "
        "dòng 5 không được nạp.",
        "A6": "Tổ công nghệ số!A6: Mã xã “19750” không có trong danh mục xã, phường; dòng 6 không được nạp.",
    }


def test_2022_commune_messages_name_the_2022_kinds(tmp_path):
    rows = [
        {"commune_code": "99999", "commune_name": "Không rõ", "teams": 1, "members": 5},
        {"commune_name": "Xã Mặt Trăng", "teams": 1, "members": 5},
    ]
    sub = _bad(tmp_path, to_cns=rows)
    assert sorted(i["message"] for i in sub.issues) == [
        "Tổ công nghệ số!A2: Mã xã “99999” không có trong danh mục xã, phường, thị trấn; dòng 2 không được nạp.",
        "Tổ công nghệ số!B3: “Xã Mặt Trăng” không có trong danh mục xã, phường, thị trấn của Thành phố Huế; "
        "dòng 3 không được nạp.",
    ]


@pytest.mark.parametrize(
    "code,month,message",
    [
        (
            "483",
            "2025-01",
            "Mã đơn vị “483” là Huyện Nam Đông, đã thôi là đơn vị báo cáo từ ngày 01/01/2025; "
            "địa bàn nay thuộc Huyện Phú Lộc (482); toàn bộ tệp không được nạp, hãy gửi lại với mã đơn vị mới.",
        ),
        (
            "483",
            "2025-07",
            "Mã đơn vị “483” là Huyện Nam Đông, đã thôi là đơn vị báo cáo từ ngày 01/01/2025; "
            "địa bàn nay thuộc Xã Khe Tre (20161), Xã Nam Đông (20179), Xã Long Quảng (20182); "
            "toàn bộ tệp không được nạp, mỗi đơn vị trên gửi báo cáo riêng với mã của mình.",
        ),
        (
            "stttt",
            "2025-04",
            "Mã đơn vị “stttt” là Sở Thông tin và Truyền thông, đã thôi là đơn vị báo cáo từ ngày 01/03/2025; "
            "nhiệm vụ nay do Sở Khoa học và Công nghệ (skhcn) đảm nhận; toàn bộ tệp không được nạp, "
            "hãy gửi lại với mã đơn vị mới.",
        ),
        (
            "999",
            "2025-07",
            "Mã đơn vị “999” không có trong danh mục đơn vị (mã GSO với cấp xã, mã danh mục với sở, ban, ngành); "
            "toàn bộ tệp không được nạp.",
        ),
        (
            "999",
            "2024-12",
            "Mã đơn vị “999” không có trong danh mục đơn vị (mã GSO với cấp huyện, mã danh mục với sở, ban, ngành); "
            "toàn bộ tệp không được nạp.",
        ),
    ],
)
def test_file_with_a_code_that_no_longer_reports_names_its_successors(tmp_path, code, month, message):
    sub = read(_area_form(tmp_path, code, month, []), month=month)
    issue = _rejected(sub, "info.unknown_unit", sheet="Thông tin", cell="B1")
    assert issue["message"] == f"Tệp “f.xlsx”: Thông tin!B1 — {message}"


def test_474_of_2025_07_points_to_the_eight_phuong(tmp_path):
    sub = read(_area_form(tmp_path, "474", "2025-07", []), month="2025-07")
    message = _rejected(sub, "info.unknown_unit", sheet="Thông tin", cell="B1")["message"]
    assert "Quận Thuận Hóa, đã thôi là đơn vị báo cáo từ ngày 01/07/2025" in message
    assert message.count("(19") + message.count("(20") == 8 and "Phường Phú Xuân" not in message


def test_reused_code_is_the_unit_of_the_month(tmp_path):
    rows = [{"commune_code": "19777", "commune_name": "Vỹ Dạ", "teams": 2, "members": 7}]
    sub = read(_area_form(tmp_path, "474", "2025-03", rows), month="2025-03")
    assert not sub.rejected and sub.unit == "474"
    assert value(sub, "to_cns", "19777", "teams")["value"] == 2


@pytest.mark.parametrize(
    "month,count,first,label,agencies",
    [
        ("2024-12", 9 + 21, ("474", "Thành phố Huế"), "Đơn vị cấp huyện", 21),
        ("2025-01", 9 + 21, ("474", "Quận Thuận Hóa"), "Đơn vị cấp huyện", 21),
        ("2025-06", 9 + 15, ("474", "Quận Thuận Hóa"), "Đơn vị cấp huyện", 15),
        ("2025-07", 40 + 15, ("19753", "Phường Phú Xuân"), "Đơn vị cấp xã", 15),
    ],
)
def test_tracker_names_and_labels_units_as_in_the_month(month, count, first, label, agencies):
    track = intake.tracker(month, REGISTRY, pd.DataFrame(columns=intake.SUBMISSION_COLUMNS))
    assert len(track) == count and set(track["status"]) == {"missing"}
    assert tuple(track.iloc[0][["unit", "unit_name"]]) == first
    assert track.iloc[0]["type_label"] == label
    assert (track["type_label"] == "Sở, ban, ngành").sum() == agencies
    assert set(track["type_label"]) == {label, "Sở, ban, ngành"}


def test_validation_page_names_a_reused_code_as_in_its_month():
    issues = _issues_frame().drop(columns=["month"])
    assert "<h3>Thành phố Huế (474)</h3>" in intake.validation_page(issues, REGISTRY, "2022-09")
    assert "<h3>Quận Thuận Hóa (474)</h3>" in intake.validation_page(issues, REGISTRY, "2025-03")
    assert "<h3>Quận Thuận Hóa (474)</h3>" in intake.validation_html(issues, REGISTRY, month="2025-03")
    # without the month argument, the month the issues carry
    assert "<h3>Thành phố Huế (474)</h3>" in intake.validation_html(_issues_frame(), REGISTRY)


def test_validation_groups_follow_the_reporting_units_of_the_month():
    rows = [
        {"month": "2025-07", "unit": code, "file_name": f"{code}.xlsx", "severity": "warning", "message": "m"}
        for code in ("skhcn", "19774", "19753")
    ]
    issues = pd.DataFrame(rows, columns=intake.ISSUE_COLUMNS)
    page = intake.validation_html(issues, REGISTRY)
    titles = re.findall(r"<h3>(.*?)</h3>", page)
    assert titles == ["Phường Phú Xuân (19753)", "Phường Kim Long (19774)", "Sở Khoa học và Công nghệ (skhcn)"]


def _history_fact(month, unit, sheet, subject, metric, value):
    return {
        "month": month,
        "unit": unit,
        "sheet": sheet,
        "subject_kind": "commune" if sheet == "to_cns" else "unit",
        "subject": subject,
        "subject_name": "",
        "metric": metric,
        "value": float(value),
        "text": None,
        "submission_id": "s",
        "cell": "A2",
    }


@pytest.mark.parametrize(
    "month,earlier,unit,sheet,subject,warned",
    [
        ("2024-12", "2024-11", "474", "hue_s", "", True),  # thành phố Huế both months
        ("2025-01", "2024-12", "474", "hue_s", "", False),  # 474 is quận Thuận Hóa from 01/2025
        ("2025-01", "2024-12", "478", "hue_s", "", True),  # Phú Vang kept its communes
        ("2025-06", "2025-05", "474", "hue_s", "", True),
        ("2025-07", "2025-06", "19753", "to_cns", "19753", False),  # Phú Xuân is not Thuận Lộc
        ("2025-04", "2025-02", "skhcn", "hue_s", "", False),  # Sở KH&CN after the merger
    ],
)
def test_history_compares_a_code_only_with_the_same_unit(month, earlier, unit, sheet, subject, warned):
    metric = "teams" if sheet == "to_cns" else "accounts"
    facts = pd.DataFrame([_history_fact(month, unit, sheet, subject, metric, 100)])
    history = pd.DataFrame([_history_fact(earlier, unit, sheet, subject, metric, 500)])
    got = intake.history_issues(facts, history, month, {"s": "f.xlsx"}, REGISTRY)
    assert [i["rule"] for i in got] == (["history.cumulative_down"] if warned else [])


def test_ingest_of_2025_07_a_phuong_and_a_file_with_the_old_district_code(tmp_path):
    month = "2025-07"
    inbox, warehouse = _month_dirs(tmp_path, month)
    own = [{"commune_code": "19753", "commune_name": "Phú Xuân", "teams": 6, "members": 30}]
    _area_form(inbox, "19753", month, own, name="phu-xuan.xlsx")
    _area_form(inbox, "474", month, own, name="thuan-hoa.xlsx")
    for name in ("phu-xuan.xlsx", "thuan-hoa.xlsx"):
        stamp = dt.datetime(2025, 8, 2, 9, tzinfo=ICT).timestamp()
        os.utime(inbox / name, (stamp, stamp))
    result = _ingest(inbox, warehouse, month)
    subs = result.submissions.set_index("file_name")
    assert subs.loc["phu-xuan.xlsx", "status"] == "accepted" and subs.loc["thuan-hoa.xlsx", "status"] == "rejected"
    facts = result.facts[(result.facts["sheet"] == "to_cns") & (result.facts["metric"] == "teams")]
    assert facts[["unit", "subject", "value"]].values.tolist() == [["19753", "19753", 6.0]]
    track = intake.tracker(month, REGISTRY, result.submissions, result.facts).set_index("unit")
    assert len(track) == 55 and "474" not in track.index
    assert tuple(track.loc["19753", ["status", "unit_name", "type_label", "sections_not_reported"]]) == (
        "received",
        "Phường Phú Xuân",
        "Đơn vị cấp xã",
        "",
    )
    rejected = result.issues[result.issues["file_name"] == "thuan-hoa.xlsx"]
    assert rejected["rule"].tolist() == ["info.unknown_unit"]
    assert "Quận Thuận Hóa, đã thôi là đơn vị báo cáo từ ngày 01/07/2025" in rejected["message"].iloc[0]
