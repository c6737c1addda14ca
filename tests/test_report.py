import datetime as dt
import os
from dataclasses import replace

import pandas as pd
import pytest

from dxreport import narrative, report
from dxreport.params import load_settings
from dxreport.report.markup import _fmt_change
from dxreport.units import Registry


def dated(
    unit: str = "tinh", *, report_date: dt.date | None = None, is_sample: bool = False, month: str = "2022-12"
) -> report.Context:
    """The tiny month's context, as the report of `month` with the date given (or not)."""
    c = make_context(unit, is_sample=is_sample)
    c.run = replace(c.run, month=month, report_date=report_date)
    return c


def test_header_of_a_province_report_without_a_date_leaves_it_blank_to_fill_by_hand():
    html = report.header(dated(is_sample=True), today=dt.date(2026, 12, 2))
    assert '<div class="dx-place-date">Thừa Thiên Huế, ngày … tháng … năm 20…</div>' in html
    assert "2026" not in html
    assert "UBND TỈNH THỪA THIÊN HUẾ" in html and "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in html
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "Độc lập - Tự do - Hạnh phúc" in html
    assert "Số: &nbsp;&nbsp;&nbsp;&nbsp;/BC-STTTT" in html and "DỮ LIỆU MẪU" in html
    assert '<div class="dx-doctype">BÁO CÁO</div>' in html
    assert (
        '<div class="dx-subtitle">Kết quả mức độ sử dụng các nền tảng số tháng 12/2022 trên địa bàn tỉnh '
        "Thừa Thiên Huế</div>"
    ) in html
    assert "Kính gửi" not in html


def test_header_with_a_report_date_prints_it():
    html = report.header(dated(report_date=dt.date(2023, 1, 6), is_sample=True), today=dt.date(2026, 12, 2))
    assert '<div class="dx-place-date">Thừa Thiên Huế, ngày 06 tháng 01 năm 2023</div>' in html


@pytest.mark.parametrize(
    "is_sample, today, expected",
    [
        (False, dt.date(2023, 1, 6), "Thừa Thiên Huế, ngày 06 tháng 01 năm 2023"),  # real data, made to be sent
        (False, dt.date(2023, 2, 1), "Thừa Thiên Huế, ngày … tháng … năm 20…"),  # an earlier month made again
        (True, dt.date(2023, 1, 6), "Thừa Thiên Huế, ngày … tháng … năm 20…"),  # sample data
    ],
)
def test_without_a_date_the_run_date_only_for_real_data_run_the_month_after(is_sample, today, expected):
    assert report.place_date(dated(is_sample=is_sample), today) == expected


@pytest.mark.parametrize(
    "unit, summary",
    [
        ("478", "Kết quả mức độ sử dụng các nền tảng số tháng 12/2022 của UBND huyện Phú Vang"),
        ("474", "Kết quả mức độ sử dụng các nền tảng số tháng 12/2022 của UBND thành phố Huế"),
        ("snv", "Kết quả mức độ sử dụng các nền tảng số tháng 12/2022 của Sở Nội vụ"),
    ],
)
def test_a_units_report_is_about_the_unit(unit, summary):
    html = report.header(dated(unit), today=dt.date(2023, 1, 6))
    assert f'<div class="dx-subtitle">{summary}</div>' in html
    assert "Kính gửi" not in html and "DỮ LIỆU MẪU" not in html


def test_units_are_named_as_in_a_sentence_and_the_issuing_department_is_known():
    c = dated()
    titles = report.unit_titles(c)
    assert (titles["478"], titles["479"], titles["474"], titles["hueioc"]) == (
        "UBND huyện Phú Vang",
        "UBND thị xã Hương Thủy",
        "UBND thành phố Huế",
        "Trung tâm Giám sát, điều hành đô thị thông minh tỉnh (HueIOC)",
    )
    assert report.issuing_unit(c) == "stttt"
    first = {**c.settings["report"]["issuers"][0], "issuing_body": "SỞ KHOA HỌC VÀ CÔNG NGHỆ"}
    c.settings = {**c.settings, "report": {**c.settings["report"], "issuers": [first]}}
    assert report.issuing_unit(c) == "skhcn"


def test_unit_names_are_escaped():
    c = dated("478")
    c.registry = Registry(
        tuple(replace(u, name="<script>x</script>") if u.code == "478" else u for u in c.registry.units)
    )
    html = report.header(c) + report.signature(c)
    assert "<script>" not in html and "UBND &lt;script&gt;x&lt;/script&gt;" in html


def test_quotes_in_a_units_name_are_escaped_by_the_templates():
    c = dated("478")
    c.registry = Registry(tuple(replace(u, name='Huyện "A" l\'B') if u.code == "478" else u for u in c.registry.units))
    html = report.header(c) + report.signature(c)
    assert "UBND huyện &#34;A&#34; l&#39;B" in html


def _lines(html: str) -> list[str]:
    """The text of each <div> of a block, in order."""
    import re

    return [m for m in re.findall(r"<div[^>]*>([^<]+)</div>", html)]


def test_recipients_of_the_province_and_of_a_unit_end_with_the_archive():
    assert _lines(report.recipients_block(dated())) == [
        "Nơi nhận:",
        "- Bộ Thông tin và Truyền thông;",
        "- UBND tỉnh Thừa Thiên Huế;",
        "- Lưu: VT, CNTT.",
    ]
    assert _lines(report.recipients_block(dated("478"))) == [
        "Nơi nhận:",
        "- UBND huyện Phú Vang;",
        "- Lãnh đạo Sở;",
        "- Lưu: VT, CNTT.",
    ]


def test_signer_block_follows_the_settings():
    c = dated()
    html = report.signer_block(c)
    assert _lines(html) == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A"]
    assert 'class="dx-signature-space" style="height:30mm"' in html  # room for the signature and the seal
    c.settings = {
        **c.settings,
        "report": {**c.settings["report"], "signer": {"title": "Giám đốc", "name": "Trần <b>B</b>"}},
    }
    assert _lines(report.signer_block(c)) == ["GIÁM ĐỐC", "Trần &lt;b&gt;B&lt;/b&gt;"]
    closing = report.signature(c)
    assert closing.index("Nơi nhận:") < closing.index("GIÁM ĐỐC")


