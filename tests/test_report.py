import datetime as dt
from types import SimpleNamespace

import pandas as pd

from dxreport import report
from dxreport.params import load_settings


def ctx(is_sample: bool, unit: str = "tinh"):
    return SimpleNamespace(settings=load_settings(), month="2022-09", is_province=unit == "tinh",
                           unit_name="Huyện Phú Vang", is_sample=is_sample)


def test_header_has_the_administrative_layout():
    html = report.header(ctx(False), today=dt.date(2022, 10, 6))
    assert "UBND TỈNH THỪA THIÊN HUẾ" in html and "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in html
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "Độc lập - Tự do - Hạnh phúc" in html
    assert "Thừa Thiên Huế, ngày 06 tháng 10 năm 2022" in html
    assert "Kết quả mức độ sử dụng các nền tảng số tháng 09/2022" in html
    assert "DỮ LIỆU MẪU" not in html


def test_sample_data_is_said_on_the_first_page():
    html = report.header(ctx(True, "478"), today=dt.date(2022, 10, 6))
    assert "DỮ LIỆU MẪU" in html and "của Huyện Phú Vang" in html


def test_unit_names_are_escaped():
    c = ctx(False, "478")
    c.unit_name = "<script>x</script>"
    assert "<script>" not in report.header(c, today=dt.date(2022, 10, 6))


def test_change_is_formatted_by_kind():
    assert report._fmt_change(pd.Series({"change": 1056.0, "kind": "count"})) == "+1.056"
    assert report._fmt_change(pd.Series({"change": -1.04, "kind": "rate"})) == "-1,0 điểm %"
    assert report._fmt_change(pd.Series({"change": float("nan"), "kind": "count"})) == "–"


# --------------------------------------------------------------------------------------------
# The report's sections on the tiny hand-made month of test_kpis (07/2022: Huế, Phú Vang late,
# Sở Nội vụ; June and July 2021 for Huế), with a Context built by hand.

import unicodedata  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from dxreport import kpis  # noqa: E402
from dxreport.params import RunParams  # noqa: E402
from dxreport.units import load_registry  # noqa: E402
from test_kpis import CATALOG, LY, M, P, month_facts  # noqa: E402

RULES = [kpis.Rule("not_submitted", "not_submitted"), kpis.Rule("late", "late"),
         kpis.Rule("processed", "below", "processed_rate", 95.0, ("district",)),
         kpis.Rule("hop", "platform_not_deployed", threshold=2.0)]
HASH = "ab" * 32


def submissions() -> pd.DataFrame:
    rows = [("474", "hue.xlsx", "2022-08-03 09:00", False, "accepted"), ("478", "phuvang.xlsx", "2022-08-07 10:00", True,
                                                                        "accepted"),
            ("snv", "snv.xlsx", "2022-08-02 08:30", False, "accepted"), ("477", "=cmd|x.xlsx", "2022-08-02 08:00",
                                                                         False, "rejected")]
    return pd.DataFrame([{"submission_id": HASH if u == "474" else f"{u:0<64}", "month": M, "unit": u, "file_name": f,
                          "archived_path": "", "received_at": pd.Timestamp(t), "prepared_on": pd.Timestamp("2022-08-01"),
                          "preparer": "Nguyễn Văn An", "status": s, "superseded_by": None, "is_sample": False,
                          "late": late, "rows_loaded": 10, "rows_rejected": 0} for u, f, t, late, s in rows])


def make_context(unit: str = "tinh", *, is_sample: bool = False, changes=None, fetches=None, facts=None,
                 tmp: Path = Path("/tmp"), last_year: bool = True) -> report.Context:
    """The tiny month as a report context; `last_year=False` leaves July 2021 out of the warehouse."""
    facts = month_facts() if facts is None else facts
    submitted = pd.DataFrame({"month": [M, M, M, P, LY], "unit": ["474", "478", "snv", "474", "474"],
                              "late": [False, True, False, False, False]})
    if not last_year:
        facts, submitted = facts[facts["month"] != LY], submitted[submitted["month"] != LY]
    registry = load_registry()
    values = kpis.with_year(kpis.with_changes(kpis.compute(kpis.base_table(facts, registry, submitted, CATALOG))))
    issues = pd.DataFrame([{"month": M, "unit": "474", "file_name": "hue.xlsx", "sheet": "Tổ công nghệ số", "cell": "D7",
                            "rule": "row.members_ge_teams", "severity": "error", "message": "Số thành viên nhỏ hơn số tổ",
                            "submission_id": HASH}])
    run = RunParams(month=M, unit=unit, inbox=tmp, outputs=tmp)
    return report.Context(run=run, registry=registry, settings=load_settings(), values=values, submissions=submissions(),
                          issues=issues, facts=facts[facts["month"] == M], catalog=CATALOG.assign(snapshot_date="2022-12-31"),
                          snapshot_date="31/12/2022", is_sample=is_sample, targets=kpis.load_targets(), rules=RULES,
                          changes=changes, fetches=fetches)


def _row(html: str, label: str) -> str:
    start = html.index(f"<tr><td>{label}</td>")
    return html[start:html.index("</tr>", start)]


