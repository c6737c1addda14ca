"""Matplotlib figures in one house style: readable in grey print, labelled in Vietnamese.

Charts are set in the report's serif (Liberation Serif) and drawn at the width they are printed
(the A4 text block), so that a size given here in points is the size on paper; none is below
MIN_FONT_PT. A notebook shows a chart as SVG whose text stays text, so that the HTML and the PDF
can be searched and copied.
"""

from __future__ import annotations

import hashlib
import io
import re
import textwrap

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from dxreport.style import FONT_FAMILY
from dxreport.textnorm import format_month, format_number

#: Smallest type in a chart, in points on paper.
MIN_FONT_PT = 8.0
#: Width of the A4 text block (210 mm less margins of 30 and 20 mm) in inches; charts are drawn
#: a little narrower, so that they are printed at their own size, never scaled down.
TEXT_WIDTH_IN = 160 / 25.4
CHART_WIDTH_IN = 6.2

INK = "#1a1a1a"
MID = "#6e6e6e"
LIGHT = "#bdbdbd"
STYLE = {
    "font.family": FONT_FAMILY,
    "font.size": 10,
    "axes.titlesize": 11.5,
    "axes.labelsize": 10,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9.5,
    "axes.edgecolor": MID,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e0e0e0",
    "grid.linewidth": 0.6,
    "xtick.color": INK,
    "ytick.color": INK,
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "standard",  # the figure's own size: the size it is printed at
    "svg.fonttype": "none",  # text stays text in the SVG (searchable, copyable)
    "svg.hashsalt": "dxreport",  # the same chart gives the same SVG
    "axes.unicode_minus": False,
    "figure.autolayout": False,  # laid out once, by tight_layout
    "figure.constrained_layout.use": False,
}
_VI = FuncFormatter(lambda x, _pos: format_number(x, 0 if abs(x) >= 10 or x == int(x) else 1))
_ID = re.compile(r'\bid="([^"]+)"')
# Where an id is named: its definition, a url(#id) reference and an href="#id" link.
_ID_USE = re.compile(r'id="([^"]+)"|href="#([^"]+)"|#([^")]+)\)')


class Chart:
    """A figure that a notebook shows as SVG (`display(chart)`, or a cell's last value).

    `alt` is the chart's text for readers who cannot see it (the SVG's title and aria-label).
    """

    def __init__(self, figure: Figure, alt: str = ""):
        self.figure = figure
        self.alt = alt

    @property
    def axes(self):
        return self.figure.axes

    def png(self) -> bytes:
        """The chart as PNG bytes, 150 dpi."""
        buffer = io.BytesIO()
        with plt.rc_context(STYLE):
            self.figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def svg(self) -> str:
        """The chart as an SVG document whose text is text, in FONT_FAMILY, one unit a point.

        Its ids are prefixed by a digest of the drawing, so that several charts inlined in one
        HTML page never share an id unless they are the same drawing.
        """
        buffer = io.StringIO()
        with plt.rc_context(STYLE):
            self.figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        text = buffer.getvalue()
        prefix = "dx" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8] + "-"
        ids = set(_ID.findall(text))

        def prefixed(found: re.Match) -> str:
            whole, name = found.group(0), found.group(found.lastindex)
            if name not in ids:
                return whole
            cut = found.start(found.lastindex) - found.start()
            return whole[:cut] + prefix + whole[cut:]

        return _ID_USE.sub(prefixed, text)

    def _repr_svg_(self):
        return self.svg(), ({"alt": self.alt} if self.alt else {})


def _figure(width: float = CHART_WIDTH_IN, height: float = 2.9):
    # A bare Figure, not pyplot's: nothing global to close, and a notebook shows it with display().
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # measures text, so that labels can be kept apart
    return fig, fig.subplots()


def _tight_layout(fig: Figure) -> None:
    """Fit the plot, its labels and title in the figure, once: the figure keeps no layout engine,
    so that saving it does not lay it out again."""
    fig.tight_layout()
    fig.set_layout_engine(None)


def _extent(fig: Figure, artist):
    """Where `artist` is on the figure, in pixels: measured from the placed axes and the text, so
    that nothing needs drawing first."""
    return artist.get_window_extent(fig.canvas.get_renderer())


