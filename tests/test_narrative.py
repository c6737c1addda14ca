import pandas as pd

from dxreport import narrative


def view(**values):
    rows = [
        {"indicator": k, "value": v[0] if isinstance(v, tuple) else v, "change": v[1] if isinstance(v, tuple) else None}
        for k, v in values.items()
    ]
    return pd.DataFrame(rows)


def test_hue_s_sentence_in_vietnamese_format():
    v = view(
        hues_downloads=(793050, 12345),
        hues_penetration=68.35,
        hues_accounts=512000,
        reports_received=4200,
        reports_processed=4095,
        processed_rate=97.5,
        on_time_rate=92.0,
        satisfaction=80.0,
    )
    text = narrative.hue_s(v, "2022-07", 2022, "toàn tỉnh")
    assert text.startswith(
        "Tính đến hết tháng 07/2022, ứng dụng Hue-S trên địa bàn toàn tỉnh có 793.050 lượt tải, "
        "tăng 12.345 lượt so với tháng trước"
    )
    assert "68,4 lượt tải trên 100 dân của các đơn vị đã báo cáo (dân số năm 2022)" in text
    assert "đã xử lý 4.095 phản ánh (97,5%)" in text and "92% xử lý đúng hạn" in text


def test_missing_figures_say_so_instead_of_zero():
    text = narrative.hue_s(view(), "2022-07", None, "Huyện Nam Đông")
    assert "chưa có số liệu" in text and "0" not in text.replace("07/2022", "")


def test_decrease_is_worded_as_giam():
    assert narrative.change(-1500, "lượt") == "giảm 1.500 lượt so với tháng trước"
    assert narrative.change(0, "lượt") == "không đổi so với tháng trước"


def test_coverage_sentence():
    v = view(submissions_received=28, submissions_expected=30, coverage_rate=28 / 30 * 100)
    assert narrative.coverage(v, "2022-12") == "Tháng 12/2022 có 28/30 đơn vị gửi báo cáo theo biểu mẫu (93,3%)."


def test_teams_sentence_counts_communes_without_team():
    v = view(
        teams=1523,
        members=7800,
        communes_with_team=139,
        communes_without_team=2,
        trainings=250,
        trained=5000,
        households=3000,
    )
    text = narrative.teams(v, "toàn tỉnh")
    assert "1.523 tổ công nghệ số cộng đồng với 7.800 thành viên; 139/141 xã, phường, thị trấn đã có tổ" in text
    assert "Còn 2 xã, phường, thị trấn báo cáo chưa có tổ công nghệ số." in text
    assert "chưa có số liệu hợp lệ" not in text


def full(**values):
    """A view with value, change, last_year, ytd and ytd_months columns: name=(value, change, last_year, ytd, months)."""
    rows = []
    for k, v in values.items():
        v = v if isinstance(v, tuple) else (v,)
        v = v + (None,) * (5 - len(v))
        rows.append(
            {
                "indicator": k,
                "value": v[0],
                "change": v[1],
                "last_year": v[2],
                "ytd": v[3],
                "ytd_months": v[4],
                "yoy_change": None if v[2] is None or v[0] is None else v[0] - v[2],
            }
        )
    return pd.DataFrame(rows)


def test_year_on_year_says_when_there_is_no_history():
    assert (
        narrative.year_on_year(full(reports_received=(4407,)), "reports_received", "2022-11", "phản ánh")
        == "chưa có số liệu cùng kỳ (tháng 11/2021) để so sánh"
    )
    assert (
        narrative.year_on_year(full(reports_received=(4407, None, 4000)), "reports_received", "2022-11", "phản ánh")
        == "tăng 407 phản ánh so với cùng kỳ (tháng 11/2021)"
    )
    unlike = full(reports_received=(4407, None, 4000)).assign(yoy_change=None)
    assert (
        narrative.year_on_year(unlike, "reports_received", "2022-11", "phản ánh")
        == "chưa so sánh được với cùng kỳ (tháng 11/2021) vì các đơn vị báo cáo hai tháng không giống nhau"
    )


def test_year_to_date_says_how_many_months_it_covers():
    v = full(reports_received=(4407, None, None, 45_241, 11), households=(100, None, None, 1500, 9))
    assert narrative.year_to_date(v, "reports_received", "2022-11", "phản ánh") == "lũy kế từ đầu năm 45.241 phản ánh"
    assert (
        narrative.year_to_date(v, "households", "2022-11", "hộ")
        == "lũy kế từ đầu năm 1.500 hộ (số liệu của 9/11 tháng)"
    )