def test_sources_note_is_plain_vietnamese_without_file_names():
    province = report.sources_note(make_context())
    assert province == (
        '<p class="dx-note">Số liệu trong báo cáo được tổng hợp từ báo cáo tháng 07/2022 của 3/30 đơn vị; danh mục '
        "nền tảng số của Bộ Thông tin và Truyền thông cập nhật ngày 31/12/2022. Số liệu chi tiết của từng đơn vị "
        "tại Phụ lục kèm theo.</p>"
    )
    unit = report.sources_note(make_context("478", is_sample=True))
    assert unit == (
        '<p class="dx-note">Số liệu trong báo cáo lấy từ báo cáo tháng 07/2022 của UBND huyện Phú Vang nhận ngày '
        "07/08/2022; danh mục nền tảng số của Bộ Thông tin và Truyền thông cập nhật ngày 31/12/2022. Số liệu chi "
        "tiết của từng đơn vị tại Phụ lục kèm theo. Đây là số liệu mẫu để minh họa, không phải số liệu chính "
        "thức.</p>"
    )
    for text in (province, unit):
        for word in (".xlsx", ".json", ".csv", ".yaml", "params/", "manifest", "validation", "annex", "!"):
            assert word not in text


def test_shortcomings_name_the_lagging_units_and_quote_their_notes_escaped():
    facts = pd.concat(
        [
            month_facts(),
            pd.DataFrame(
                [
                    fact(
                        M,
                        "478",
                        "nen_tang",
                        "note",
                        text="<b>Chưa có kinh phí</b> & thiết bị",
                        subject="cq-hop",
                        kind="platform",
                    ),
                    # a remark beside a platform in use, of a unit that does not lag: no cause of anything
                    fact(
                        M,
                        "snv",
                        "nen_tang",
                        "note",
                        text="Số liệu lũy kế từ khi triển khai",
                        subject="nd-hues",
                        kind="platform",
                    ),
                ]
            ),
        ],
        ignore_index=True,
    )
    html = report.shortcomings(make_context(facts=facts))
    assert "<h3>1. Tồn tại, hạn chế</h3>" in html and "<h3>2. Nguyên nhân</h3>" in html
    assert "<li>Gửi báo cáo sau hạn (ngày 5 tháng sau): 1 đơn vị – UBND huyện Phú Vang.</li>" in html
    assert "<li>Tỷ lệ phản ánh đã xử lý thấp hơn 95%: 1 đơn vị – UBND thành phố Huế (90%).</li>" in html
    assert "<li>Nền tảng trong danh mục còn nhiều đơn vị chưa triển khai: Họp trực tuyến (2 đơn vị).</li>" in html
    assert "<li>“&lt;b&gt;Chưa có kinh phí&lt;/b&gt; &amp; thiết bị” (Họp trực tuyến, UBND huyện Phú Vang)</li>" in html
    assert "<b>" not in html and "Số liệu lũy kế" not in html
    unit = report.shortcomings(make_context("478", facts=facts))
    assert "<li>Gửi báo cáo sau hạn (ngày 5 tháng sau).</li>" in unit
    hue = report.shortcomings(make_context("474"))
    assert "<li>Tỷ lệ phản ánh đã xử lý thấp hơn 95%: đơn vị đạt 90%.</li>" in hue
    assert "<li>Nền tảng đơn vị chưa triển khai: Họp trực tuyến.</li>" in unit
    assert "<li>“&lt;b&gt;Chưa có kinh phí&lt;/b&gt; &amp; thiết bị” (Họp trực tuyến)</li>" in unit
    assert "Theo ghi chú của đơn vị trong báo cáo tháng" in unit
    agency = report.shortcomings(make_context("snv"))
    assert "<p>Báo cáo tháng của đơn vị chưa nêu nguyên nhân của các tồn tại, hạn chế trên.</p>" in agency
    assert unicodedata.is_normalized("NFC", html + unit + agency)


def test_change_is_formatted_by_kind():
    assert _fmt_change(pd.Series({"change": 1056.0, "kind": "count"})) == "+1.056"
    assert _fmt_change(pd.Series({"change": -1.04, "kind": "rate"})) == "-1,0 điểm %"
    assert _fmt_change(pd.Series({"change": float("nan"), "kind": "count"})) == "–"


# --------------------------------------------------------------------------------------------
# The report's sections on the tiny hand-made month of test_kpis (07/2022: Huế, Phú Vang late,
# Sở Nội vụ; June and July 2021 for Huế), with a Context built by hand.

import unicodedata  # noqa: E402
from pathlib import Path  # noqa: E402


from dxreport import kpis  # noqa: E402
from dxreport.params import RunParams  # noqa: E402
from dxreport.units import load_registry  # noqa: E402
from test_kpis import CATALOG, LY, M, P, fact, month_facts, team  # noqa: E402

RULES = [
    kpis.Rule("not_submitted", "not_submitted"),
    kpis.Rule("late", "late"),
    kpis.Rule("processed", "below", "processed_rate", 95.0, ("district",)),
    kpis.Rule("hop", "platform_not_deployed", threshold=2.0),
]
HASH = "ab" * 32


def submissions() -> pd.DataFrame:
    rows = [
        ("474", "hue.xlsx", "2022-08-03 09:00", False, "accepted"),
        ("478", "phuvang.xlsx", "2022-08-07 10:00", True, "accepted"),
        ("snv", "snv.xlsx", "2022-08-02 08:30", False, "accepted"),
        ("477", "=cmd|x.xlsx", "2022-08-02 08:00", False, "rejected"),
    ]
    return pd.DataFrame(
        [
            {
                "submission_id": HASH if u == "474" else f"{u:0<64}",
                "month": M,
                "unit": u,
                "file_name": f,
                "archived_path": "",
                "received_at": pd.Timestamp(t),
                "prepared_on": pd.Timestamp("2022-08-01"),
                "preparer": "Nguyễn Văn An",
                "status": s,
                "superseded_by": None,
                "is_sample": False,
                "late": late,
                "rows_loaded": 10,
                "rows_rejected": 0,
            }
            for u, f, t, late, s in rows
        ]
    )