def _keep_apart(fig: Figure, texts: list) -> None:
    """Hide the labels among `texts` (in order of priority) that would overlap one shown before them."""
    kept = []
    for text in texts:
        box = _extent(fig, text).expanded(1.08, 1.15)
        if any(box.overlaps(other) for other in kept):
            text.set_visible(False)
        else:
            kept.append(box)


def _spread(fig: Figure, texts: list, gap_pt: float = 1.5) -> None:
    """Move labels placed beside points up or down until none overlaps another."""
    if len(texts) < 2:
        return
    scale = fig.dpi / 72
    for _ in range(40):
        boxes = sorted(((_extent(fig, t), t) for t in texts), key=lambda item: item[0].y0)
        moved = False
        for (low, t_low), (high, t_high) in zip(boxes, boxes[1:]):
            overlap = low.y1 + gap_pt * scale - high.y0
            if overlap > 0 and low.x0 < high.x1 and high.x0 < low.x1:
                shift = overlap / scale / 2 + 0.1
                x, y = t_low.xyann
                t_low.xyann = (x, y - shift)
                x, y = t_high.xyann
                t_high.xyann = (x, y + shift)
                moved = True
        if not moved:
            return


def _counts_from_zero(ax, data) -> None:
    """Counts start at zero: the axis never exaggerates a change."""
    if len(data) and float(pd.Series(data).min()) >= 0:
        ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))


def trend(series: pd.DataFrame, title: str, ylabel: str, *, value: str = "value", month: str = "month"):
    """A line over the months (solid dark line, round markers), its y axis from zero; points are
    labelled, the latest first, as many as fit without overlapping."""
    with plt.rc_context(STYLE):
        fig, ax = _figure(CHART_WIDTH_IN, 3.1)
        data = series.dropna(subset=[value]).sort_values(month)
        labels = [format_month(m) for m in data[month]]
        ax.plot(labels, data[value], color=INK, marker="o", linewidth=1.8, markersize=4)
        notes = [
            ax.annotate(
                format_number(y),
                (x, y),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=MIN_FONT_PT + 0.5,
                color=INK,
                bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none"},
            )
            for x, y in zip(labels, data[value])
        ]
        ax.set_title(title, loc="left", fontweight="bold", color=INK)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_VI)
        _counts_from_zero(ax, data[value])
        ax.set_ylim(top=ax.get_ylim()[1] * 1.12 if len(data) else None)
        ax.tick_params(axis="x", labelrotation=45)
        _tight_layout(fig)
        _keep_apart(fig, notes[::-1])
    return Chart(fig, alt=title)


# Line styles told apart without colour: solid, dashed, dotted, dash-dot; each with its marker.
LINE_STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))


def trends(
    frame: pd.DataFrame,
    title: str,
    ylabel: str,
    *,
    series: str = "series",
    value: str = "value",
    month: str = "month",
    label_last: bool = True,
):
    """Several lines over the months, told apart by line style and marker (grey print), with a
    legend above the plot; the y axis from zero; the last point of each line is labelled, labels
    moved apart where they would overlap."""
    with plt.rc_context(STYLE):
        fig, ax = _figure(CHART_WIDTH_IN, 3.3)
        data = frame.dropna(subset=[value])
        months = sorted(data[month].unique())
        labels = [format_month(m) for m in months]
        notes = []
        for i, (name, part) in enumerate(data.groupby(series, sort=False)):
            style, marker = LINE_STYLES[i % len(LINE_STYLES)]
            part = part.set_index(month).reindex(months)
            ax.plot(
                labels,
                part[value],
                color=INK,
                linestyle=style,
                marker=marker,
                linewidth=1.5,
                markersize=3.5,
                label=name,
                markerfacecolor="white" if i % 2 else INK,
            )
            last = part[value].dropna()
            if label_last and not last.empty:
                notes.append(
                    ax.annotate(
                        format_number(last.iloc[-1]),
                        (labels[months.index(last.index[-1])], last.iloc[-1]),
                        textcoords="offset points",
                        xytext=(6, 0),
                        va="center",
                        fontsize=MIN_FONT_PT + 1,
                        color=INK,
                    )
                )
        ax.set_title(title, loc="left", fontweight="bold", color=INK, pad=22)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_VI)
        _counts_from_zero(ax, data[value])
        ax.margins(x=0.08)
        ax.tick_params(axis="x", labelrotation=45)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, frameon=False, borderaxespad=0.3, handlelength=2.6)
        _tight_layout(fig)
        _spread(fig, notes)
    return Chart(fig, alt=title)


