"""Matplotlib figures in one house style: readable in grey print, labelled in Vietnamese."""

from __future__ import annotations

import io

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
    """A figure that a notebook shows as a PNG (`display(chart)`, or a cell's last value)."""

    def __init__(self, figure: Figure):
        self.figure = figure

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
        return self.png(), {"width": int(self.figure.get_figwidth() * 96)}


def _figure(width: float = 7.0, height: float = 3.2):
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
    return Chart(fig)


def compare(frame: pd.DataFrame, title: str, xlabel: str, *, label: str = "label", value: str = "value",
            highlight: str | None = None, reference: float | None = None, reference_label: str = "",
            decimals: int = 0):
    """Horizontal bars, units compared, largest on top; the highlighted unit hatched and dark."""
    with plt.rc_context(STYLE):
        data = frame.dropna(subset=[value]).sort_values(value)
        fig, ax = _figure(7.0, max(2.2, 0.32 * len(data) + 0.9))
        colors = [INK if lab == highlight else LIGHT for lab in data[label]]
        bars = ax.barh(data[label], data[value], color=colors, edgecolor=INK, linewidth=0.6)
        for bar, lab in zip(bars, data[label]):
            if lab == highlight:
                bar.set_hatch("///")
        for bar, v in zip(bars, data[value]):
            ax.annotate(format_number(v, decimals), (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                        textcoords="offset points", xytext=(3, 0), va="center", fontsize=7.5, color=INK)
        if reference is not None:
            ax.axvline(reference, color=INK, linestyle="--", linewidth=1)
            ax.annotate(reference_label, (reference, len(data) - 0.4), textcoords="offset points", xytext=(4, 4),
                        fontsize=7.5, color=INK)
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold", color=INK)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(_VI)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.15)
        fig.tight_layout()
    return Chart(fig)


def status_grid(frame: pd.DataFrame, title: str):
    """Unit × platform grid: ● in use, ◐ on trial, ○ not deployed (shapes, not colours)."""
    symbols = {"dang_su_dung": "●", "dang_thu_nghiem": "◐", "chua_trien_khai": "○"}
    with plt.rc_context(STYLE):
        units = list(dict.fromkeys(frame["unit_label"]))
        platforms = list(dict.fromkeys(frame["platform_label"]))
        fig, ax = _figure(7.0, max(2.0, 0.3 * len(units) + 1.6))
        for _, r in frame.iterrows():
            ax.text(platforms.index(r["platform_label"]), units.index(r["unit_label"]),
                    symbols.get(r["status"], "?"), ha="center", va="center", fontsize=10, color=INK)
        ax.set_xticks(range(len(platforms)), platforms, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(units)), units, fontsize=7.5)
        ax.set_xlim(-0.5, len(platforms) - 0.5)
        ax.set_ylim(len(units) - 0.5, -0.5)
        ax.set_title(title + "   (● đang sử dụng  ◐ thử nghiệm  ○ chưa triển khai)", loc="left",
                     fontsize=9, fontweight="bold", color=INK)
        fig.tight_layout()
    return Chart(fig)