def make_context(
    unit: str = "tinh",
    *,
    is_sample: bool = False,
    changes=None,
    fetches=None,
    facts=None,
    tmp: Path = Path("/tmp"),
    last_year: bool = True,
    submitted=None,
    issues=None,
    rules=None,
) -> report.Context:
    """The tiny month as a report context; `last_year=False` leaves July 2021 out of the warehouse."""
    facts = month_facts() if facts is None else facts
    if submitted is None:
        submitted = pd.DataFrame(
            {
                "month": [M, M, M, P, LY],
                "unit": ["474", "478", "snv", "474", "474"],
                "late": [False, True, False, False, False],
            }
        )
    if not last_year:
        facts, submitted = facts[facts["month"] != LY], submitted[submitted["month"] != LY]
    registry = load_registry()
    values = kpis.with_year(kpis.with_changes(kpis.compute(kpis.base_table(facts, registry, submitted, CATALOG))))
    if issues is None:
        issues = pd.DataFrame(
            [
                {
                    "month": M,
                    "unit": "474",
                    "file_name": "hue.xlsx",
                    "sheet": "Tổ công nghệ số",
                    "cell": "D7",
                    "rule": "row.members_ge_teams",
                    "severity": "error",
                    "message": "Số thành viên nhỏ hơn số tổ",
                    "submission_id": HASH,
                }
            ]
        )
    run = RunParams(month=M, unit=unit, inbox=tmp, outputs=tmp)
    return report.Context(
        run=run,
        registry=registry,
        settings=load_settings(),
        values=values,
        submissions=submissions(),
        issues=issues,
        facts=facts[facts["month"] == M],
        catalog=CATALOG.assign(snapshot_date="2022-12-31"),
        snapshot_date="31/12/2022",
        is_sample=is_sample,
        targets=kpis.load_targets(),
        rules=RULES if rules is None else rules,
        changes=changes,
        fetches=fetches,
    )


def _row(html: str, label: str) -> str:
    start = html.index(f"<tr><td>{label}</td>")
    return html[start : html.index("</tr>", start)]


def test_province_key_figures_with_month_before_last_year_and_year_to_date():
    html = report.general(make_context())
    assert "Tháng 07/2022 có 3/30 đơn vị gửi báo cáo theo biểu mẫu (10%)." in html
    # Hue-S downloads: 1.500 now, 900 in June (Huế only), 600 in July 2021 (Huế only), a stock: no year to date;
    # the change compares Huế with Huế: 1.000 − 900 = +100, not the 500 of Phú Vang, absent in June
    assert _row(html, "Lượt tải ứng dụng Hue-S (lũy kế)") == (
        '<tr><td>Lượt tải ứng dụng Hue-S (lũy kế)</td><td>lượt</td><td class="num">1.500</td><td class="num">900</td>'
        '<td class="num">+100</td><td class="num">600</td><td class="num">–</td>'
    )
    # field reports: 150 in July, 80 in June, 60 a year before; June + July = 230, two of seven months;
    # the change over Huế alone: 100 − 80 = +20
    assert _row(html, "Phản ánh hiện trường tiếp nhận") == (
        '<tr><td>Phản ánh hiện trường tiếp nhận</td><td>phản ánh</td><td class="num">150</td><td class="num">80</td>'
        '<td class="num">+20</td><td class="num">60</td><td class="num">230 (2/7 th)</td>'
    )
    assert '<td class="num">93,3%</td>' in _row(html, "Tỷ lệ phản ánh đã xử lý")  # 140 / 150
    # one rejected file, one late, one row left out with its place
    assert "Đã nhận 4 tệp báo cáo: 3 tệp được sử dụng và 1 tệp bị từ chối; 1 tệp nộp sau hạn." in html
    assert "thành phố Huế, biểu Tổ công nghệ số, dòng 7: Số thành viên nhỏ hơn số tổ" in html
    assert "Tổ công nghệ số!D7" not in html and "validation.csv" not in html


def test_unit_report_gives_rank_and_peer_average_and_says_history_is_missing():
    html = report.general(make_context("478"))
    assert "Huyện Phú Vang đã gửi báo cáo tháng 07/2022 ngày 07/08/2022 (sau hạn)." in html
    assert _row(html, "Lượt tải ứng dụng Hue-S (lũy kế)") == (
        '<tr><td>Lượt tải ứng dụng Hue-S (lũy kế)</td><td>lượt</td><td class="num">500</td><td class="num">–</td>'
        '<td class="num">–</td><td class="num">–</td><td class="num">2/2</td><td class="num">750</td>'
    )
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
    assert (
        "Về nền tảng số phục vụ chính quyền, các đơn vị trong tỉnh đang sử dụng 1 nền tảng, thử nghiệm 1 nền tảng "
        "và chưa triển khai 1 nền tảng."
    ) in html
    # Họp trực tuyến: not deployed by Phú Vang and Sở Nội vụ
    assert _row(html, "Họp trực tuyến").startswith(
        '<tr><td>Họp trực tuyến</td><td class="num">0</td><td class="num">0</td><td class="num">2</td><td class="num">0</td>'
    )
    # LGSP is asked of government platforms: one in use (Sở Nội vụ's cq-lgsp), connected; the citizens'
    # apps in use (nd-hues, nd-sskdt) are not counted
    assert "Trong 1 lượt triển khai nền tảng phục vụ chính quyền đang sử dụng, 1 lượt (100%) đã kết nối" in html


def test_citizens_section_shows_populations_with_their_year():
    html = report.citizens(make_context())
    assert '<td>Huyện A Lưới</td><td class="num">50.109 (2020)</td>' in html
    assert (
        "ứng dụng Hue-S trên địa bàn toàn tỉnh có 1.500 lượt tải, tăng 100 lượt so với tháng trước (so sánh "
        "trên 1 đơn vị có số liệu cả hai tháng)"
    ) in html
    assert "Lũy kế từ đầu năm 230 phản ánh (số liệu của 2/7 tháng)." in html
    assert "ung dung x" in html  # the platform outside the catalog is named, not dropped


def test_targets_table_marks_official_and_the_departments_own():
    html = report.targets_table(make_context())
    assert "Quyết định số 27/QĐ-UBQGCĐS" in html and "Chỉ tiêu của Sở" in html
    processed = _row(html, "Tỷ lệ phản ánh đã xử lý")
    assert '<td class="num">≥ 95%</td><td class="num">93,3%</td>' in processed and "Chưa đạt" in processed
    assert "chưa đo được" in html  # the smartphone target: the form does not measure it


