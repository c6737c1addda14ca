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