def test_province_key_figures_with_month_before_last_year_and_year_to_date():
    html = report.general(make_context())
    assert "Tháng 07/2022 có 3/30 đơn vị gửi báo cáo theo biểu mẫu (10%)." in html
    # Hue-S downloads: 1.500 now, 900 in June (Huế only), 600 in July 2021 (Huế only), a stock: no year to date;
    # the change compares Huế with Huế: 1.000 − 900 = +100, not the 500 of Phú Vang, absent in June
    assert _row(html, "Lượt tải ứng dụng Hue-S (lũy kế)") == (
        '<tr><td>Lượt tải ứng dụng Hue-S (lũy kế)</td><td>lượt</td><td class="num">1.500</td><td class="num">900</td>'
        '<td class="num">+100</td><td class="num">600</td><td class="num">–</td>')
    # field reports: 150 in July, 80 in June, 60 a year before; June + July = 230, two of seven months;
    # the change over Huế alone: 100 − 80 = +20
    assert _row(html, "Phản ánh hiện trường tiếp nhận") == (
        '<tr><td>Phản ánh hiện trường tiếp nhận</td><td>phản ánh</td><td class="num">150</td><td class="num">80</td>'
        '<td class="num">+20</td><td class="num">60</td><td class="num">230 (2/7 th)</td>')
    assert '<td class="num">93,3%</td>' in _row(html, "Tỷ lệ phản ánh đã xử lý")          # 140 / 150
    # one rejected file, one late, one row left out with its place
    assert "Đã nhận 4 tệp báo cáo: 3 tệp được sử dụng và 1 tệp bị từ chối; 1 tệp nộp sau hạn." in html
    assert "thành phố Huế, biểu Tổ công nghệ số, dòng 7: Số thành viên nhỏ hơn số tổ" in html
    assert "Tổ công nghệ số!D7" not in html and "validation.csv" not in html


def test_unit_report_gives_rank_and_peer_average_and_says_history_is_missing():
    html = report.general(make_context("478"))
    assert "Huyện Phú Vang đã gửi báo cáo tháng 07/2022 ngày 07/08/2022 (sau hạn)." in html
    assert _row(html, "Lượt tải ứng dụng Hue-S (lũy kế)") == (
        '<tr><td>Lượt tải ứng dụng Hue-S (lũy kế)</td><td>lượt</td><td class="num">500</td><td class="num">–</td>'
        '<td class="num">–</td><td class="num">–</td><td class="num">2/2</td><td class="num">750</td>')
    assert "<th>Xếp hạng</th><th>Bình quân các huyện</th>" in html
    # July 2021 is loaded (Huế reported) but Phú Vang sent nothing then
    assert "Cùng kỳ: – là chưa có số liệu tháng 07/2021." in html
    assert "kho dữ liệu chưa có số liệu tháng 07/2021" in report.general(make_context("478", last_year=False))


def test_sections_that_do_not_apply_to_an_agency_say_so():
    ctx = make_context("snv")
    assert "cơ quan cấp tỉnh, không báo cáo số liệu doanh nghiệp" in report.business(ctx)
    assert "cơ quan cấp tỉnh, không báo cáo tổ công nghệ số" in report.teams(ctx)
    assert "<th>Bình quân các cơ quan</th>" in report.general(ctx)


def test_government_section_counts_units_per_platform():
    html = report.government(make_context())
    assert ("Về nền tảng số phục vụ chính quyền, các đơn vị trong tỉnh đang sử dụng 1 nền tảng, thử nghiệm 1 nền tảng "
            "và chưa triển khai 1 nền tảng.") in html
    # Họp trực tuyến: not deployed by Phú Vang and Sở Nội vụ
    assert _row(html, "Họp trực tuyến").startswith(
        '<tr><td>Họp trực tuyến</td><td class="num">0</td><td class="num">0</td><td class="num">2</td><td class="num">0</td>')
    # LGSP is asked of government platforms: one in use (Sở Nội vụ's cq-lgsp), connected; the citizens'
    # apps in use (nd-hues, nd-sskdt) are not counted
    assert "Trong 1 lượt triển khai nền tảng phục vụ chính quyền đang sử dụng, 1 lượt (100%) đã kết nối" in html


def test_citizens_section_shows_populations_with_their_year():
    html = report.citizens(make_context())
    assert "<td>Huyện A Lưới</td><td class=\"num\">50.109 (2020)</td>" in html
    assert ("ứng dụng Hue-S trên địa bàn toàn tỉnh có 1.500 lượt tải, tăng 100 lượt so với tháng trước (so sánh "
            "trên 1 đơn vị có số liệu cả hai tháng)") in html
    assert "Lũy kế từ đầu năm 230 phản ánh (số liệu của 2/7 tháng)." in html
    assert "ung dung x" in html        # the platform outside the catalog is named, not dropped


def test_targets_table_marks_official_and_the_departments_own():
    html = report.targets_table(make_context())
    assert "Quyết định số 27/QĐ-UBQGCĐS" in html and "Chỉ tiêu của Sở" in html
    processed = _row(html, "Tỷ lệ phản ánh đã xử lý")
    assert '<td class="num">≥ 95%</td><td class="num">93,3%</td>' in processed and "Chưa đạt" in processed
    assert "chưa đo được" in html       # the smartphone target: the form does not measure it


