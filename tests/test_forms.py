from dxreport import forms
from dxreport.textnorm import fold


def test_sheets_follow_the_spec():
    assert [s.name for s in forms.SHEETS] == ["Thông tin", "Nền tảng", "Hue-S", "Tổ công nghệ số", "Doanh nghiệp"]
    assert [f.header for f in forms.HUE_S.fields] == [
        "Lượt tải lũy kế", "Tài khoản đăng ký lũy kế", "Phản ánh tiếp nhận trong tháng",
        "Phản ánh đã xử lý trong tháng", "Phản ánh xử lý đúng hạn trong tháng", "Tỷ lệ hài lòng (%)"]


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
