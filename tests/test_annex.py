"""The Excel annex on the tiny hand-made month of test_kpis / test_report."""

import datetime as dt
import zipfile

import openpyxl
import pandas as pd
import pytest

from dxreport import annex, kpis, xlsx
from test_kpis import month_facts
from test_report import COMMUNES_478, HASH, make_context, rejected_context

SHEETS = [
    "I. Gửi báo cáo",
    "I. Chỉ tiêu",
    "II. Chính quyền",
    "III. Doanh nghiệp",
    "IV. Người dân, Hue-S",
    "V. Tổ công nghệ số",
    "VI. Thay đổi danh mục",
    "VII. Chậm triển khai",
    "VIII. Đề xuất",
    "Nền tảng chi tiết",
    "Dòng bị loại",
    "Nguồn số liệu",
]


def _facts_with_formula_text():
    facts = month_facts()
    bad = facts.index[(facts["metric"] == "proposal") & (facts["unit"] == "478")]
    facts.loc[bad, "text"] = '=HYPERLINK("http://x","bấm")'
    return facts


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    ctx = make_context(facts=_facts_with_formula_text(), is_sample=True, tmp=tmp_path_factory.mktemp("annex"))
    path = annex.write(ctx)
    return path, openpyxl.load_workbook(path)


def _columns(ws) -> dict[str, int]:
    return {ws.cell(annex.HEADER_ROW, j).value: j for j in range(1, ws.max_column + 1)}


def _row_of(ws, code: str) -> int:
    for i in range(annex.HEADER_ROW + 1, ws.max_row + 1):
        if ws.cell(i, 1).value == code:
            return i
    raise KeyError(code)


def test_written_next_to_the_report_with_one_sheet_per_section(province):
    path, wb = province
    assert path.name == "annex.xlsx" and path.parent.name == "tinh" and path.parent.parent.name == "2022-07"
    assert wb.sheetnames == SHEETS


def test_a_row_per_unit_and_the_province_last_in_bold(province):
    ws = province[1]["II. Chính quyền"]
    codes = [ws.cell(i, 1).value for i in range(annex.HEADER_ROW + 1, ws.max_row + 1)]
    assert len(codes) == 30 + 1 and codes[0] == "474" and codes[-1] == "tinh"
    assert ws.cell(ws.max_row, 2).value.startswith("Toàn tỉnh (") and ws.cell(ws.max_row, 2).font.bold
    districts = province[1]["V. Tổ công nghệ số"]
    assert districts.max_row == annex.HEADER_ROW + 9 + 1


def test_frozen_header_filter_and_widths(province):
    for name in SHEETS:
        ws = province[1][name]
        assert ws.freeze_panes in ("B4", "C4"), name
        assert ws.auto_filter.ref.startswith(f"A{annex.HEADER_ROW}:"), name
        assert all(
            ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width >= 8 for j in range(1, ws.max_column + 1)
        ), name
    ws = province[1]["II. Chính quyền"]
    assert ws.freeze_panes == "C4" and ws.auto_filter.ref == "A3:L34"


def test_numbers_are_numbers_with_formats(province):
    ws = province[1]["IV. Người dân, Hue-S"]
    col = _columns(ws)
    hue = _row_of(ws, "474")
    downloads = ws.cell(hue, col["Lượt tải ứng dụng Hue-S (lũy kế) (lượt)"])
    assert downloads.value == 1000 and downloads.number_format == annex.COUNT
    rate = ws.cell(hue, col["Tỷ lệ phản ánh đã xử lý"])
    assert rate.value == pytest.approx(0.90) and rate.number_format == annex.RATE  # 90 / 100, shown 90.0%
    per_100 = ws.cell(hue, col["Lượt tải Hue-S trên 100 dân (lượt/100 dân)"])
    assert per_100.value == pytest.approx(1000 / 494_070 * 100) and per_100.number_format == annex.RATIO
    population = ws.cell(hue, col["Dân số (người)"])
    assert population.value == 494_070 and ws.cell(hue, col["Năm số liệu dân số"]).value == 2022
    province_row = _row_of(ws, "tinh")
    assert ws.cell(province_row, col["Tỷ lệ phản ánh đã xử lý"]).value == pytest.approx(140 / 150)
    # a unit that reported nothing has empty cells, not zeros
    assert ws.cell(_row_of(ws, "476"), col["Lượt tải ứng dụng Hue-S (lũy kế) (lượt)"]).value is None