def test_catalog_changes_when_absent_unchanged_changed_or_not_fetched():
    absent = report.catalog_changes(make_context())
    assert "Chưa có thông tin so sánh danh mục" in absent and "31/12/2022" in absent
    fetch = pd.DataFrame([{"month": M, "catalog": c, "url": "https://x", "status": 200, "fetched_at": "2022-08-01",
                           "bytes": 10, "items": 7, "outcome": "ok", "message": "", "snapshot_date": "2022-08-01"}
                          for c in ("chinh_quyen", "doanh_nghiep", "nguoi_dan")])
    columns = ["month", "change", "platform_id", "catalog", "name", "previous_name", "snapshot_date"]
    same = report.catalog_changes(make_context(changes=pd.DataFrame(columns=columns), fetches=fetch))
    assert "không có thay đổi" in same and "Chưa có thông tin" not in same
    changed = pd.DataFrame([{"month": M, "change": "added", "platform_id": "nd-x", "catalog": "nguoi_dan",
                             "name": "<script>alert(1)</script>", "previous_name": None, "snapshot_date": "2022-08-01"},
                            {"month": M, "change": "renamed", "platform_id": "cq-hop", "catalog": "chinh_quyen",
                             "name": "Họp trực tuyến mới", "previous_name": "Họp trực tuyến",
                             "snapshot_date": "2022-08-01"}])
    html = report.catalog_changes(make_context(changes=changed, fetches=fetch))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "1 nền tảng thêm mới và 1 nền tảng đổi tên" in html and "<td>Họp trực tuyến</td>" in html
    offline = fetch.assign(outcome="offline", message="không tải danh mục (chạy ngoại tuyến)")
    html = report.catalog_changes(make_context(changes=pd.DataFrame(columns=columns), fetches=offline))
    assert "Chưa có thông tin so sánh danh mục" in html and "chạy ngoại tuyến" in html


def test_lagging_section_states_each_rule_and_names_units_with_their_figures():
    html = report.lagging(make_context())
    assert "Tỷ lệ phản ánh đã xử lý thấp hơn 95%; áp dụng cho huyện, thị xã, thành phố" in html
    assert "Thành phố Huế: tỷ lệ phản ánh đã xử lý 90% (dưới ngưỡng 95%)" in html
    assert "Huyện Phú Vang: gửi báo cáo sau hạn" in html
    assert "Họp trực tuyến: 2 đơn vị chưa triển khai, chưa đơn vị nào sử dụng" in html
    assert "0 đơn vị" not in html and "params/" not in html
    unit = report.lagging(make_context("478"))
    assert "<td>Gửi báo cáo sau hạn (ngày 5 tháng sau)</td><td>gửi báo cáo sau hạn</td><td>Chậm triển khai</td>" in unit


def test_proposals_from_the_figures_and_from_the_units_escaped():
    facts = month_facts()
    bad = facts.index[(facts["metric"] == "proposal") & (facts["unit"] == "478")]
    facts.loc[bad, "text"] = "<img src=x onerror=alert(1)> Đề nghị hỗ trợ"
    province = report.proposals(make_context(facts=facts))
    assert "Đề nghị UBND huyện Phú Vang gửi báo cáo đúng hạn." in province
    assert "<td>Họp trực tuyến</td><td class=\"num\">1</td><td>Huyện Phú Vang</td>" in province
    unit = report.proposals(make_context("478", facts=facts))
    assert "<img" not in unit and "&lt;img src=x onerror=alert(1)&gt; Đề nghị hỗ trợ" in unit


def test_every_section_is_nfc_and_escapes_nothing_twice():
    ctx = make_context()
    html = "".join(f(ctx) for f in (report.general, report.targets_table, report.government, report.business,
                                    report.citizens, report.teams, report.catalog_changes, report.lagging,
                                    report.proposals))
    assert unicodedata.is_normalized("NFC", html) and "&amp;amp;" not in html


def test_grid_frame_orders_units_as_the_registry_and_platforms_by_catalog():
    grid = report.grid_frame(make_context())
    assert list(grid["unit_label"].cat.categories[:2]) == ["Huế", "Phong Điền"]
    # catalog platforms by catalog (government first), then the one outside it, under the name the unit wrote
    assert list(grid["platform_label"].cat.categories) == ["Họp trực tuyến", "LGSP", "Sổ sức khỏe điện tử",
                                                           "Ứng dụng Hue-S", "unmatched:ung dung x"]


@pytest.mark.parametrize("unit", ["tinh", "474"])
def test_kpis_csv_has_the_units_figures(tmp_path, unit):
    path = report.save_kpis(make_context(unit, tmp=tmp_path))
    frame = pd.read_csv(path, encoding="utf-8-sig")
    assert path == tmp_path / M / unit / "kpis.csv"
    assert frame.set_index("indicator").at["hues_downloads", "value"] == (1500 if unit == "tinh" else 1000)