def test_rank_phrase():
    assert narrative.rank(3.0, 9.0, "huyện, thị xã, thành phố") == "xếp thứ 3/9 huyện, thị xã, thành phố"
    assert narrative.rank(float("nan"), 9.0, "huyện") == ""
    assert narrative.rank(2.0, 21.0, "") == "xếp thứ 2/21"


def test_catalog_platforms_and_lgsp_sentences():
    v = view(
        chinh_quyen_in_use=7,
        chinh_quyen_trial=3,
        chinh_quyen_not_deployed=3,
        platform_deployments=130,
        lgsp_deployments=59,
        lgsp_rate=49 / 59 * 100,
        platforms_lgsp=6,
        platforms_in_use=21,
    )
    assert narrative.catalog_platforms(v, "chinh_quyen", "các đơn vị trong tỉnh") == (
        "Về nền tảng số phục vụ chính quyền, các đơn vị trong tỉnh đang sử dụng 7 nền tảng, thử nghiệm 3 nền tảng "
        "và chưa triển khai 3 nền tảng."
    )
    assert narrative.lgsp(v, "các đơn vị") == (
        "Trong 59 lượt triển khai nền tảng phục vụ chính quyền đang sử dụng, 49 lượt (83,1%) đã kết nối, chia sẻ dữ "
        "liệu qua Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP), gồm 6 nền tảng khác nhau."
    )
    assert "chưa có số liệu" in narrative.catalog_platforms(view(), "doanh_nghiep", "Sở Nội vụ")


def test_summary_opens_with_coverage_and_counts_lagging_units():
    v = view(
        submissions_received=30,
        submissions_expected=30,
        coverage_rate=100.0,
        platforms_in_use=21,
        chinh_quyen_in_use=7,
        doanh_nghiep_in_use=3,
        nguoi_dan_in_use=10,
        platforms_unmatched=1,
        platform_deployments=130,
        lgsp_rate=71.5,
    )
    text = narrative.summary(v, "2022-11", "các đơn vị trong tỉnh", lagging_units=2)
    assert text[0] == "Tháng 11/2022 có 30/30 đơn vị gửi báo cáo theo biểu mẫu (100%)."
    assert text[1] == (
        "Các đơn vị trong tỉnh đang sử dụng 21 nền tảng số (7 phục vụ chính quyền, 3 phục vụ doanh "
        "nghiệp và 10 phục vụ người dân; 1 nền tảng không có trong danh mục của Bộ TT&TT) với 130 lượt "
        "triển khai tại các đơn vị; 71,5% số lượt triển khai nền tảng phục vụ chính quyền đã kết nối, "
        "chia sẻ dữ liệu qua LGSP."
    )
    assert text[-1] == "Có 2 đơn vị chậm triển khai theo các tiêu chí nêu ở mục VII."


def test_rules_are_stated_with_their_thresholds():
    from dxreport.kpis import Rule

    assert narrative.rule_text(Rule("a", "below", "processed_rate", 95.0)) == "Tỷ lệ phản ánh đã xử lý thấp hơn 95%"
    assert narrative.rule_text(Rule("b", "above", "communes_without_team", 0.0)) == "Có xã, phường, thị trấn chưa có tổ"
    assert narrative.rule_text(Rule("c", "below_share", "hues_penetration", 80.0), reference=69.3) == (
        "Lượt tải Hue-S trên 100 dân thấp hơn 80% mức toàn tỉnh (toàn tỉnh 69,3 lượt/100 dân, ngưỡng 55,4 lượt/100 dân)"
    )
    assert narrative.rule_text(Rule("d", "late"), deadline_day=5) == "Gửi báo cáo sau hạn (ngày 5 tháng sau)"
    assert (
        narrative.rule_text(Rule("e", "platform_not_deployed", threshold=3.0))
        == "Nền tảng trong danh mục có từ 3 đơn vị trở lên báo cáo “Chưa triển khai”"
    )


def test_lagging_reason_shows_a_difference_that_rounding_would_hide():
    row = pd.Series({"kind": "below", "indicator": "on_time_rate", "value": 89.952, "threshold": 90.0})
    assert narrative.lagging_reason(row) == "tỷ lệ phản ánh xử lý đúng hạn 89,95% (dưới ngưỡng 90%)"
    row = pd.Series({"kind": "below", "indicator": "processed_rate", "value": 93.25, "threshold": 95.0})
    assert narrative.lagging_reason(row) == "tỷ lệ phản ánh đã xử lý 93,3% (dưới ngưỡng 95%)"