def test_catalog_changes_when_absent_unchanged_changed_or_not_fetched():
    absent = report.catalog_changes(make_context())
    assert "Chưa có thông tin so sánh danh mục" in absent and "31/12/2022" in absent
    fetch = pd.DataFrame(
        [
            {
                "month": M,
                "catalog": c,
                "url": "https://x",
                "status": 200,
                "fetched_at": "2022-08-01",
                "bytes": 10,
                "items": 7,
                "outcome": "ok",
                "message": "",
                "snapshot_date": "2022-08-01",
            }
            for c in ("chinh_quyen", "doanh_nghiep", "nguoi_dan")
        ]
    )
    columns = ["month", "change", "platform_id", "catalog", "name", "previous_name", "snapshot_date"]
    same = report.catalog_changes(make_context(changes=pd.DataFrame(columns=columns), fetches=fetch))
    assert "không có thay đổi" in same and "Chưa có thông tin" not in same
    changed = pd.DataFrame(
        [
            {
                "month": M,
                "change": "added",
                "platform_id": "nd-x",
                "catalog": "nguoi_dan",
                "name": "<script>alert(1)</script>",
                "previous_name": None,
                "snapshot_date": "2022-08-01",
            },
            {
                "month": M,
                "change": "renamed",
                "platform_id": "cq-hop",
                "catalog": "chinh_quyen",
                "name": "Họp trực tuyến mới",
                "previous_name": "Họp trực tuyến",
                "snapshot_date": "2022-08-01",
            },
        ]
    )
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
    assert '<td>Họp trực tuyến</td><td class="num">1</td><td>Huyện Phú Vang</td>' in province
    unit = report.proposals(make_context("478", facts=facts))
    assert "<img" not in unit and "&lt;img src=x onerror=alert(1)&gt; Đề nghị hỗ trợ" in unit


def test_every_section_is_nfc_and_escapes_nothing_twice():
    ctx = make_context()
    html = "".join(
        f(ctx)
        for f in (
            report.general,
            report.targets_table,
            report.government,
            report.business,
            report.citizens,
            report.teams,
            report.catalog_changes,
            report.lagging,
            report.proposals,
        )
    )
    assert unicodedata.is_normalized("NFC", html) and "&amp;amp;" not in html


def test_grid_frame_orders_units_as_the_registry_and_platforms_by_catalog():
    grid = report.grid_frame(make_context())
    assert list(grid["unit_label"].cat.categories[:2]) == ["Huế", "Phong Điền"]
    # catalog platforms by catalog (government first), then the one outside it, under the name the unit wrote
    assert list(grid["platform_label"].cat.categories) == [
        "Họp trực tuyến",
        "LGSP",
        "Sổ sức khỏe điện tử",
        "Ứng dụng Hue-S",
        "unmatched:ung dung x",
    ]


@pytest.mark.parametrize("unit", ["tinh", "474"])
def test_kpis_csv_has_the_units_figures(tmp_path, unit):
    path = report.save_kpis(make_context(unit, tmp=tmp_path))
    frame = pd.read_csv(path, encoding="utf-8-sig")
    assert path == tmp_path / M / unit / "kpis.csv"
    assert frame.set_index("indicator").at["hues_downloads", "value"] == (1500 if unit == "tinh" else 1000)


# --------------------------------------------------------------------------------------------
# Figures that mislead: a rejected row in a tiny month where Phú Vang (478, 14 communes) reports
# every commune in June, 2 teams and 6 members each, and in July the row of its first commune
# (line 13 of its file) is rejected: members fewer than teams.


COMMUNES_478 = [c for c in load_registry().communes("478", M)]
REJECTED_ISSUE = {
    "month": M,
    "unit": "478",
    "file_name": "phuvang.xlsx",
    "sheet": "Tổ công nghệ số",
    "cell": "D13",
    "rule": "row.members_ge_teams",
    "severity": "error",
    "message": "Tổ công nghệ số!D13: Số thành viên nhỏ hơn số tổ (3 so với 5); dòng 13 không được nạp.",
    "submission_id": "478".ljust(64, "0"),
}
TEAM_RULES = [
    kpis.Rule(
        "communes",
        "above",
        "communes_without_team",
        0.0,
        ("district",),
        proposal="Đề nghị UBND {units} thành lập tổ công nghệ số cộng đồng.",
    )
]


def rejected_context(unit: str = "tinh") -> report.Context:
    rows = [r for c in COMMUNES_478 for r in team(P, "478", c.code, 2, 6)]
    rows += [r for c in COMMUNES_478[1:] for r in team(M, "478", c.code, 2, 6)]
    submitted = pd.DataFrame({"month": [M, P], "unit": ["478", "478"], "late": [False, False]})
    return make_context(
        unit, facts=pd.DataFrame(rows), submitted=submitted, issues=pd.DataFrame([REJECTED_ISSUE]), rules=TEAM_RULES
    )


def _text(html: str) -> str:
    import html as html_mod
    import re

    return html_mod.unescape(re.sub(r"<[^>]+>", " ", html))


def test_a_rejected_commune_row_is_missing_not_a_commune_without_team():
    ctx = rejected_context()
    first = COMMUNES_478[0].name  # the commune of the rejected row
    teams = _text(report.teams(ctx))
    # 13 communes × 2 teams; the 14th is not known, so neither 13/14 "with a team" nor one "without"
    assert "26 tổ công nghệ số cộng đồng với 78 thành viên" in teams
    assert "không đổi so với tháng trước" in teams  # 13 communes both months: no teams lost
    assert "chưa có tổ công nghệ số." not in teams.replace("báo cáo chưa có tổ", "")
    assert f"UBND huyện Phú Vang: {narrative.in_sentence(first)} (Số thành viên nhỏ hơn số tổ (3 so với 5))" in teams
    # not lagging, no proposal to set up a team, the target is not judged on a missing row
    assert "Không có" in report.lagging(ctx) and "thành lập tổ" not in report.proposals(ctx)
    targets = report.targets_table(ctx)
    row = _row(targets, "Xã, phường, thị trấn chưa có tổ (4)")
    assert "Chưa đạt" not in row and "<td>Chưa đánh giá được</td>" in row
    assert "128 xã, phường, thị trấn chưa có số liệu hợp lệ." in targets  # said in the table's note (4)
    general = _text(report.general(ctx))
    assert "huyện Phú Vang, biểu Tổ công nghệ số, dòng 13" in general and "!D13" not in general


