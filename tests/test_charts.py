import math
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from matplotlib.text import Text

from dxreport import charts

SVG = "{http://www.w3.org/2000/svg}"


def test_charts_use_the_report_font():
    from dxreport import render

    assert charts.FONT_FAMILY == render.FONT_FAMILY and charts.STYLE["font.family"] == render.FONT_FAMILY
    assert charts.STYLE["svg.fonttype"] == "none"


def test_trend_labels_points_in_vietnamese_format():
    frame = pd.DataFrame({"month": ["2022-06", "2022-07"], "value": [780000.0, 793050.0]})
    fig = charts.trend(frame, "Lượt tải ứng dụng Hue-S (lũy kế)", "lượt tải")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Lượt tải ứng dụng Hue-S (lũy kế)"
    assert [t.get_text() for t in ax.texts] == ["780.000", "793.050"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["06/2022", "07/2022"]


def test_compare_sorts_bars_and_hatches_the_highlighted_unit():
    frame = pd.DataFrame({"label": ["Huyện A Lưới", "Thành phố Huế", "Huyện Nam Đông"], "value": [40.5, 75.25, None]})
    fig = charts.compare(
        frame,
        "Lượt tải trên 100 dân",
        "lượt / 100 dân",
        highlight="Huyện A Lưới",
        reference=60.0,
        reference_label="bình quân toàn tỉnh",
        decimals=1,
    )
    ax = fig.axes[0]
    bars = ax.patches
    assert [round(b.get_width(), 2) for b in bars] == [40.5, 75.25]  # the unit without data has no bar
    assert bars[0].get_hatch() == "///" and not bars[1].get_hatch()
    assert "75,3" in [t.get_text() for t in ax.texts]  # 75,25 rounded half up


def test_status_grid_uses_shapes_not_colours():
    frame = pd.DataFrame(
        {
            "unit_label": ["Huế", "Huế", "Phú Vang"],
            "platform_label": ["Hue-S", "VNeID", "Hue-S"],
            "status": ["dang_su_dung", "chua_trien_khai", "dang_thu_nghiem"],
        }
    )
    ax = charts.status_grid(frame, "Nền tảng theo đơn vị").axes[0]
    marks = {
        (line.get_marker(), line.get_fillstyle()): list(zip(line.get_xdata(), line.get_ydata()))
        for line in ax.get_lines()
        if line.get_marker() == "o"
    }
    # full circle in use, half-filled on trial, empty not deployed: all drawn in the one ink
    assert marks == {("o", "full"): [(0, 0)], ("o", "left"): [(1, 0)], ("o", "none"): [(0, 1)]}
    assert {line.get_color() for line in ax.get_lines() if line.get_marker() == "o"} == {charts.INK}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["đang sử dụng", "thử nghiệm", "chưa triển khai", "ô trống: không báo cáo"]


def test_chart_shows_as_svg_whose_text_is_text_with_its_title_as_alt_text():
    frame = pd.DataFrame({"month": ["2022-07"], "value": [1.0]})
    data, meta = charts.trend(frame, "Tiêu đề", "lượt tải")._repr_svg_()
    assert meta == {"alt": "Tiêu đề"}
    root = ET.fromstring(data.encode("utf-8"))
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    assert "Tiêu đề" in texts and "lượt tải" in texts and "07/2022" in texts
    assert root.find(f".//{SVG}path") is not None  # drawn as vectors, not a bitmap
    assert root.find(f".//{SVG}image") is None


def test_two_charts_never_share_an_svg_id():
    frame = pd.DataFrame({"month": ["2022-07", "2022-08"], "value": [1.0, 2.0]})
    first, second = charts.trend(frame, "Một", "lượt").svg(), charts.trend(frame, "Hai", "lượt").svg()
    ids = [set(re.findall(r'\bid="([^"]+)"', svg)) for svg in (first, second)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    for svg, own in zip((first, second), ids):
        assert set(re.findall(r"url\(#([^)]+)\)", svg)) <= own  # every reference stays inside its chart


def test_only_ids_are_prefixed_and_every_link_to_one_follows_it():
    frame = pd.DataFrame({"month": ["2022-07", "2022-08"], "value": [1.0, 2.0]})
    svg = charts.trend(frame, "Một", "lượt").svg()
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    prefix = next(iter(ids)).split("-", 1)[0] + "-"
    assert re.fullmatch(r"dx[0-9a-f]{8}-", prefix) and all(i.startswith(prefix) for i in ids)
    links = re.findall(r'href="#([^"]+)"', svg) + re.findall(r"url\(#([^)]+)\)", svg)
    assert links and set(links) <= ids  # markers are drawn by <use href>, the plot is clipped by url()
    assert 'stroke="#1a1a1a"' in svg or "stroke: #1a1a1a" in svg  # a colour is not an id


def _text_sizes(svg: str) -> tuple[float, list[tuple[str, float, str]]]:
    """Width of the SVG in points, and (text, size in user units, font family) of each text."""
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.get("width").endswith("pt")
    width = float(root.get("width")[:-2])
    view = [float(v) for v in root.get("viewBox").split()]
    assert view[2] == pytest.approx(width)  # one user unit is one point
    out = []
    for node in root.iter(SVG + "text"):
        style = dict(part.split(":", 1) for part in node.get("style").split(";") if ":" in part)
        style = {k.strip(): v.strip() for k, v in style.items()}
        out.append(
            ("".join(node.itertext()), float(style["font-size"].removesuffix("px")), style["font-family"].strip("'\""))
        )
    return width, out


def _report_like_charts():
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    downloads = pd.DataFrame({"month": months, "value": [690000 + 10000 * i + 37 * i * i for i in range(12)]})
    reports = pd.DataFrame(
        {
            "month": months * 3,
            "value": [3700 + 80 * i for i in range(12)]
            + [3600 + 80 * i for i in range(12)]
            + [3300 + 80 * i for i in range(12)],
            "series": ["Tiếp nhận"] * 12 + ["Đã xử lý"] * 12 + ["Xử lý đúng hạn"] * 12,
        }
    )
    districts = pd.DataFrame(
        {"label": [f"Huyện Phong Điền {i}" for i in range(9)], "value": [48.5 + 5 * i for i in range(9)]}
    )
    units = [f"Sở Công Thương {i}" for i in range(29)]
    platforms = [f"Nền tảng tích hợp, chia sẻ dữ liệu số {i} (LGSP)" for i in range(22)]
    grid = pd.DataFrame(
        [
            (u, p, ["dang_su_dung", "dang_thu_nghiem", "chua_trien_khai"][(i + j) % 3])
            for i, u in enumerate(units)
            for j, p in enumerate(platforms)
            if (i * j) % 4 != 1
        ],
        columns=["unit_label", "platform_label", "status"],
    )
    return [
        charts.trend(downloads, "Lượt tải ứng dụng Hue-S (lũy kế)", "lượt tải"),
        charts.trends(reports, "Phản ánh hiện trường qua Hue-S theo tháng", "phản ánh"),
        charts.compare(
            districts,
            "Lượt tải Hue-S trên 100 dân",
            "lượt tải / 100 dân",
            highlight="Huyện Phong Điền 3",
            reference=62.0,
            reference_label="toàn tỉnh",
            decimals=1,
        ),
        charts.status_grid(grid, "Tình trạng triển khai nền tảng số theo đơn vị"),
    ]


@pytest.mark.parametrize("index", range(4))
def test_every_label_is_in_the_report_serif_and_at_least_8_pt_on_a4(index):
    chart = _report_like_charts()[index]
    width, texts = _text_sizes(chart.svg())
    assert width <= charts.TEXT_WIDTH_IN * 72  # printed at its own size, not shrunk
    assert texts and {family for _, _, family in texts} == {"Liberation Serif"}
    assert not [(text, size) for text, size, _ in texts if size < 8]


def _drawn_texts(fig):
    """Every text the figure draws (tick labels outside the axis limits are not drawn)."""
    fig.canvas.draw()
    ticks = set()
    drawn = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update({tick.label1, tick.label2})
            for tick in axis._update_ticks():
                drawn += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    drawn += [t for t in fig.findobj(Text) if t not in ticks and t.get_visible()]
    return [t for t in drawn if t.get_text().strip()]


def _clash(fig, a, b) -> bool:
    """Whether two texts overlap; two texts turned by the same angle (tick labels at 45°) are told
    apart by the distance between their baselines."""
    renderer = fig.canvas.get_renderer()
    if a.get_rotation() == b.get_rotation() and a.get_rotation() % 180:
        angle = math.radians(a.get_rotation())
        (xa, ya), (xb, yb) = (t.get_transform().transform(t.get_position()) for t in (a, b))
        apart = abs(-(xb - xa) * math.sin(angle) + (yb - ya) * math.cos(angle))
        return apart < max(a.get_size(), b.get_size()) * fig.dpi / 72
    box_a, box_b = a.get_window_extent(renderer), b.get_window_extent(renderer)
    return (
        min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0) > 0.5
        and min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0) > 0.5
    )


