from dxreport import forms
from dxreport.textnorm import fold


def test_sheets_follow_the_spec():
    assert [s.name for s in forms.SHEETS] == ["Thông tin", "Nền tảng", "Hue-S", "Tổ công nghệ số", "Doanh nghiệp"]
    assert [f.header for f in forms.HUE_S.fields] == [
        "Lượt tải lũy kế",
        "Tài khoản đăng ký lũy kế",
        "Phản ánh tiếp nhận trong tháng",
        "Phản ánh đã xử lý trong tháng",
        "Phản ánh xử lý đúng hạn trong tháng",
        "Tỷ lệ hài lòng (%)",
    ]


def test_agencies_fill_two_sheets_districts_five():
    assert [s.key for s in forms.sheets_for(["nen_tang"])] == ["thong_tin", "nen_tang"]
    assert len(forms.sheets_for("thong_tin;nen_tang;hue_s;to_cns;doanh_nghiep".split(";"))) == 5


def test_headers_stay_distinct_after_folding():
    for sheet in forms.SHEETS:
        folded = [fold(f.header) for f in sheet.fields]
        assert len(folded) == len(set(folded)), sheet.name


def test_row_checks_name_fields_of_their_sheet():
    for sheet in forms.SHEETS:
        keys = {f.key for f in sheet.fields}
        for check in sheet.checks:
            assert {check.left, check.right} <= keys and check.op in ("<=", ">=")


# --------------------------------------------------------------------------- the blank template

import datetime as dt  # noqa: E402
import os  # noqa: E402

import openpyxl  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from dxreport import intake, monthload, store, template  # noqa: E402
from dxreport.catalog import Matcher, load_aliases, load_bundled  # noqa: E402
from dxreport.params import ParamError, load_settings  # noqa: E402
from dxreport.units import load_registry  # noqa: E402

REGISTRY = load_registry()
SNAPSHOT = load_bundled()
MATCHER = Matcher(SNAPSHOT.platforms, load_aliases())
SETTINGS = load_settings()
# Phú Vang (478): 14 communes in params/units.csv, the first two Phú Thuận 19903, Phú An 19912,
# the last Vinh Hà 19957.
PHU_VANG_COMMUNES = 14
PREVIOUS = [("nd-dvc", "Dịch vụ công trực tuyến"), ("", "Ứng dụng Phú Vang số")]


@pytest.fixture
def template_478(tmp_path):
    return template.write_template(
        "2022-10",
        "478",
        tmp_path / "phu-vang-2022-10.xlsx",
        registry=REGISTRY,
        snapshot=SNAPSHOT,
        previous_platforms=PREVIOUS,
        settings=SETTINGS,
    )


def _read(path, month="2022-10", reader=None):
    return intake.read_submission(
        path, month=month, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS, reader=reader
    )


def test_template_has_only_the_sheets_of_the_unit_type(template_478, tmp_path):
    assert openpyxl.load_workbook(template_478).sheetnames == [
        "Hướng dẫn",
        "Thông tin",
        "Nền tảng",
        "Hue-S",
        "Tổ công nghệ số",
        "Doanh nghiệp",
        "Danh mục nền tảng",
    ]
    agency = template.write_template("2022-10", "syt", tmp_path / "syt.xlsx", registry=REGISTRY, snapshot=SNAPSHOT)
    assert openpyxl.load_workbook(agency).sheetnames == ["Hướng dẫn", "Thông tin", "Nền tảng", "Danh mục nền tảng"]


def test_template_info_is_prefilled(template_478):
    ws = openpyxl.load_workbook(template_478)["Thông tin"]
    # rows follow the form: Mã đơn vị, Kỳ báo cáo, Người lập, Ngày lập, Điện thoại, Email, Phiên bản biểu mẫu
    assert [ws.cell(r, 1).value for r in range(1, 8)] == [f.header for f in forms.THONG_TIN.fields]
    assert (ws["B1"].value, ws["B2"].value, ws["B7"].value) == ("478", "10/2022", "1")
    assert ws["B3"].value is None and ws["B4"].value is None
    assert ws["C1"].value == "Huyện Phú Vang"


def test_template_lists_the_district_communes_with_codes(template_478):
    ws = openpyxl.load_workbook(template_478)["Tổ công nghệ số"]
    assert [c.value for c in ws[3]][:2] == ["Mã xã", "Xã/phường/thị trấn"]
    rows = [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(4, 4 + PHU_VANG_COMMUNES)]
    assert rows[0] == ("19903", "Xã Phú Thuận") and rows[1] == ("19912", "Xã Phú An")
    assert rows[-1] == ("19957", "Xã Vinh Hà")
    assert ws.cell(4 + PHU_VANG_COMMUNES, 1).value is None