def test_the_districts_commune_table_shows_the_rejected_row_as_not_valid():
    html = report.teams(rejected_context("478"))
    first = COMMUNES_478[0].name
    assert (
        f'<tr class="dx-current"><td>{first}</td><td colspan="5">Chưa có số liệu hợp lệ (dòng số liệu bị loại '
        "khi kiểm tra)</td></tr>"
    ) in html


def test_page_one_says_when_the_month_is_partial():
    ctx = make_context()  # 3 of 30 units reported
    assert "SỐ LIỆU CHƯA ĐẦY ĐỦ" in report.general(ctx) and "3/30 đơn vị" in report.general(ctx)
    ctx.extra["scope"] = kpis.Scope(min_unit_coverage=5.0)
    assert "SỐ LIỆU CHƯA ĐẦY ĐỦ" not in report.general(ctx)
    assert "SỐ LIỆU CHƯA ĐẦY ĐỦ" not in report.general(make_context("474"))


def test_per_capita_target_over_too_few_people_says_not_enough_data():
    ctx = make_context()
    # e-health accounts from Huế alone: 494.070 / 1.165.413 = 42,4% of the districts' people, below the 80%
    table = report.targets_table(ctx)
    row = _row(table, "Tài khoản Sổ sức khỏe điện tử trên 100 dân (1)")
    assert "chưa đủ số liệu" in row and "Chưa đạt" not in row
    assert "số liệu của các huyện đã báo cáo có 42,4% dân số, dưới mức 80% cần có để tính trên 100 dân." in table
    assert "Tài khoản Sổ sức khỏe điện tử: chưa đủ số liệu (các huyện báo cáo có 42,4% dân số" in report.citizens(ctx)
    assert "Sổ sức khỏe điện tử" not in report.proposals(ctx)


def test_average_of_districts_made_of_one_district_says_so():
    html = report.citizens(make_context("478"))
    # only Huế reported e-health accounts: 49.407 / 494.070 = 10,0 per 100 people
    assert '<td class="num">10,0 (chỉ 1 đơn vị có số liệu)</td>' in _row(
        html, "Tài khoản Sổ sức khỏe điện tử trên 100 dân"
    )


@pytest.mark.parametrize("unit", ["tinh", "478"])
def test_no_file_names_or_system_words_in_the_sections(unit):
    ctx = make_context(unit)
    body = "".join(
        f(ctx)
        for f in (
            report.general,
            report.targets_table,
            report.government,
            report.business,
            report.citizens,
            report.teams,
            report.lagging,
            report.proposals,
        )
    )
    for word in (
        "params/",
        ".yaml",
        "validation.csv",
        "manifest.json",
        "!D",
        "bản kèm theo chương trình",
        "thử nghiệm 0 ",
        "0 phục vụ",
        " 0 tệp",
        "0 đơn vị đang",
    ):
        assert word not in body, word


def test_a_districts_name_inside_a_sentence_is_written_in_lower_case():
    ctx = make_context("478")
    assert "ứng dụng Hue-S trên địa bàn huyện Phú Vang có 500 lượt tải" in report.citizens(ctx)
    assert (
        "Về nền tảng số phục vụ chính quyền, huyện Phú Vang chưa sử dụng nền tảng nào và chưa triển khai 1 nền tảng."
        in report.government(ctx)
    )
    lagging = report.lagging(rejected_context("478"))
    assert "<td>xã, phường, thị trấn chưa có tổ: không có</td><td>Không</td>" in lagging


# ----------------------------------------------------------------------------- the map of each era
# 2022: tỉnh Thừa Thiên Huế and its districts; 2025 H1: thành phố Huế with quận and reused codes;
# from 2025-07: 40 xã, phường report directly. A hand-made 2025-07 month: three of them sent
# their teams sheet (Phú Xuân 3 teams, Kim Long 2, Vỹ Dạ 1; 9 members each).

J = "2025-07"
CITY = ["19753", "19774", "19777"]


def city_context(unit: str = "tinh", *, report_date: dt.date | None = None) -> report.Context:
    registry = load_registry()
    facts = pd.DataFrame([r for i, code in enumerate(CITY) for r in team(J, code, code, 3 - i, 9)])
    submitted = pd.DataFrame({"month": [J] * 3, "unit": CITY, "late": [False] * 3})
    values = kpis.with_year(kpis.with_changes(kpis.compute(kpis.base_table(facts, registry, submitted, CATALOG))))
    subs = pd.DataFrame(
        [
            {**submissions().iloc[0].to_dict(), "submission_id": f"{code:0<64}", "month": J, "unit": code}
            for code in CITY
        ]
    )
    return report.Context(
        run=RunParams(month=J, unit=unit, inbox=Path("/tmp"), outputs=Path("/tmp"), report_date=report_date),
        registry=registry,
        settings=load_settings(),
        values=values,
        submissions=subs,
        issues=pd.DataFrame(columns=["month", "unit", "sheet", "cell", "rule", "severity", "message", "file_name"]),
        facts=facts,
        catalog=CATALOG.assign(snapshot_date="2025-07-31"),
        snapshot_date="31/07/2025",
        is_sample=False,
        targets=[],
        rules=[],
    )


def test_header_of_december_2024_signed_in_january_2025_is_the_citys():
    html = report.header(dated(report_date=dt.date(2025, 1, 6), month="2024-12"))
    assert "UBND THÀNH PHỐ HUẾ" in html and "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in html and "TỈNH" not in html
    assert '<div class="dx-place-date">Huế, ngày 06 tháng 01 năm 2025</div>' in html
    assert "Số: &nbsp;&nbsp;&nbsp;&nbsp;/BC-STTTT" in html
    # the month reported is still the province's
    assert "tháng 12/2024 trên địa bàn tỉnh Thừa Thiên Huế</div>" in html