@pytest.mark.parametrize("index", range(4))
def test_labels_never_overlap_nor_leave_the_figure(index):
    fig = _report_like_charts()[index].figure
    texts = _drawn_texts(fig)
    assert len(texts) > 10
    clashes = [(a.get_text(), b.get_text()) for i, a in enumerate(texts) for b in texts[i + 1 :] if _clash(fig, a, b)]
    assert not clashes
    edge = fig.bbox
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    assert not [
        text
        for text, box in boxes
        if box.x0 < edge.x0 - 0.5 or box.x1 > edge.x1 + 0.5 or box.y0 < edge.y0 - 0.5 or box.y1 > edge.y1 + 0.5
    ]


def test_the_overlap_check_sees_labels_that_collide():
    frame = pd.DataFrame({"month": [f"2022-{m:02d}" for m in range(1, 13)], "value": [1000.0] * 12})
    fig = charts.trend(frame, "Lượt tải", "lượt").figure
    ax = fig.axes[0]
    first = ax.annotate("123.456", (0, 1000.0), fontsize=9)
    second = ax.annotate("654.321", (0, 1000.0), fontsize=9)
    fig.canvas.draw()
    assert _clash(fig, first, second)
    ticks = [t for t in _drawn_texts(fig) if t.get_rotation() == 45]
    for t in ticks:
        t.set_fontsize(30)
    assert _clash(fig, ticks[0], ticks[1])


