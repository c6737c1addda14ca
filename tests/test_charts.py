import pandas as pd

from dxreport import charts


def test_trend_labels_points_in_vietnamese_format():
    frame = pd.DataFrame({"month": ["2022-06", "2022-07"], "value": [780000.0, 793050.0]})
    fig = charts.trend(frame, "Lượt tải ứng dụng Hue-S (lũy kế)", "lượt tải")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Lượt tải ứng dụng Hue-S (lũy kế)"
    assert [t.get_text() for t in ax.texts] == ["780.000", "793.050"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["06/2022", "07/2022"]


def test_compare_sorts_bars_and_hatches_the_highlighted_unit():
    frame = pd.DataFrame({"label": ["Huyện A Lưới", "Thành phố Huế", "Huyện Nam Đông"], "value": [40.5, 75.25, None]})
    fig = charts.compare(frame, "Lượt tải trên 100 dân", "lượt / 100 dân", highlight="Huyện A Lưới",
                         reference=60.0, reference_label="bình quân toàn tỉnh", decimals=1)
    ax = fig.axes[0]
    bars = ax.patches
    assert [round(b.get_width(), 2) for b in bars] == [40.5, 75.25]      # the unit without data has no bar
    assert bars[0].get_hatch() == "///" and not bars[1].get_hatch()
    assert "75,3" in [t.get_text() for t in ax.texts]                      # 75,25 rounded half up


def test_status_grid_uses_shapes_not_colours():
    frame = pd.DataFrame({"unit_label": ["Huế", "Huế", "Phú Vang"], "platform_label": ["Hue-S", "VNeID", "Hue-S"],
                          "status": ["dang_su_dung", "chua_trien_khai", "dang_thu_nghiem"]})
    fig = charts.status_grid(frame, "Nền tảng theo đơn vị")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(["●", "○", "◐"])


def test_chart_shows_as_a_png_at_its_natural_width_with_its_title_as_alt_text():
    frame = pd.DataFrame({"month": ["2022-07"], "value": [1.0]})
    data, meta = charts.trend(frame, "Tiêu đề", "lượt")._repr_png_()
    assert data.startswith(b"\x89PNG") and meta == {"width": 672, "alt": "Tiêu đề"}     # 7 inches × 96 px


def test_trends_tell_lines_apart_without_colour():
    frame = pd.DataFrame({"month": ["2022-06", "2022-07"] * 3, "value": [100, 120, 90, 110, 80, 99],
                          "series": ["Tiếp nhận"] * 2 + ["Đã xử lý"] * 2 + ["Đúng hạn"] * 2})
    ax = charts.trends(frame, "Phản ánh hiện trường", "phản ánh").axes[0]
    lines = ax.get_lines()
    assert [l.get_label() for l in lines] == ["Tiếp nhận", "Đã xử lý", "Đúng hạn"]
    assert len({(l.get_linestyle(), l.get_marker()) for l in lines}) == 3
    assert {l.get_color() for l in lines} == {charts.INK}                   # one ink: grey print keeps them apart
    assert [t.get_text() for t in ax.texts] == ["120", "110", "99"]           # each line's last point


def test_compare_names_the_reference_line_under_the_axis():
    frame = pd.DataFrame({"label": ["Huyện A Lưới", "Thành phố Huế"], "value": [12.5, 15.0]})
    ax = charts.compare(frame, "Tổ mỗi xã", "tổ / xã", highlight="Huyện A Lưới", reference=13.25,
                        reference_label="toàn tỉnh", decimals=1).axes[0]
    assert ax.get_xlabel().endswith("(- - -  toàn tỉnh: 13,3)")
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["Huyện A Lưới"]


def test_status_grid_follows_the_order_given_and_keeps_labels_apart():
    units = pd.Categorical(["Huế", "Sở Nội vụ", "Huế"], categories=["Huế", "Phú Vang", "Sở Nội vụ"], ordered=True)
    names = ["Nền tảng tích hợp, chia sẻ dữ liệu quốc gia (NDXP)", "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)",
             "Ứng dụng Hue-S"]
    platforms = pd.Categorical([names[1], names[0], names[2]], categories=names, ordered=True)
    frame = pd.DataFrame({"unit_label": units, "platform_label": platforms,
                          "status": ["dang_su_dung", "dang_thu_nghiem", "chua_trien_khai"],
                          "group": ["chinh_quyen", "chinh_quyen", "nguoi_dan"],
                          "unit_group": ["district", "agency", "district"]})
    ax = charts.status_grid(frame, "Tình trạng triển khai").axes[0]
    # Phú Vang reported nothing and is left out; the order is the categories' order
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Huế", "Sở Nội vụ"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].endswith("(NDXP)") and labels[1].endswith("(LGSP)") and len(set(labels)) == 3
    assert "○ chưa triển khai" in ax.get_xlabel()
    assert len(ax.lines) == 2          # one rule between the catalogs, one between districts and agencies