def test_header_of_2022_is_the_provinces():
    html = report.header(dated(report_date=dt.date(2023, 1, 6)))
    assert "UBND TỈNH THỪA THIÊN HUẾ" in html and "Thừa Thiên Huế, ngày 06 tháng 01 năm 2023" in html


def test_header_and_recipients_from_march_2025_are_the_department_of_science_and_technology():
    c = dated(report_date=dt.date(2025, 4, 7), month="2025-03")
    html = report.header(c)
    assert "UBND THÀNH PHỐ HUẾ" in html and "SỞ KHOA HỌC VÀ CÔNG NGHỆ" in html
    assert "Số: &nbsp;&nbsp;&nbsp;&nbsp;/BC-SKHCN" in html
    assert '<div class="dx-place-date">Huế, ngày 07 tháng 04 năm 2025</div>' in html
    assert "tháng 03/2025 trên địa bàn thành phố Huế</div>" in html
    assert _lines(report.recipients_block(c)) == [
        "Nơi nhận:",
        "- Bộ Khoa học và Công nghệ;",
        "- UBND thành phố Huế;",
        "- Lưu: VT, CNTT.",
    ]
    assert report.issuing_unit(c) == "skhcn" and report.department(c) == "Sở Khoa học và Công nghệ"
    assert "danh mục nền tảng số của Bộ Khoa học và Công nghệ cập nhật ngày" in report.sources_note(c)


@pytest.mark.parametrize(
    "month, code, title",
    [
        ("2022-12", "tinh", "tỉnh Thừa Thiên Huế"),
        ("2022-12", "474", "UBND thành phố Huế"),
        ("2025-03", "tinh", "thành phố Huế"),
        ("2025-03", "474", "UBND quận Thuận Hóa"),
        ("2025-03", "475", "UBND quận Phú Xuân"),
        ("2025-03", "476", "UBND thị xã Phong Điền"),
        ("2025-07", "tinh", "thành phố Huế"),
        ("2025-07", "19753", "UBND phường Phú Xuân"),
        ("2025-07", "ttt", "Thanh tra thành phố"),
    ],
)
def test_unit_titles_of_each_era(month, code, title):
    assert report.unit_title(dated(month=month), code) == title


@pytest.mark.parametrize(
    "month, whole, area_kinds, areas, agencies, communes",
    [
        ("2022-12", "toàn tỉnh", "huyện, thị xã, thành phố", "các huyện", "cơ quan cấp tỉnh", "xã, phường, thị trấn"),
        (
            "2025-03",
            "toàn thành phố",
            "huyện, thị xã, quận",
            "các huyện",
            "cơ quan cấp thành phố",
            "xã, phường, thị trấn",
        ),
        ("2025-07", "toàn thành phố", "xã, phường", "các xã, phường", "cơ quan cấp thành phố", "xã, phường"),
    ],
)
def test_the_words_of_each_era(month, whole, area_kinds, areas, agencies, communes):
    c = dated(month=month)
    assert (c.whole, c.area_kinds, c.areas_short, c.agency_kind, c.commune_kinds) == (
        whole,
        area_kinds,
        areas,
        agencies,
        communes,
    )
    assert c.whole_title == whole[:1].upper() + whole[1:]


def test_roles_of_the_units_of_july_2025():
    c = city_context("19753")
    assert c.unit_type == report.context.AREA and c.is_area and c.is_commune
    assert c.unit_types["19774"] == report.context.AREA and c.unit_types["skhcn"] == "agency"
    assert len(c.unit_types) == 40 + 15
    assert c.peers[1] == "xã, phường" and len(c.peers[0]) == 40


def test_a_communes_teams_section_speaks_of_its_own_area_and_ranks_it_among_communes():
    html = report.teams(city_context("19774"))
    text = _text(html)
    # the hand-made month has no 2025-06 rows to rebuild the old communes' teams from
    assert (
        "Trên địa bàn phường Kim Long có 2 tổ công nghệ số cộng đồng với 9 thành viên, không so sánh được với "
        "tháng trước do thay đổi địa giới hành chính."
    ) in text
    # Phú Xuân 3, Kim Long 2, Vỹ Dạ 1: second of the three of its level that reported
    assert "Trong toàn thành phố, tổ công nghệ số cộng đồng (lũy kế) xếp thứ 2/3 xã, phường." in text
    assert "bình quân mỗi xã" not in text and "Tổ /xã" not in html and "đã có tổ" not in text
    # one row: itself
    assert html.count('<tr class="dx-current">') + html.count("<tr><td>Phường") == 1
    assert "<tr><td>Phường Kim Long</td>" in html and "<th>Đơn vị</th>" in html


def test_the_citys_teams_section_of_july_2025_compares_the_40_communes():
    c = city_context()
    text = _text(report.teams(c))
    assert "Trên địa bàn toàn thành phố có 6 tổ công nghệ số cộng đồng với 27 thành viên" in text
    assert "3/40 xã, phường đã có tổ" in text
    html = report.teams(c)
    assert "<th>Tổ /xã</th>" not in html and "<th>Xã đã có tổ</th>" not in html
    assert '<tr class="dx-total"><td>Toàn thành phố</td>' in html
    chart = report.area_chart(c, "teams_per_commune")
    assert chart["title"] == "Số tổ công nghệ số cộng đồng (lũy kế), theo xã, phường"
    assert chart["reference_label"] == "toàn thành phố" and chart["xlabel"] == "tổ" and chart["reference"] == 6
    assert len(chart["frame"]) == 40 and sorted(chart["frame"]["value"].dropna()) == [1, 2, 3]


def test_chart_titles_of_2022_stay_as_they_were():
    c = dated()
    assert report.chart_title(c, "hues_penetration") == "Lượt tải Hue-S trên 100 dân, theo huyện, thị xã, thành phố"
    chart = report.area_chart(c, "teams_per_commune")
    assert chart["title"] == "Số tổ công nghệ số bình quân mỗi xã, theo huyện, thị xã, thành phố"
    assert (chart["xlabel"], chart["reference_label"], chart["decimals"]) == ("tổ / xã", "toàn tỉnh", 1)