def test_proposals_follow_from_lagging_units_platforms_and_targets():
    from dxreport.kpis import Rule

    rules = [
        Rule("late", "late", proposal="Đề nghị {units} gửi báo cáo đúng hạn."),
        Rule("processed", "below", "processed_rate", 95.0),
        Rule("hop", "platform_not_deployed", threshold=3.0),
    ]
    lagging = pd.DataFrame({"unit": ["478", "sct", "474"], "rule": ["late", "late", "processed"]})
    platforms = pd.DataFrame({"subject_name": ["Nền tảng bản đồ số"], "not_deployed": [4], "rule": ["hop"]})
    progress = pd.DataFrame(
        [
            {
                "indicator": "processed_rate",
                "label": "Tỷ lệ phản ánh đã xử lý",
                "unit": "%",
                "year": 2022,
                "target": 95.0,
                "comparison": ">=",
                "value": 93.3,
                "progress": 98.2,
                "met": False,
            }
        ]
    )
    names = {"478": "Huyện Phú Vang", "sct": "Sở Công Thương", "474": "Thành phố Huế"}
    covered = {
        "indicator": "coverage_rate",
        "label": "Tỷ lệ đơn vị đã gửi báo cáo",
        "unit": "%",
        "year": 2022,
        "target": 100.0,
        "comparison": ">=",
        "value": 96.7,
        "progress": 96.7,
        "met": False,
    }
    satisfaction = {
        "indicator": "satisfaction",
        "label": "Tỷ lệ hài lòng của người dân",
        "unit": "%",
        "year": 2022,
        "target": 80.0,
        "comparison": ">=",
        "value": 78.5,
        "progress": 98.1,
        "met": False,
    }
    met = {**satisfaction, "indicator": "on_time_rate", "met": True}
    progress = pd.concat([progress, pd.DataFrame([covered, satisfaction, met])], ignore_index=True)
    rules.append(Rule("missing", "not_submitted"))
    lagging = pd.concat([lagging, pd.DataFrame({"unit": ["sngv"], "rule": ["missing"]})], ignore_index=True)
    out = narrative.proposals_from_figures(lagging, platforms, rules, names, progress)
    assert out == [
        "Đề nghị UBND huyện Phú Vang và Sở Công Thương gửi báo cáo đúng hạn.",
        "Đề nghị UBND thành phố Huế có giải pháp cải thiện chỉ tiêu “Tỷ lệ phản ánh đã xử lý”.",
        "Đề nghị UBND tỉnh chỉ đạo các đơn vị chưa triển khai khẩn trương triển khai Nền tảng bản đồ số "
        "(4 đơn vị chưa triển khai).",
        "Đề nghị sngv gửi báo cáo tháng theo đúng biểu mẫu để số liệu được tổng hợp đầy đủ.",
        # the processed-rate and coverage targets are not proposed again: the rules above name the units
        "Đề nghị UBND tỉnh chỉ đạo các đơn vị tiếp tục đẩy mạnh để đạt chỉ tiêu “Tỷ lệ hài lòng của người dân” năm 2022 (tối thiểu 80%); hiện nay 78,5%, "
        "đạt 98,1% chỉ tiêu.",
    ]


def test_targets_summary():
    progress = pd.DataFrame({"year": [2022] * 4, "met": [True, False, None, True]})
    assert narrative.targets_summary(progress) == (
        "Chỉ tiêu năm 2022: đạt 2/4, 1 chỉ tiêu chưa đạt, 1 chỉ tiêu chưa "
        "có số liệu để đánh giá (chi tiết ở bảng chỉ tiêu)."
    )
    none = pd.DataFrame({"year": [2022] * 3, "met": [False, None, None]})
    assert narrative.targets_summary(none) == (
        "Chỉ tiêu năm 2022: chưa đạt chỉ tiêu nào trong 3 chỉ tiêu, 1 chỉ tiêu "
        "chưa đạt, 2 chỉ tiêu chưa có số liệu để đánh giá (chi tiết ở bảng chỉ "
        "tiêu)."
    )