def test_targets_keep_each_rows_unit(province):
    ws = province[1]["I. Chỉ tiêu"]
    col = _columns(ws)
    rows = {ws.cell(i, 1).value: i for i in range(annex.HEADER_ROW + 1, ws.max_row + 1)}
    processed = rows["Tỷ lệ phản ánh đã xử lý"]
    assert ws.cell(processed, col["Mục tiêu"]).value == pytest.approx(0.95)
    assert ws.cell(processed, col["Mục tiêu"]).number_format == annex.RATE
    assert ws.cell(processed, col["Đánh giá"]).value == "Chưa đạt"
    ehealth = rows["Tài khoản Sổ sức khỏe điện tử trên 100 dân"]
    assert (
        ws.cell(ehealth, col["Mục tiêu"]).value == 90 and ws.cell(ehealth, col["Mục tiêu"]).number_format == annex.RATIO
    )
    assert ws.cell(ehealth, col["Loại chỉ tiêu"]).value == "Chỉ tiêu công bố"
    assert ws.cell(processed, col["Loại chỉ tiêu"]).value == "Chỉ tiêu của Sở"


def test_text_that_looks_like_a_formula_is_neutralised(province):
    path, wb = province
    sources = wb["Nguồn số liệu"]
    cell = sources.cell(_row_of(sources, "477"), _columns(sources)["Tệp"])
    assert cell.value == "=cmd|x.xlsx" and cell.data_type == "s" and cell.quotePrefix
    proposals = wb["VIII. Đề xuất"]
    cell = proposals.cell(_row_of(proposals, "478"), _columns(proposals)["Đề xuất"])
    assert cell.value == '=HYPERLINK("http://x","bấm")' and cell.quotePrefix
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml


@pytest.mark.parametrize("text", ["+1", "-2+3", "@SUM(A1)", "=1+1", "\t=1"])
def test_safe_text_marks_every_formula_prefix(text):
    ws = openpyxl.Workbook().active
    xlsx.safe_text(ws["A1"], text)
    assert ws["A1"].data_type == "s" and ws["A1"].quotePrefix and ws["A1"].value == text
    xlsx.safe_text(ws["A2"], "Huyện Phú Vang")
    assert not ws["A2"].quotePrefix


def test_sources_sheet_names_files_hashes_times_snapshot_and_definitions(province):
    ws = province[1]["Nguồn số liệu"]
    col = _columns(ws)
    hue = _row_of(ws, "474")
    assert ws.cell(hue, col["Mã băm SHA-256 của tệp (tên tệp lưu trữ trong data/raw)"]).value == HASH
    received = ws.cell(hue, col["Nhận lúc"])
    assert received.value == dt.datetime(2022, 8, 3, 9, 0) and received.number_format == annex.DATETIME
    assert "bản chụp ngày 31/12/2022" in ws.cell(2, 1).value and "DỮ LIỆU MẪU" in ws.cell(2, 1).value
    texts = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert {i.name for i in kpis.INDICATORS} <= texts and "Định nghĩa các chỉ tiêu" in texts


def test_sample_marking_on_every_section_sheet(province):
    for name in SHEETS[:-1]:
        assert "DỮ LIỆU MẪU" in (province[1][name].cell(2, 1).value or ""), name


def test_no_catalog_comparison_is_said(province):
    assert province[1]["VI. Thay đổi danh mục"].cell(2, 1).value.startswith("Chưa có thông tin so sánh danh mục")


def test_a_units_annex_marks_its_row_and_keeps_its_own_details(tmp_path):
    wb = openpyxl.load_workbook(annex.write(make_context("478", tmp=tmp_path)))
    ws = wb["IV. Người dân, Hue-S"]
    own = _row_of(ws, "478")
    assert (
        ws.cell(own, 2).font.bold
        and ws.cell(own, 2).font.italic
        and ws.cell(own, 2).fill.fgColor.rgb.endswith("EFEFEF")
    )
    assert not ws.cell(_row_of(ws, "474"), 2).font.italic
    detail = wb["Nền tảng chi tiết"]
    assert {detail.cell(i, 1).value for i in range(annex.HEADER_ROW + 1, detail.max_row + 1)} == {"478"}
    assert "DỮ LIỆU MẪU" not in (ws.cell(2, 1).value or "")
    lagging = wb["VII. Chậm triển khai"]
    assert [lagging.cell(i, 1).value for i in range(annex.HEADER_ROW + 1, lagging.max_row + 1)] == ["478"]


