import pandas as pd

from dxreport import narrative


def view(**values):
    rows = [{"indicator": k, "value": v[0] if isinstance(v, tuple) else v,
             "change": v[1] if isinstance(v, tuple) else None} for k, v in values.items()]
    return pd.DataFrame(rows)


def test_hue_s_sentence_in_vietnamese_format():
    v = view(hues_downloads=(793050, 12345), hues_penetration=68.35, hues_accounts=512000,
             reports_received=4200, reports_processed=4095, processed_rate=97.5, on_time_rate=92.0, satisfaction=80.0)
    text = narrative.hue_s(v, "2022-07", 2022, "toàn tỉnh")
    assert text.startswith("Tính đến hết tháng 07/2022, ứng dụng Hue-S trên địa bàn toàn tỉnh có 793.050 lượt tải, "
                           "tăng 12.345 lượt so với tháng trước")
    assert "68,4 lượt tải trên 100 dân (dân số năm 2022)" in text
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
    v = view(teams=1523, members=7800, communes_with_team=139, communes_without_team=2,
             trainings=250, trained=5000, households=3000)
    text = narrative.teams(v, "toàn tỉnh")
    assert "1.523 tổ công nghệ số cộng đồng với 7.800 thành viên; 139/141 xã, phường, thị trấn đã có tổ" in text
    assert "Còn 2 xã, phường, thị trấn chưa có tổ công nghệ số." in text