def test_a_proposal_addresses_a_commune_level_unit_by_its_peoples_committee():
    lag = pd.DataFrame([{"rule": "late", "unit": "19774"}])
    out = narrative.proposals_from_figures(
        lag,
        pd.DataFrame(),
        [kpis.Rule("late", "late")],
        {"19774": "Phường Kim Long"},
        places=city_context().places,
        communes=frozenset({"19774"}),
    )
    assert out == ["Đề nghị UBND phường Kim Long gửi báo cáo đúng hạn."]


def _with_bases(ctx: report.Context, bases: dict[str, tuple[str, str, bool]]) -> report.Context:
    """The context with the basis of both comparisons set by hand on the unit's rows of the month
    (`unsure`: both used an uncertain crosswalk row)."""
    v = ctx.values.copy()
    columns = ["previous_basis", "previous_uncertain", "last_year_basis", "last_year_uncertain"]
    v[columns] = ["", False, "", False]
    for name, (prev, last, unsure) in bases.items():
        at = (v["month"] == ctx.month) & (v["unit"] == ctx.unit) & (v["indicator"] == name)
        v.loc[at, columns] = [prev, unsure, last, unsure]
    ctx.values = v
    return ctx


def test_comparisons_across_a_change_of_the_map_are_shown_rebuilt_or_not_comparable():
    ctx = _with_bases(
        make_context(),
        {
            "hues_downloads": ("rebuilt", "not_comparable", False),
            "reports_received": ("rebuilt", "rebuilt", True),
            "processed_rate": ("same", "same", False),
        },
    )
    html = report.general(ctx)
    # the figures are those of test_province_key_figures_…: 900 and +100; 80, +20 and 60
    assert _row(html, "Lượt tải ứng dụng Hue-S (lũy kế)") == (
        '<tr><td>Lượt tải ứng dụng Hue-S (lũy kế)</td><td>lượt</td><td class="num">1.500</td>'
        '<td class="num">900 (quy đổi)</td><td class="num">+100 (quy đổi)</td>'
        '<td class="num">không so sánh được</td><td class="num">–</td>'
    )
    assert _row(html, "Phản ánh hiện trường tiếp nhận") == (
        '<tr><td>Phản ánh hiện trường tiếp nhận</td><td>phản ánh</td><td class="num">150</td>'
        '<td class="num">80 (quy đổi) *</td><td class="num">+20 (quy đổi) *</td>'
        '<td class="num">60 (quy đổi) *</td><td class="num">230 (2/7 th)</td>'
    )
    assert '<td class="num">93,3%</td>' in _row(html, "Tỷ lệ phản ánh đã xử lý")
    assert (
        "*: so sánh dùng dòng đối chiếu địa giới chưa được xác nhận (có xã chưa xác định chắc chắn đơn vị mới)." in html
    )
    # the cells are short; the note under the table says them in full
    assert (
        "không so sánh được: không so sánh được do thay đổi địa giới hành chính; số liệu trước đó chỉ có cho cả "
        "đơn vị hành chính cũ." in html
    )
    assert "(quy đổi): quy đổi theo địa giới mới, số liệu tháng trước hoặc cùng kỳ được cộng lại" in html


def test_without_basis_columns_every_comparison_is_on_the_same_map():
    html = report.general(make_context())
    assert "quy đổi theo địa giới mới" not in html and "không so sánh được" not in html


def test_month_change_and_year_on_year_say_the_basis():
    view = pd.DataFrame(
        [
            {"indicator": "teams", "change": 3.0, "previous_basis": "rebuilt", "previous_uncertain": True},
            {"indicator": "members", "change": 5.0, "previous_basis": "not_comparable", "previous_uncertain": False},
            {"indicator": "households", "last_year": 10.0, "yoy_change": -4.0, "last_year_basis": "rebuilt"},
            {"indicator": "trained", "last_year": 10.0, "yoy_change": 2.0, "last_year_basis": "not_comparable"},
        ]
    )
    assert narrative.month_change(view, "teams", "tổ") == (
        "tăng 3 tổ so với tháng trước (quy đổi theo địa giới mới; có xã chưa xác định chắc chắn đơn vị mới)"
    )
    assert narrative.month_change(view, "members", "người") == (
        "không so sánh được với tháng trước do thay đổi địa giới hành chính"
    )
    assert narrative.year_on_year(view, "households", "2025-07", "hộ") == (
        "giảm 4 hộ so với cùng kỳ (tháng 07/2024) (quy đổi theo địa giới mới)"
    )
    assert narrative.year_on_year(view, "trained", "2025-07", "lượt") == (
        "không so sánh được với cùng kỳ (tháng 07/2024) do thay đổi địa giới hành chính"
    )


def test_kpis_csv_ends_with_the_basis_of_the_comparisons(tmp_path):
    plain = pd.read_csv(report.save_kpis(make_context("474", tmp=tmp_path)), encoding="utf-8-sig")
    # the 2022 month: every comparison is on the same map
    assert set(plain["previous_basis"].dropna()) <= {"same"} and set(plain["last_year_basis"].dropna()) <= {"same"}
    plain = plain.drop(columns=["previous_basis", "previous_uncertain", "last_year_basis", "last_year_uncertain"])
    ctx = _with_bases(make_context("474", tmp=tmp_path), {"hues_downloads": ("rebuilt", "not_comparable", True)})
    frame = pd.read_csv(report.save_kpis(ctx), encoding="utf-8-sig", keep_default_na=False)
    basis = ["previous_basis", "previous_uncertain", "last_year_basis", "last_year_uncertain"]
    assert list(frame.columns) == [*plain.columns, *basis]
    row = frame.set_index("indicator").loc["hues_downloads"]
    assert tuple(row[basis]) == ("rebuilt", True, "not_comparable", True)
    assert frame.set_index("indicator").at["teams", "previous_basis"] == ""


def test_the_catalogs_ministry_is_that_of_the_month():
    assert (dated().ministry, dated().ministry_short) == ("Bộ Thông tin và Truyền thông", "Bộ TT&TT")
    assert dated(month="2025-02").ministry_short == "Bộ TT&TT"
    c = city_context()
    assert (c.ministry, c.ministry_short) == ("Bộ Khoa học và Công nghệ", "Bộ KH&CN")
    assert "chưa có kết quả đối chiếu danh mục của Bộ KH&amp;CN với bản chụp trước" in report.catalog_changes(c)
    assert "danh mục nền tảng số của Bộ Khoa học và Công nghệ cập nhật ngày 31/07/2025" in report.sources_note(c)