def test_ranks_sentence_for_a_unit():
    v = pd.DataFrame(
        [
            {"indicator": "hues_penetration", "value": 69.0, "rank": 5.0, "ranked_among": 9.0},
            {"indicator": "processed_rate", "value": 98.4, "rank": 1.0, "ranked_among": 9.0},
            {"indicator": "satisfaction", "value": 80.0, "rank": float("nan"), "ranked_among": 9.0},
        ]
    )
    assert narrative.ranks(v, ["hues_penetration", "processed_rate", "satisfaction"], "huyện, thị xã, thành phố") == (
        "So với các huyện, thị xã, thành phố: lượt tải Hue-S trên 100 dân xếp thứ 5/9 và tỷ lệ phản ánh đã xử lý "
        "xếp thứ 1/9."
    )
    assert narrative.ranks(v.drop(columns="rank"), ["hues_penetration"], "huyện") == ""


def test_province_platform_users_keep_residents_and_staff_apart():
    v = view(
        platforms_in_use=4,
        platforms_trial=1,
        platforms_not_deployed=0,
        platforms_lgsp=2,
        platform_mau=1105,
        platform_uses=3020,
        platform_mau_agencies=35,
    )
    text = narrative.platforms(v, "các đơn vị trong tỉnh")
    assert "trên địa bàn các huyện, thị xã, thành phố có 1.105 người dùng hoạt động và 3.020 lượt sử dụng" in text
    assert "trong các cơ quan cấp tỉnh có 35 người dùng hoạt động" in text


# --------------------------------------------------------------------------------------------
# Wording: no zero counts, unit names inside sentences, scope of every change and rate.


def test_no_sentence_prints_a_zero_count():
    v = view(
        chinh_quyen_in_use=2,
        chinh_quyen_trial=0,
        chinh_quyen_not_deployed=0,
        platforms_in_use=2,
        doanh_nghiep_in_use=0,
        nguoi_dan_in_use=2,
        platforms_unmatched=0,
        platforms_trial=0,
        platforms_not_deployed=0,
        platforms_lgsp=0,
    )
    assert (
        narrative.catalog_platforms(v, "chinh_quyen", "Sở Nội vụ")
        == "Về nền tảng số phục vụ chính quyền, Sở Nội vụ đang sử dụng 2 nền tảng."
    )
    summary = narrative.summary(v, "2022-12", "Sở Nội vụ")[1]
    assert summary == "Sở Nội vụ đang sử dụng 2 nền tảng số (2 phục vụ chính quyền và 2 phục vụ người dân)."
    assert narrative.platforms(v, "Sở Nội vụ") == "Sở Nội vụ đang sử dụng 2 nền tảng số."
    none = view(nguoi_dan_in_use=0, nguoi_dan_trial=1, nguoi_dan_not_deployed=0)
    assert (
        narrative.catalog_platforms(none, "nguoi_dan", "Sở Y tế")
        == "Về nền tảng số phục vụ người dân, Sở Y tế chưa sử dụng nền tảng nào và thử nghiệm 1 nền tảng."
    )


def test_unit_names_inside_a_sentence_follow_nghi_dinh_30():
    assert narrative.in_sentence("Huyện Phú Vang") == "huyện Phú Vang"
    assert narrative.in_sentence("Thị xã Hương Thủy") == "thị xã Hương Thủy"
    assert narrative.in_sentence("Sở Nội vụ") == "Sở Nội vụ"
    assert narrative.people_committee("Thành phố Huế") == "UBND thành phố Huế"
    assert narrative.people_committee("Sở Tài chính") == "Sở Tài chính"


def test_province_changes_say_over_how_many_units():
    v = full(hues_downloads=(805_002, -745_382), units_compared=(1,))
    text = narrative.hue_s(v, "2022-12", 2022, "toàn tỉnh")
    assert "giảm 745.382 lượt so với tháng trước (so sánh trên 1 đơn vị có số liệu cả hai tháng)" in text


def test_teams_sentence_with_rejected_rows_says_they_are_not_known():
    # 141 communes: 139 with a team, 1 reported none, 1 row rejected
    v = view(teams=1843, members=9093, communes_with_team=139, communes_without_team=1, communes_no_data=1)
    text = narrative.teams(v, "toàn tỉnh")
    assert "(số liệu của 140/141 xã, phường, thị trấn)" in text
    assert "139/141 xã, phường, thị trấn đã có tổ" in text
    assert "Còn 1 xã, phường, thị trấn báo cáo chưa có tổ công nghệ số." in text
    assert "1 xã, phường, thị trấn chưa có số liệu hợp lệ" in text and "không tính là chưa có tổ" in text


def test_lgsp_sentence_when_no_government_platform_is_in_use():
    v = view(lgsp_deployments=0, platform_deployments=3)
    assert (
        narrative.lgsp(v, "Thành phố Huế")
        == "Thành phố Huế chưa có nền tảng phục vụ chính quyền nào đang sử dụng để kết nối LGSP."
    )