def test_template_offers_last_month_platforms_and_the_catalog(template_478):
    wb = openpyxl.load_workbook(template_478)
    ws = wb["Nền tảng"]
    assert (ws["A4"].value, ws["B4"].value) == ("nd-dvc", "Dịch vụ công trực tuyến")
    assert (ws["A5"].value, ws["B5"].value) == (None, "Ứng dụng Phú Vang số")
    assert ws["C4"].value is None  # status is the unit's to say
    catalog = wb["Danh mục nền tảng"]
    assert catalog.max_row == len(SNAPSHOT.platforms) + 1
    assert [catalog.cell(r, 2).value for r in range(2, catalog.max_row + 1)] == SNAPSHOT.platforms["name"].tolist()
    names = [dv for dv in ws.data_validations.dataValidation if "B4" in str(dv.sqref)]
    assert len(names) == 1 and names[0].formula1 == f"'Danh mục nền tảng'!$B$2:$B${len(SNAPSHOT.platforms) + 1}"
    assert names[0].showErrorMessage is False  # a platform outside the catalog may still be written


def test_template_choice_columns_have_drop_down_lists(template_478):
    ws = openpyxl.load_workbook(template_478)["Nền tảng"]
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    # 2 pre-filled platforms + 30 empty rows: data rows 4..35
    assert lists["C4:C35"] == '"Đang sử dụng,Đang thử nghiệm,Chưa triển khai"'
    assert lists["G4:G35"] == '"Có,Không"'
    counts = [dv for dv in ws.data_validations.dataValidation if dv.type == "whole"]
    assert {str(dv.sqref) for dv in counts} == {"D4:D35", "E4:E35", "F4:F35"}


def test_template_locks_headers_and_labels_not_data_cells(template_478):
    wb = openpyxl.load_workbook(template_478)
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
    info = wb["Thông tin"]
    assert info["A3"].protection.locked and not info["B3"].protection.locked
    table = wb["Hue-S"]
    assert table["A3"].value == "Lượt tải lũy kế" and table["A3"].protection.locked
    assert not table["A4"].protection.locked and not table["F4"].protection.locked
    assert table["A5"].protection.locked  # one data row only
    communes = wb["Tổ công nghệ số"]
    assert not communes["C4"].protection.locked and not communes["A4"].protection.locked