def test_a_trend_draws_one_place_from_january_of_the_year_before():
    months = ["2023-12", "2024-12", "2025-01", "2025-02"]
    for unit, expected in (
        # 474 was thành phố Huế until 2024-12 and is quận Thuận Hóa from 2025-01: only its own months
        ("474", ["2025-01", "2025-02"]),
        # the whole area goes on across the change; 2023-12 is before January of the year before
        ("tinh", ["2024-12", "2025-01", "2025-02"]),
    ):
        c = dated(unit, month="2025-02")
        c.values = pd.DataFrame(
            {"month": months, "unit": unit, "indicator": "hues_downloads", "value": [1.0, 2.0, 3.0, 4.0]}
        )
        assert list(report.series(c, "hues_downloads")["month"]) == expected


# --------------------------------------------------------------------------------------------
# report.load reads the month once per process: the tiny month written to a warehouse file.

from dxreport import store  # noqa: E402
from dxreport.report import context as report_context  # noqa: E402


def write_warehouse(outputs: Path, processed: float = 90.0) -> Path:
    """The tiny month (07/2022) in outputs/warehouse.duckdb; `processed`: Huế's processed reports."""
    facts = month_facts()
    hue = (facts["unit"] == "474") & (facts["metric"] == "reports_processed") & (facts["month"] == M)
    facts.loc[hue, "value"] = processed
    submitted = pd.DataFrame({"month": [M, M, M], "unit": ["474", "478", "snv"], "late": [False, True, False]})
    values = kpis.with_changes(kpis.compute(kpis.base_table(facts, load_registry(), submitted, CATALOG)))
    path = store.warehouse_path(outputs)
    with store.connect(path) as con:
        for month in sorted(set(facts["month"])):
            subs = submissions() if month == M else None
            store.replace_month(con, month, subs, facts[facts["month"] == month], None)
        store.write_indicators(con, values)
        con.register("hand_catalog", CATALOG)
        con.execute("DELETE FROM catalog")
        con.execute(
            "INSERT INTO catalog (platform_id, catalog, name, snapshot_date) "
            "SELECT platform_id, catalog, name, DATE '2022-07-31' FROM hand_catalog"
        )
    return path


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    monkeypatch.setattr(report_context, "_MONTHS", report_context.OrderedDict())
    write_warehouse(tmp_path)
    opened = []
    connect = store.connect

    def counting(path=None, read_only=False):
        if read_only:
            opened.append(Path(path))
        return connect(path, read_only=read_only)

    monkeypatch.setattr(store, "connect", counting)
    return tmp_path, opened


def loaded(outputs: Path, unit: str = "tinh") -> report.Context:
    stage = outputs / M / ".staging" / unit
    stage.mkdir(parents=True, exist_ok=True)
    return report.load(M, unit, outputs=str(outputs), stage=str(stage))


def test_the_second_report_of_a_month_does_not_read_the_warehouse_again(warehouse):
    outputs, opened = warehouse
    first = loaded(outputs)
    assert len(opened) == 1
    second = loaded(outputs, "478")
    assert len(opened) == 1
    assert (first.unit, second.unit) == ("tinh", "478")
    pd.testing.assert_frame_equal(first.values, second.values)
    pd.testing.assert_frame_equal(first.facts, second.facts)
    assert list(first.submissions["unit"]) == list(second.submissions["unit"]) == ["474", "477", "478", "snv"]
    assert first.snapshot_date == second.snapshot_date == "31/07/2022"
    hue = second.values[(second.values["month"] == M) & (second.values["unit"] == "474")]
    assert hue.set_index("indicator").loc["processed_rate", "value"] == 90.0  # 90 of 100 received


def test_a_rewritten_warehouse_is_read_again(warehouse):
    outputs, opened = warehouse
    loaded(outputs)
    path = write_warehouse(outputs, processed=50.0)  # the same file written again
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    again = loaded(outputs)
    assert len(opened) == 2
    hue = again.values[(again.values["month"] == M) & (again.values["unit"] == "474")]
    assert hue.set_index("indicator").loc["processed_rate", "value"] == 50.0  # 50 of 100 received


def test_what_one_report_changes_in_its_context_is_not_seen_by_the_next(warehouse):
    outputs, opened = warehouse
    first = loaded(outputs)
    first.values.loc[first.values.index[0], "value"] = -1.0
    first.values["extra"] = 1
    first.submissions.loc[:, "status"] = "rejected"
    first.settings["report"]["signer"]["name"] = "Người khác"
    first.targets.clear()
    first.rules.append("a rule")
    first.extra["scope"] = "changed"
    second = loaded(outputs, "474")
    assert len(opened) == 1
    assert second.values.loc[second.values.index[0], "value"] != -1.0
    assert "extra" not in second.values
    assert set(second.submissions["status"]) == {"accepted", "rejected"}
    assert second.settings["report"]["signer"]["name"] != "Người khác"
    assert second.targets and "a rule" not in second.rules and "scope" not in second.extra


def test_only_the_last_two_months_read_are_kept(warehouse):
    outputs, opened = warehouse
    loaded(outputs)
    other = outputs / "other"
    write_warehouse(other)
    loaded(other)
    write_warehouse(outputs / "third")
    loaded(outputs / "third")
    assert len(report_context._MONTHS) == 2
    assert len(opened) == 3
    loaded(outputs)  # the first one was let go: read again
    assert len(opened) == 4


def test_what_is_the_same_for_every_unit_of_the_month_is_computed_once(warehouse, monkeypatch):
    outputs, _ = warehouse
    calls = []
    real = kpis.lagging_units

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(kpis, "lagging_units", counting)
    first = loaded(outputs)
    names = list(first.lagging_units["unit"])
    assert "478" in names  # Phú Vang sent its report late
    first.lagging_units.loc[:, "unit"] = "changed"
    second = loaded(outputs, "474")
    assert list(second.lagging_units["unit"]) == names
    assert calls == [M]
    assert second.scope is first.scope and second.scope.lgsp_catalogs
