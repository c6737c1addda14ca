"""Matplotlib figures in one house style: readable in grey print, labelled in Vietnamese."""

from __future__ import annotations

import io
import textwrap

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from dxreport.textnorm import format_month, format_number

INK = "#1a1a1a"
MID = "#6e6e6e"
LIGHT = "#bdbdbd"
STYLE = {
    "font.family": "DejaVu Sans",   # ships with matplotlib and covers Vietnamese
    "font.size": 9,
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
    "savefig.bbox": "tight",
}
_VI = FuncFormatter(lambda x, _pos: format_number(x, 0 if abs(x) >= 10 or x == int(x) else 1))


class Chart:
    """A figure that a notebook shows as a PNG (`display(chart)`, or a cell's last value).

    `alt` is the chart's text for readers who cannot see it (the HTML `alt` of the image).
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

    def _repr_png_(self):
        # shown at its natural size in CSS pixels, sharp in print thanks to the higher dpi
        meta = {"width": int(self.figure.get_figwidth() * 96)}
        if self.alt:
            meta["alt"] = self.alt
        return self.png(), meta


def _figure(width: float = 7.0, height: float = 2.8):
    # A bare Figure, not pyplot's: nothing global to close, and a notebook shows it with display().
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def trend(series: pd.DataFrame, title: str, ylabel: str, *, value: str = "value", month: str = "month"):
    """A line over the months (solid dark line, round markers, each point labelled)."""
    with plt.rc_context(STYLE):
        fig, ax = _figure()
        data = series.dropna(subset=[value]).sort_values(month)
        labels = [format_month(m) for m in data[month]]
        ax.plot(labels, data[value], color=INK, marker="o", linewidth=1.8, markersize=4)
        for x, y in zip(labels, data[value]):
            ax.annotate(format_number(y), (x, y), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=7, color=INK)
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold", color=INK)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_VI)
        ax.margins(y=0.18)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7.5)
        fig.tight_layout()
    return Chart(fig, alt=title)


# Line styles told apart without colour: solid, dashed, dotted, dash-dot; each with its marker.
LINE_STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))


def trends(frame: pd.DataFrame, title: str, ylabel: str, *, series: str = "series", value: str = "value",
           month: str = "month", label_last: bool = True):
    """Several lines over the months, told apart by line style and marker (grey print), with a
    legend; the last point of each line is labelled."""
    with plt.rc_context(STYLE):
        fig, ax = _figure()
        data = frame.dropna(subset=[value])
        months = sorted(data[month].unique())
        labels = [format_month(m) for m in months]
        for i, (name, part) in enumerate(data.groupby(series, sort=False)):
            style, marker = LINE_STYLES[i % len(LINE_STYLES)]
            part = part.set_index(month).reindex(months)
            ax.plot(labels, part[value], color=INK, linestyle=style, marker=marker, linewidth=1.5, markersize=3.5,
                    label=name, markerfacecolor="white" if i % 2 else INK)
            last = part[value].dropna()
            if label_last and not last.empty:
                ax.annotate(format_number(last.iloc[-1]), (labels[months.index(last.index[-1])], last.iloc[-1]),
                            textcoords="offset points", xytext=(4, 4 if i % 2 == 0 else -10), fontsize=7, color=INK)
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold", color=INK)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_VI)
        ax.margins(x=0.06, y=0.15)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7.5)
        ax.legend(loc="best", fontsize=7.5, frameon=False)
        fig.tight_layout()
    return Chart(fig, alt=title)


def compare(frame: pd.DataFrame, title: str, xlabel: str, *, label: str = "label", value: str = "value",
            highlight: str | None = None, reference: float | None = None, reference_label: str = "",
            decimals: int = 0):
    """Horizontal bars, units compared, largest on top; the highlighted unit hatched and dark."""
    with plt.rc_context(STYLE):
        data = frame.dropna(subset=[value]).sort_values(value)
        fig, ax = _figure(7.0, max(2.2, 0.26 * len(data) + 0.9))
        colors = [INK if lab == highlight else LIGHT for lab in data[label]]
        bars = ax.barh(data[label], data[value], color=colors, edgecolor=INK, linewidth=0.6)
        for bar, lab in zip(bars, data[label]):
            if lab == highlight:
                bar.set_hatch("///")
        for bar, v in zip(bars, data[value]):
            ax.annotate(format_number(v, decimals), (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                        textcoords="offset points", xytext=(3, 0), va="center", fontsize=7.5, color=INK,
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"})
        for tick in ax.get_yticklabels():
            if tick.get_text() == highlight:
                tick.set_fontweight("bold")
        if reference is not None:
            # the reference line is named under the axis, where it can never cover a bar or the title
            ax.axvline(reference, color=INK, linestyle="--", linewidth=1, zorder=1)
            xlabel = f"{xlabel}      (- - -  {reference_label}: {format_number(reference, decimals)})"
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold", color=INK)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(_VI)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.15)
        fig.tight_layout()
    return Chart(fig, alt=title)


def _order(column: pd.Series) -> list:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [c for c in column.cat.categories if c in set(column.dropna())]
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


def status_grid(frame: pd.DataFrame, title: str, *, wrap: int = 38):
    """Platform × unit grid: ● in use, ◐ on trial, ○ not deployed (shapes, not colours).

    Platforms are the rows and units the columns, in the order of ordered categories when the
    columns `platform_label` and `unit_label` are categorical, else in order of appearance. An
    optional `group` column (the catalog) draws a rule between groups of platforms, an optional
    `unit_group` column (the unit's type) one between groups of units.
    """
    with plt.rc_context(STYLE):
        units = _order(frame["unit_label"])
        platforms = _order(frame["platform_label"])
        width = min(7.0, max(4.0, 2.6 + 0.16 * len(units)))
        fig, ax = _figure(width, max(2.0, 0.19 * len(platforms) + 1.5))
        ux = {u: i for i, u in enumerate(units)}
        py = {p: i for i, p in enumerate(platforms)}
        for u, p, status in zip(frame["unit_label"], frame["platform_label"], frame["status"]):
            ax.text(ux[u], py[p], GRID_SYMBOLS.get(status, "?"), ha="center", va="center", fontsize=8, color=INK)
        ax.set_xticks(range(len(units)), units, rotation=90, fontsize=7)
        ax.set_yticks(range(len(platforms)), [short_label(p, wrap) for p in platforms], fontsize=7)
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
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold", color=INK, pad=8)
        ax.set_xlabel(GRID_LEGEND, fontsize=7.5, color=INK, labelpad=6)
        fig.tight_layout()
    return Chart(fig, alt=f"{title}. {GRID_LEGEND}")