def compare(
    frame: pd.DataFrame,
    title: str,
    xlabel: str,
    *,
    label: str = "label",
    value: str = "value",
    highlight: str | None = None,
    reference: float | None = None,
    reference_label: str = "",
    decimals: int = 0,
):
    """Horizontal bars from zero, units compared, largest on top; the highlighted unit hatched
    and dark."""
    with plt.rc_context(STYLE):
        data = frame.dropna(subset=[value]).sort_values(value)
        fig, ax = _figure(CHART_WIDTH_IN, max(2.3, 0.27 * len(data) + 1.0))
        colors = [INK if lab == highlight else LIGHT for lab in data[label]]
        bars = ax.barh(data[label], data[value], color=colors, edgecolor=INK, linewidth=0.6)
        for bar, lab in zip(bars, data[label]):
            if lab == highlight:
                bar.set_hatch("///")
        for bar, v in zip(bars, data[value]):
            ax.annotate(
                format_number(v, decimals),
                (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                textcoords="offset points",
                xytext=(3, 0),
                va="center",
                fontsize=MIN_FONT_PT + 1,
                color=INK,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"},
            )
        for tick in ax.get_yticklabels():
            if tick.get_text() == highlight:
                tick.set_fontweight("bold")
        if reference is not None:
            # the reference line is named under the axis, where it can never cover a bar or the title
            ax.axvline(reference, color=INK, linestyle="--", linewidth=1, zorder=1)
            xlabel = f"{xlabel}      (- - -  {reference_label}: {format_number(reference, decimals)})"
        ax.set_title(title, loc="left", fontweight="bold", color=INK)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(_VI)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.15)
        ax.set_xlim(left=0)
        _tight_layout(fig)
    return Chart(fig, alt=title)


def _order(column: pd.Series) -> list:
    if isinstance(column.dtype, pd.CategoricalDtype):
        present = set(column.dropna())
        return [c for c in column.cat.categories if c in present]
    return list(dict.fromkeys(column))


def short_label(text: str, width: int = 38) -> str:
    """A label cut to `width` characters, keeping a final parenthesis ("… (LGSP)") so that
    two long names that differ only at the end stay different."""
    text = str(text)
    if len(text) <= width:
        return text
    head, sep, tail = text.rpartition(" (")
    if sep and tail.endswith(")") and len(tail) + 3 < width // 2:
        return textwrap.shorten(head, width - len(tail) - 3, placeholder="…") + " (" + tail
    return textwrap.shorten(text, width, placeholder="…")


GRID_SYMBOLS = {"dang_su_dung": "●", "dang_thu_nghiem": "◐", "chua_trien_khai": "○"}
GRID_LEGEND = "● đang sử dụng   ◐ thử nghiệm   ○ chưa triển khai   (ô trống: không báo cáo)"
#: Marker of each status: a full, a half-filled and an empty circle (shapes, not colours).
GRID_MARKERS = {"dang_su_dung": "full", "dang_thu_nghiem": "left", "chua_trien_khai": "none"}
GRID_NAMES = {"dang_su_dung": "đang sử dụng", "dang_thu_nghiem": "thử nghiệm", "chua_trien_khai": "chưa triển khai"}
_GRID_CELL_PT = (9.8, 11.5)  # narrowest and widest column of a unit (and row of a platform), in points