def test_summary_changes_are_not_nested_in_brackets():
    v = full(teams=(26, 0.0), units_compared=(1,))
    text = narrative.summary(v, "2022-07", "các đơn vị trong tỉnh")
    assert (
        "Có 26 tổ công nghệ số cộng đồng, không đổi so với tháng trước (so sánh trên 1 đơn vị có số liệu cả hai tháng)."
    ) in text


# --------------------------------------------------------------------------------------------
# The words of the month's map (narrative.Places): thành phố Huế and, from 2025-07, its 40 xã, phường.

CITY = narrative.Places(
    whole="toàn thành phố",
    areas="các xã, phường",
    area_kinds="xã, phường",
    communes="xã, phường",
    agencies="cơ quan cấp thành phố",
    committee="UBND thành phố",
    within="các đơn vị trong thành phố",
)


def test_sentences_of_july_2025_speak_of_the_city_and_its_communes():
    v = view(
        platforms_in_use=4,
        platforms_trial=0,
        platforms_not_deployed=0,
        platform_mau=1105,
        platform_uses=3020,
        platform_mau_agencies=35,
    )
    text = narrative.platforms(v, "các đơn vị trong thành phố", CITY)
    assert "trên địa bàn các xã, phường có 1.105 người dùng hoạt động" in text
    assert "trong các cơ quan cấp thành phố có 35 người dùng hoạt động" in text
    teams = narrative.teams(
        view(teams=(120, 4), members=600, communes_with_team=38, communes_without_team=2), "toàn thành phố", CITY
    )
    assert teams.startswith(
        "Trên địa bàn toàn thành phố có 120 tổ công nghệ số cộng đồng với 600 thành viên, tăng 4 tổ"
    )
    assert "38/40 xã, phường đã có tổ" in teams and "Còn 2 xã, phường báo cáo chưa có tổ công nghệ số." in teams
    cover = view(ehealth_penetration=10.0, ehealth_coverage=40.0)
    assert "(các xã, phường báo cáo có 40% dân số, dưới mức 80%" in narrative.per_capita(
        cover, "ehealth_penetration", "ehealth_coverage", "Tài khoản Sổ sức khỏe điện tử", 80.0, CITY
    )


def test_a_commune_that_reports_itself_has_teams_or_not_no_share_of_communes():
    text = narrative.teams(
        view(teams=0, members=0, communes_with_team=0, communes_without_team=1), "phường Kim Long", CITY, own=True
    )
    assert text == "Phường Kim Long báo cáo chưa có tổ công nghệ số cộng đồng."
    text = narrative.teams(
        view(teams=2, members=9, communes_with_team=1, communes_without_team=0, trainings=1, trained=20, households=5),
        "phường Kim Long",
        CITY,
        own=True,
    )
    assert text == (
        "Trên địa bàn phường Kim Long có 2 tổ công nghệ số cộng đồng với 9 thành viên. Trong tháng tổ chức 1 buổi "
        "tập huấn với 20 lượt người tham gia; các tổ hỗ trợ 5 hộ gia đình sử dụng nền tảng số."
    )


def test_rules_and_proposals_of_the_city():
    from dxreport.kpis import Rule

    assert narrative.rule_text(Rule("c", "below_share", "hues_penetration", 80.0), reference=50.0, places=CITY) == (
        "Lượt tải Hue-S trên 100 dân thấp hơn 80% mức toàn thành phố (toàn thành phố 50,0 lượt/100 dân, ngưỡng "
        "40,0 lượt/100 dân)"
    )
    platforms = pd.DataFrame([{"rule": "p", "subject_name": "Họp trực tuyến", "not_deployed": 3}])
    out = narrative.proposals_from_figures(
        pd.DataFrame(), platforms, [Rule("p", "platform_not_deployed", threshold=2.0)], {}, places=CITY
    )
    assert out == [
        "Đề nghị UBND thành phố chỉ đạo các đơn vị chưa triển khai khẩn trương triển khai Họp trực tuyến "
        "(3 đơn vị chưa triển khai)."
    ]


def test_a_commune_level_unit_is_addressed_by_its_peoples_committee_only_when_it_reports_itself():
    assert narrative.people_committee("Phường Phú Xuân", commune=True) == "UBND phường Phú Xuân"
    assert narrative.people_committee("Phường Phú Xuân") == "Phường Phú Xuân"  # a commune inside a district
    assert narrative.people_committee("Quận Thuận Hóa") == "UBND quận Thuận Hóa"