def test_instructions_sheet_in_vietnamese_with_deadline_and_number_rules(template_478):
    ws = openpyxl.load_workbook(template_478)["Hướng dẫn"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    # deadline_day 5 of params/settings.yaml: the October 2022 report is due on 05/11/2022
    assert "Hạn nộp: ngày 05/11/2022" in text
    assert "1.234.567" in text and "12,5" in text
    assert "“chưa báo cáo”, không phải số 0" in text
    assert "“Phản ánh đã xử lý trong tháng” không lớn hơn “Phản ánh tiếp nhận trong tháng”" in text
    assert "Huyện Phú Vang (mã 478)" in text
    assert "“Hue-S” (ứng dụng Hue-S trên địa bàn)" in text and "(SMEdx) và DBI" in text


def _fill(path, out, *, preparer="Lê Thị Hoa", prepared=dt.date(2022, 11, 2)):
    wb = openpyxl.load_workbook(path)
    info = wb["Thông tin"]
    info["B3"], info["B4"] = preparer, prepared
    return wb


@pytest.mark.parametrize("reader", intake.READERS)
def test_filled_template_reads_back_without_any_issue(template_478, tmp_path, reader):
    wb = _fill(template_478, tmp_path)
    ws = wb["Nền tảng"]
    for col, value in zip("CDEFG", ["Đang sử dụng", 12000, 3400, 56000, "Có"]):
        ws[f"{col}4"] = value
    ws["C5"] = "Đang thử nghiệm"
    ws["B6"], ws["C6"], ws["H6"] = "Bản đồ số", "Chưa triển khai", "Đề xuất triển khai năm 2023"
    hue = wb["Hue-S"]
    for col, value in zip("ABCDEF", [80000, 52000, 410, 400, 380, 0.825]):
        hue[f"{col}4"] = value
    hue["F4"].number_format = "0.0%"
    communes = wb["Tổ công nghệ số"]
    for r in range(4, 4 + PHU_VANG_COMMUNES):
        communes[f"C{r}"], communes[f"D{r}"] = 10, 45
    communes["E4"], communes["F4"], communes["G4"] = 2, "1.250", 30
    dn = wb["Doanh nghiệp"]
    for col, value in zip("ABCD", [150, 40, 12, 3]):
        dn[f"{col}4"] = value
    wb.save(tmp_path / "filled.xlsx")

    sub = _read(tmp_path / "filled.xlsx", reader=reader)
    assert not sub.rejected and sub.reader == reader
    # no error; the unit's own platform outside the catalog is kept with its one warning
    assert [(i["rule"], i["cell"], i["severity"]) for i in sub.issues] == [("platform.unmatched", "B5", "warning")]
    facts = pd.DataFrame(sub.facts)
    got = {(r.sheet, r.subject, r.metric): (r.value if pd.isna(r.text) else r.text) for r in facts.itertuples()}
    assert got[("nen_tang", "nd-dvc", "uses")] == 56000 and got[("nen_tang", "nd-dvc", "lgsp")] == "co"
    assert got[("nen_tang", "unmatched:ung dung phu vang so", "status")] == "dang_thu_nghiem"
    assert got[("nen_tang", "cq-bandoso", "proposal")] == "Đề xuất triển khai năm 2023"
    assert got[("hue_s", "", "satisfaction")] == pytest.approx(82.5)
    assert got[("to_cns", "19903", "trained")] == 1250
    assert sum(1 for k in got if k[0] == "to_cns" and k[2] == "teams") == PHU_VANG_COMMUNES
    assert got[("doanh_nghiep", "", "sme_using")] == 40
    # 3 + 1 + 14 + 1 rows; 5 + 1 + 3 facts for the platforms (unmatched: a warning, not an error)
    assert sub.rows_loaded == 19
    assert facts.loc[facts["subject"] == "nd-dvc", "cell"].tolist() == ["C4", "D4", "E4", "F4", "G4"]


def test_unfilled_template_is_rejected_for_its_missing_preparer(template_478):
    sub = _read(template_478)
    assert sub.rejected and sub.facts == []
    issue = sub.issues[0]
    assert (issue["rule"], issue["sheet"], issue["cell"]) == ("info.missing", "Thông tin", "B3")


def test_template_with_only_its_identity_is_not_reported_never_zero(template_478, tmp_path):
    inbox = tmp_path / "inbox" / "2022-10"
    inbox.mkdir(parents=True)
    _fill(template_478, tmp_path).save(inbox / "phu-vang.xlsx")
    os.utime(inbox / "phu-vang.xlsx", (dt.datetime(2022, 11, 2, 9).timestamp(),) * 2)
    result = monthload.ingest_month(
        "2022-10", inbox, tmp_path / "w.duckdb", registry=REGISTRY, snapshot=SNAPSHOT, settings=SETTINGS
    )
    assert result.facts.empty  # nothing loaded: no zero anywhere
    assert sorted(result.issues["sheet"]) == ["Doanh nghiệp", "Hue-S", "Nền tảng", "Tổ công nghệ số"]
    assert set(result.issues["rule"]) == {"sheet.missing"} and set(result.issues["severity"]) == {"warning"}
    track = intake.tracker("2022-10", REGISTRY, result.submissions, result.facts).set_index("unit")
    assert track.loc["478", "status"] == "received"
    assert track.loc["478", "sections_not_reported"] == "Nền tảng; Hue-S; Tổ công nghệ số; Doanh nghiệp"


def test_communes_left_blank_in_a_filled_sheet_are_listed_by_cell(template_478, tmp_path):
    wb = _fill(template_478, tmp_path)
    communes = wb["Tổ công nghệ số"]
    communes["C4"], communes["D4"] = 8, 40  # Phú Thuận only
    wb.save(tmp_path / "part.xlsx")
    sub = _read(tmp_path / "part.xlsx")
    blank = [i for i in sub.issues if i["rule"] == "row.not_reported"]
    assert [i["cell"] for i in blank] == [f"C{r}" for r in range(5, 4 + PHU_VANG_COMMUNES)]
    assert all(i["severity"] == "warning" for i in blank)
    assert "Xã Phú An" in blank[0]["message"] and "dòng 5" in blank[0]["message"]
    assert {f["subject"] for f in sub.facts if f["sheet"] == "to_cns"} == {"19903"}


def test_template_text_from_outside_is_never_a_formula(tmp_path):
    path = template.write_template(
        "2022-10",
        "syt",
        tmp_path / "syt.xlsx",
        registry=REGISTRY,
        snapshot=SNAPSHOT,
        previous_platforms=[("", '=HYPERLINK("http://x")'), ("", "@SUM(A1)")],
    )
    ws = openpyxl.load_workbook(path)["Nền tảng"]
    assert ws["B4"].value == '\'=HYPERLINK("http://x")' and ws["B4"].data_type == "s"
    assert ws["B5"].value == "'@SUM(A1)"


def test_template_refuses_a_unit_that_does_not_report(tmp_path):
    with pytest.raises(ParamError, match="474, 476"):
        template.write_template("2022-10", "19903", tmp_path / "x.xlsx", registry=REGISTRY)
    with pytest.raises(ParamError, match="YYYY-MM"):
        template.write_template("2022-1", "478", tmp_path / "x.xlsx", registry=REGISTRY)
    assert not (tmp_path / "x.xlsx").exists()


def test_previous_platforms_come_from_last_month_in_the_warehouse(tmp_path):
    assert template.previous_platforms(tmp_path / "none.duckdb", "2022-10", "478") == []
    warehouse = tmp_path / "w.duckdb"
    con = store.connect(warehouse)
    try:
        facts = pd.DataFrame(
            [
                # 478 in 09/2022: VNeID on row 4, LGSP on row 5, an unmatched platform on row 6
                {
                    "month": "2022-09",
                    "unit": "478",
                    "sheet": "nen_tang",
                    "subject_kind": "platform",
                    "subject": "nd-vneid",
                    "subject_name": "VNeID",
                    "metric": "accounts",
                    "value": 5.0,
                    "cell": "D4",
                },
                {
                    "month": "2022-09",
                    "unit": "478",
                    "sheet": "nen_tang",
                    "subject_kind": "platform",
                    "subject": "nd-vneid",
                    "subject_name": "VNeID",
                    "metric": "status",
                    "text": "dang_su_dung",
                    "cell": "C4",
                },
                {
                    "month": "2022-09",
                    "unit": "478",
                    "sheet": "nen_tang",
                    "subject_kind": "platform",
                    "subject": "unmatched:zalo oa",
                    "subject_name": "Zalo OA",
                    "metric": "status",
                    "text": "x",
                    "cell": "C6",
                },
                {
                    "month": "2022-09",
                    "unit": "478",
                    "sheet": "nen_tang",
                    "subject_kind": "platform",
                    "subject": "cq-lgsp",
                    "subject_name": "LGSP",
                    "metric": "status",
                    "text": "x",
                    "cell": "C5",
                },
                {
                    "month": "2022-09",
                    "unit": "479",
                    "sheet": "nen_tang",
                    "subject_kind": "platform",
                    "subject": "nd-dvc",
                    "subject_name": "DVC",
                    "metric": "status",
                    "text": "x",
                    "cell": "C4",
                },
                {
                    "month": "2022-08",
                    "unit": "478",
                    "sheet": "nen_tang",
                    "subject_kind": "platform",
                    "subject": "nd-dvc",
                    "subject_name": "DVC",
                    "metric": "status",
                    "text": "x",
                    "cell": "C4",
                },
            ]
        )
        store.replace_month(con, "2022-09", None, facts[facts["month"] == "2022-09"], None)
        store.replace_month(con, "2022-08", None, facts[facts["month"] == "2022-08"], None)
    finally:
        con.close()
    assert template.previous_platforms(warehouse, "2022-10", "478") == [
        ("nd-vneid", "VNeID"),
        ("cq-lgsp", "LGSP"),
        ("", "Zalo OA"),
    ]
    assert template.previous_platforms(warehouse, "2022-09", "478") == [("nd-dvc", "DVC")]
    assert template.previous_platforms(warehouse, "2022-11", "478") == []


def test_warehouse_catalog_is_the_last_loaded_snapshot(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert template.warehouse_catalog(warehouse) is None
    con = store.connect(warehouse)
    try:
        store.load_catalog(con, SNAPSHOT)
    finally:
        con.close()
    snap = template.warehouse_catalog(warehouse)
    assert sorted(snap.platforms["platform_id"]) == sorted(SNAPSHOT.platforms["platform_id"])
    assert snap.date == SNAPSHOT.date


# --------------------------------------------------------------------------- the form of a 2025 phường


@pytest.fixture
def template_19753(tmp_path):
    return template.write_template(
        "2026-11", "19753", tmp_path / "phu-xuan-2026-11.xlsx", registry=REGISTRY, snapshot=SNAPSHOT, settings=SETTINGS
    )


def test_phuong_template_has_the_five_sheets_and_its_own_row(template_19753):
    wb = openpyxl.load_workbook(template_19753)
    assert wb.sheetnames == [
        "Hướng dẫn",
        "Thông tin",
        "Nền tảng",
        "Hue-S",
        "Tổ công nghệ số",
        "Doanh nghiệp",
        "Danh mục nền tảng",
    ]
    info = wb["Thông tin"]
    assert (info["B1"].value, info["C1"].value, info["B2"].value) == ("19753", "Phường Phú Xuân", "11/2026")
    ws = wb["Tổ công nghệ số"]
    assert [c.value for c in ws[4]][:2] == ["19753", "Phường Phú Xuân"]
    # one editable row only: the phường reports for itself
    assert ws.max_row == 4
    assert ws["C4"].protection.locked is False and ws["A5"].protection.locked is True
    assert wb.properties.creator == "SỞ KHOA HỌC VÀ CÔNG NGHỆ"


def test_phuong_template_instructions_speak_of_its_area(template_19753):
    ws = openpyxl.load_workbook(template_19753)["Hướng dẫn"]
    texts = [ws.cell(r, 2).value for r in range(1, ws.max_row + 1)]
    assert (
        "Số liệu các trang “Hue-S”, “Tổ công nghệ số”, “Doanh nghiệp” là số liệu trên địa bàn phường Phú Xuân." in texts
    )
    assert (
        "Trang “Tổ công nghệ số”: một dòng duy nhất cho địa bàn phường Phú Xuân, đã ghi sẵn tên và mã; "
        "không thêm dòng khác." in texts
    )
    helps = {(ws.cell(r, 2).value, ws.cell(r, 3).value): ws.cell(r, 6).value for r in range(1, ws.max_row + 1)}
    assert helps[("Thông tin", "Mã đơn vị")] == "Mã đơn vị theo danh mục (mã GSO với cấp xã)"
    assert helps[("Tổ công nghệ số", "Mã xã")] == "Mã GSO của xã/phường"
    assert not any("huyện" in str(t) or "thị trấn" in str(t) for t in texts + list(helps.values()))


def test_district_template_of_2022_keeps_its_words(template_478):
    ws = openpyxl.load_workbook(template_478)["Hướng dẫn"]
    texts = [ws.cell(r, 2).value for r in range(1, ws.max_row + 1)]
    assert (
        "Trang “Tổ công nghệ số”: mỗi dòng một xã, phường, thị trấn của Huyện Phú Vang, đã ghi sẵn tên và mã; "
        "không thêm đơn vị ngoài địa bàn." in texts
    )
    assert not any("địa bàn huyện" in str(t) for t in texts)
    helps = {(ws.cell(r, 2).value, ws.cell(r, 3).value): ws.cell(r, 6).value for r in range(1, ws.max_row + 1)}
    assert helps[("Thông tin", "Mã đơn vị")] == "Mã đơn vị theo danh mục (mã GSO với cấp huyện)"
    assert helps[("Tổ công nghệ số", "Mã xã")] == "Mã GSO của xã/phường/thị trấn"


def test_filled_phuong_template_reads_back_with_its_own_row(template_19753, tmp_path):
    wb = _fill(template_19753, tmp_path, prepared=dt.date(2026, 12, 2))
    wb["Nền tảng"]["B4"], wb["Nền tảng"]["C4"], wb["Nền tảng"]["D4"] = "Ứng dụng Hue-S", "Đang sử dụng", 900
    for col, value in zip("ABCDEF", [9000, 5200, 41, 40, 38, 90]):
        wb["Hue-S"][f"{col}4"] = value
    wb["Tổ công nghệ số"]["C4"], wb["Tổ công nghệ số"]["D4"] = 7, 35
    for col, value in zip("ABCD", [15, 4, 2, 1]):
        wb["Doanh nghiệp"][f"{col}4"] = value
    wb.save(tmp_path / "filled.xlsx")
    sub = _read(tmp_path / "filled.xlsx", month="2026-11")
    assert not sub.rejected and sub.issues == []
    facts = pd.DataFrame(sub.facts)
    teams = facts[(facts["sheet"] == "to_cns") & (facts["metric"] == "teams")]
    assert teams[["subject", "value", "cell"]].values.tolist() == [["19753", 7.0, "C4"]]
    assert sub.rows_loaded == 4


def test_template_of_an_agency_merged_away_names_its_successor(tmp_path):
    with pytest.raises(ParamError) as caught:
        template.write_template("2025-04", "stttt", tmp_path / "x.xlsx", registry=REGISTRY)
    assert str(caught.value).startswith(
        "mã đơn vị 'stttt' là Sở Thông tin và Truyền thông, đã thôi là đơn vị báo cáo từ ngày 01/03/2025; "
        "nhiệm vụ nay do Sở Khoa học và Công nghệ (skhcn) đảm nhận; các mã hợp lệ tháng 2025-04: 474, 475,"
    )
    assert not (tmp_path / "x.xlsx").exists()