def status_grid(frame: pd.DataFrame, title: str, *, wrap: int = 40):
    """Platform × unit grid: full circle in use, half-filled on trial, empty not deployed.

    Platforms are the rows and units the columns, in the order of ordered categories when the
    columns `platform_label` and `unit_label` are categorical, else in order of appearance. An
    optional `group` column (the catalog) draws a rule between groups of platforms, an optional
    `unit_group` column (the unit's type) one between groups of units. Every label is at least
    MIN_FONT_PT on paper; the legend is under the grid.
    """
    with plt.rc_context(STYLE):
        units = _order(frame["unit_label"])
        platforms = _order(frame["platform_label"])
        # the row labels take what the columns leave, down to 26 characters; the columns stay wide
        # enough for their rotated labels to stand apart
        narrow, wide = (c / 72 for c in _GRID_CELL_PT)
        label_in = lambda chars: 0.3 + chars * MIN_FONT_PT * 0.46 / 72
        wrap = max(26, min(wrap, int((CHART_WIDTH_IN - 0.2 - narrow * len(units) - 0.3) * 72 / (MIN_FONT_PT * 0.46))))
        cell = max(narrow, min(wide, (CHART_WIDTH_IN - 0.2 - label_in(wrap)) / max(1, len(units))))
        width = min(CHART_WIDTH_IN, label_in(wrap) + cell * len(units) + 0.2)
        longest = max((len(str(u)) for u in units), default=4)
        height = 1.3 + longest * MIN_FONT_PT * 0.46 / 72 + max(cell, wide * 0.95) * len(platforms)
        fig, ax = _figure(width, height)
        ux = {u: i for i, u in enumerate(units)}
        py = {p: i for i, p in enumerate(platforms)}
        for status, fill in GRID_MARKERS.items():
            part = frame[frame["status"] == status]
            if len(part):
                ax.plot(
                    [ux[u] for u in part["unit_label"]],
                    [py[p] for p in part["platform_label"]],
                    linestyle="none",
                    marker="o",
                    markersize=6.5,
                    fillstyle=fill,
                    color=INK,
                    markerfacecoloralt="white",
                    markeredgewidth=0.9,
                )
        other = frame[~frame["status"].isin(list(GRID_MARKERS))]
        for u, p in zip(other["unit_label"], other["platform_label"]):
            ax.text(ux[u], py[p], "?", ha="center", va="center", fontsize=MIN_FONT_PT, color=INK)
        ax.set_xticks(range(len(units)), units, rotation=90, fontsize=MIN_FONT_PT)
        ax.set_yticks(range(len(platforms)), [short_label(p, wrap) for p in platforms], fontsize=MIN_FONT_PT)
        if "group" in frame:
            group = dict(zip(frame["platform_label"], frame["group"]))
            for i in range(1, len(platforms)):
                if group.get(platforms[i]) != group.get(platforms[i - 1]):
                    ax.axhline(i - 0.5, color=MID, linewidth=0.9)
        if "unit_group" in frame:
            kind = dict(zip(frame["unit_label"], frame["unit_group"]))
            for i in range(1, len(units)):
                if kind.get(units[i]) != kind.get(units[i - 1]):
                    ax.axvline(i - 0.5, color=MID, linewidth=0.9)
        ax.set_xlim(-0.5, len(units) - 0.5)
        ax.set_ylim(len(platforms) - 0.5, -0.5)
        ax.xaxis.tick_top()
        ax.grid(True, color="#e6e6e6", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.tick_params(length=0)
        ax.set_title(title, loc="left", fontweight="bold", color=INK, pad=8)
        handles = [
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markersize=6.5,
                fillstyle=fill,
                color=INK,
                markerfacecoloralt="white",
                markeredgewidth=0.9,
                label=GRID_NAMES[status],
            )
            for status, fill in GRID_MARKERS.items()
        ]
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="s",
                markersize=6.5,
                color="white",
                markeredgecolor=LIGHT,
                markeredgewidth=0.6,
                label="ô trống: không báo cáo",
            )
        )
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(-0.02, -0.01),
            ncol=2,
            frameon=False,
            fontsize=MIN_FONT_PT + 0.5,
            handletextpad=0.3,
            columnspacing=1.2,
            borderaxespad=0.2,
        )
        _tight_layout(fig)
        fig.set_size_inches(width, height)
    return Chart(fig, alt=f"{title}. {GRID_LEGEND}")