def test_platform_detail_has_a_row_per_unit_and_platform(province):
    ws = province[1]["Nền tảng chi tiết"]
    col = _columns(ws)
    assert ws.max_row - annex.HEADER_ROW == 8  # 474: 4, 478: 1, snv: 3
    sskdt = next(
        i for i in range(annex.HEADER_ROW + 1, ws.max_row + 1) if ws.cell(i, col["Mã nền tảng"]).value == "nd-sskdt"
    )
    assert ws.cell(sskdt, col["Tài khoản lũy kế"]).value == 49_407
    assert ws.cell(sskdt, col["Tình trạng"]).value == "Đang sử dụng"
    assert ws.cell(sskdt, col["Kết nối LGSP"]).value == "Không"


def test_build_does_not_need_the_changes_tables():
    wb = annex.build(
        make_context(
            changes=pd.DataFrame(
                columns=["month", "change", "platform_id", "catalog", "name", "previous_name", "snapshot_date"]
            )
        )
    )
    assert wb["VI. Thay đổi danh mục"].cell(2, 1).value.startswith("Danh mục không thay đổi")


def _column_values(ws, header: str) -> dict[str, object]:
    col = _columns(ws)[header]
    return {ws.cell(i, 1).value: ws.cell(i, col).value for i in range(annex.HEADER_ROW + 1, ws.max_row + 1)}


def test_every_total_row_adds_the_rows_above_or_says_what_it_adds(province):
    wb = province[1]
    teams = wb["V. Tổ công nghệ số"]
    # districts only: the total is the sum of the nine rows above it (Huế 3, Phú Vang 5 teams)
    for header in (
        "Tổ công nghệ số cộng đồng (lũy kế) (tổ)",
        "Xã, phường, thị trấn chưa có tổ (đơn vị)",
        "Xã, phường, thị trấn chưa có số liệu hợp lệ về tổ (đơn vị)",
    ):
        values = _column_values(teams, header)
        total = values.pop("tinh")
        assert total == sum(v for v in values.values() if v is not None), header
    assert _column_values(teams, "Tổ công nghệ số cộng đồng (lũy kế) (tổ)")["tinh"] == 8
    platforms = wb["II. Chính quyền"]
    accounts = _column_values(platforms, "Tài khoản trên các nền tảng (lũy kế) (tài khoản)")
    # 474: 500 + 50 + 49.407; Sở Nội vụ's 20 + 30 are shown on its row, not added into the total
    assert accounts["tinh"] == 49_957 and accounts["snv"] == 50
    label = platforms.cell(_row_of(platforms, "tinh"), 2).value
    assert "không cộng các cơ quan cấp tỉnh" in label and "số nền tảng khác nhau" in label
    for name in ("III. Doanh nghiệp", "IV. Người dân, Hue-S", "V. Tổ công nghệ số"):
        ws = wb[name]
        assert "cộng các huyện, thị xã, thành phố" in ws.cell(_row_of(ws, "tinh"), 2).value, name


def test_never_more_platforms_connected_than_in_use(province):
    ws = province[1]["II. Chính quyền"]
    connected = _column_values(ws, "Nền tảng phục vụ chính quyền đã kết nối LGSP (nền tảng)")
    in_use = _column_values(ws, "Đang sử dụng (nền tảng)")
    for code, value in connected.items():
        if value is not None:
            assert value <= in_use[code], code
    # Huế's connected nd-hues serves citizens: not counted; Sở Nội vụ's cq-lgsp is
    assert connected["474"] == 0 and connected["snv"] == 1 and connected["tinh"] == 1