def test_counts_start_at_zero():
    months = ["2022-10", "2022-11", "2022-12"]
    ax = charts.trend(pd.DataFrame({"month": months, "value": [790000, 800000, 805000]}), "Lượt tải", "lượt").axes[0]
    assert ax.get_ylim()[0] == 0
    frame = pd.DataFrame(
        {
            "month": months * 2,
            "value": [3700, 3800, 3900, 3600, 3650, 3700],
            "series": ["Tiếp nhận"] * 3 + ["Đã xử lý"] * 3,
        }
    )
    assert charts.trends(frame, "Phản ánh", "phản ánh").axes[0].get_ylim()[0] == 0
    bars = pd.DataFrame({"label": ["A", "B"], "value": [48.5, 89.1]})
    assert charts.compare(bars, "So sánh", "lượt").axes[0].get_xlim()[0] == 0


def test_point_labels_that_would_overlap_are_left_out_the_latest_kept():
    months = [f"2021-{m:02d}" for m in range(1, 13)] + [f"2022-{m:02d}" for m in range(1, 13)]
    frame = pd.DataFrame({"month": months, "value": [790000 + 1000 * i for i in range(24)]})
    ax = charts.trend(frame, "Lượt tải", "lượt").axes[0]
    shown = [t.get_text() for t in ax.texts if t.get_visible()]
    assert shown[-1] == "813.000" and 3 <= len(shown) < 24


def test_trends_tell_lines_apart_without_colour():
    frame = pd.DataFrame(
        {
            "month": ["2022-06", "2022-07"] * 3,
            "value": [100, 120, 90, 110, 80, 99],
            "series": ["Tiếp nhận"] * 2 + ["Đã xử lý"] * 2 + ["Đúng hạn"] * 2,
        }
    )
    ax = charts.trends(frame, "Phản ánh hiện trường", "phản ánh").axes[0]
    lines = ax.get_lines()
    assert [l.get_label() for l in lines] == ["Tiếp nhận", "Đã xử lý", "Đúng hạn"]
    assert len({(l.get_linestyle(), l.get_marker()) for l in lines}) == 3
    assert {l.get_color() for l in lines} == {charts.INK}  # one ink: grey print keeps them apart
    assert [t.get_text() for t in ax.texts] == ["120", "110", "99"]  # each line's last point
    ax.figure.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_compare_names_the_reference_line_under_the_axis():
    frame = pd.DataFrame({"label": ["Huyện A Lưới", "Thành phố Huế"], "value": [12.5, 15.0]})
    ax = charts.compare(
        frame,
        "Tổ mỗi xã",
        "tổ / xã",
        highlight="Huyện A Lưới",
        reference=13.25,
        reference_label="toàn tỉnh",
        decimals=1,
    ).axes[0]
    assert ax.get_xlabel().endswith("(- - -  toàn tỉnh: 13,3)")
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["Huyện A Lưới"]


def test_status_grid_follows_the_order_given_and_keeps_labels_apart():
    units = pd.Categorical(["Huế", "Sở Nội vụ", "Huế"], categories=["Huế", "Phú Vang", "Sở Nội vụ"], ordered=True)
    names = [
        "Nền tảng tích hợp, chia sẻ dữ liệu quốc gia (NDXP)",
        "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)",
        "Ứng dụng Hue-S",
    ]
    platforms = pd.Categorical([names[1], names[0], names[2]], categories=names, ordered=True)
    frame = pd.DataFrame(
        {
            "unit_label": units,
            "platform_label": platforms,
            "status": ["dang_su_dung", "dang_thu_nghiem", "chua_trien_khai"],
            "group": ["chinh_quyen", "chinh_quyen", "nguoi_dan"],
            "unit_group": ["district", "agency", "district"],
        }
    )
    ax = charts.status_grid(frame, "Tình trạng triển khai").axes[0]
    # Phú Vang reported nothing and is left out; the order is the categories' order
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Huế", "Sở Nội vụ"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].endswith("(NDXP)") and labels[1].endswith("(LGSP)") and len(set(labels)) == 3
    assert "chưa triển khai" in [t.get_text() for t in ax.get_legend().get_texts()]
    rules = [line for line in ax.lines if line.get_marker() in ("None", None, "")]
    assert len(rules) == 2  # one rule between the catalogs, one between districts and agencies


def test_a_chart_is_drawn_once_when_saved(monkeypatch):
    from matplotlib.figure import Figure

    frame = pd.DataFrame({"label": ["A", "B", "C"], "value": [3.0, 1.0, 2.0]})
    chart = charts.compare(frame, "So sánh", "lượt", highlight="B")
    draws = []
    real = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: (draws.append(renderer), real(self, renderer))[1])
    svg = chart.svg()
    assert len(draws) == 1  # laid out when made, not again when saved
    assert chart.figure.get_layout_engine() is None
    assert "So sánh" in svg and ">B<" in svg
