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


def test_chart_shows_as_a_png_at_its_natural_width():
    frame = pd.DataFrame({"month": ["2022-07"], "value": [1.0]})
    data, meta = charts.trend(frame, "Tiêu đề", "lượt")._repr_png_()
    assert data.startswith(b"\x89PNG") and meta == {"width": 672}     # 7 inches × 96 px