def test_rejected_rows_are_listed_with_their_place_in_the_annex(tmp_path):
    wb = openpyxl.load_workbook(
        annex.write(rejected_context().__class__(**{**rejected_context().__dict__, "dest": tmp_path}))
    )
    ws = wb["Dòng bị loại"]
    assert ws.max_row == annex.HEADER_ROW + 1
    row = {
        ws.cell(annex.HEADER_ROW, j).value: ws.cell(annex.HEADER_ROW + 1, j).value for j in range(1, ws.max_column + 1)
    }
    assert row["Mã đơn vị"] == "478" and row["Dòng"] == "13" and row["Tệp"] == "phuvang.xlsx"
    assert row["Xã, phường, thị trấn"].endswith(COMMUNES_478[0].name.split(" ", 1)[1])
    assert row["Lý do"] == "Số thành viên nhỏ hơn số tổ (3 so với 5)"


def wb_2022_headers():
    """The teams sheet of the province's annex of the tiny 2022 month."""
    return annex.build(make_context())["V. Tổ công nghệ số"]


def test_the_annex_of_july_2025_names_the_city_and_its_40_communes(tmp_path):
    from test_report import city_context

    ctx = city_context()
    ctx.dest = tmp_path
    wb = openpyxl.load_workbook(annex.write(ctx))
    teams = wb["V. Tổ công nghệ số"]
    codes = [teams.cell(i, 1).value for i in range(annex.HEADER_ROW + 1, teams.max_row + 1)]
    assert len(codes) == 40 + 1 and codes[:3] == ["19753", "19774", "19777"] and codes[-1] == "tinh"
    assert teams.cell(_row_of(teams, "tinh"), 2).value == "Toàn thành phố (cộng các xã, phường)"
    assert not [h for h in _columns(teams) if "bình quân mỗi xã" in str(h)]
    assert [h for h in _columns(wb_2022_headers()) if "bình quân mỗi xã" in str(h)] == [
        "Số tổ bình quân mỗi xã (tổ/xã)"
    ]
    # Phú Xuân 3 + Kim Long 2 + Vỹ Dạ 1
    assert _column_values(teams, "Tổ công nghệ số cộng đồng (lũy kế) (tổ)")["tinh"] == 6
    platforms = wb["II. Chính quyền"]
    assert platforms.cell(_row_of(platforms, "tinh"), 2).value == (
        "Toàn thành phố (số nền tảng khác nhau; tài khoản, người dùng, lượt sử dụng: cộng các xã, phường, không "
        "cộng các cơ quan cấp thành phố)"
    )
    assert teams.cell(1, 1).value.startswith("Phụ lục V.") and "toàn thành phố" in teams.cell(2, 1).value


def test_each_cell_gets_the_style_of_its_own_kind():
    """Cells of the same kind share their style; a cell of another kind never inherits one."""
    wb = openpyxl.Workbook()
    columns = [
        annex.Column("Đơn vị", lambda r: r["name"]),
        annex.Column("Tỷ lệ", lambda r: r["rate"], annex.RATE),
    ]
    rows = [
        {"name": "=SUM(A1)", "rate": 50.0},  # formula-like text: quoted
        {"name": "Huyện A Lưới", "rate": None},  # plain text; no figure, no format
        {"name": "Sở Nội vụ", "rate": 12.5, "own": True},  # the report's own row
        {"name": "Toàn tỉnh", "rate": 25.0, "total": True},
    ]
    annex._write_sheet(
        wb, "Thử", "Tiêu đề", columns, rows, highlight=lambda r: r.get("own"), total=lambda r: r.get("total")
    )
    ws = wb["Thử"]
    first, plain, own, total = (annex.HEADER_ROW + i for i in (1, 2, 3, 4))
    assert ws.cell(first, 1).quotePrefix and not ws.cell(plain, 1).quotePrefix
    assert ws.cell(first, 2).value == 0.5 and ws.cell(first, 2).number_format == annex.RATE
    assert ws.cell(plain, 2).value is None and ws.cell(plain, 2).number_format == "General"
    assert ws.cell(plain, 1).alignment.wrap_text and not ws.cell(first, 2).alignment.wrap_text
    assert ws.cell(own, 1).font.bold and ws.cell(own, 1).font.italic
    assert ws.cell(own, 2).fill.fgColor.rgb.endswith("EFEFEF") and ws.cell(own, 2).number_format == annex.RATE
    assert ws.cell(total, 2).font.bold and not ws.cell(total, 2).font.italic
    assert ws.cell(total, 2).fill.fgColor.rgb != ws.cell(own, 2).fill.fgColor.rgb
    assert all(ws.cell(r, c).border.left.style for r in (first, plain, own, total) for c in (1, 2))
