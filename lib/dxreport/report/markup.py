"""Small HTML and number helpers shared by the report's sections: escaping, paragraphs, notes,
tables, figures in Vietnamese format."""

from __future__ import annotations

import html
import math

import pandas as pd

from dxreport.textnorm import format_number, format_percent


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _p(*sentences: str, cls: str = "") -> str:
    text = " ".join(s for s in sentences if s)
    if not text:
        return ""
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{_e(text)}</p>"


def _note(text: str) -> str:
    return f'<p class="dx-note">{_e(text)}</p>' if text else ""


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _fmt(value: object, kind: str) -> str:
    if _missing(value):
        return "–"
    return format_percent(value) if kind == "rate" else format_number(value, 0 if kind == "count" else 1)


def _fmt_change(row: pd.Series, column: str = "change") -> str:
    change = row.get(column)
    if _missing(change):
        return "–"
    sign = "+" if change > 0 else ""
    if row["kind"] == "rate":
        return f"{sign}{format_number(change, 1)} điểm %"
    return sign + format_number(change, 0 if row["kind"] == "count" else 1)


def _fmt_ytd(row: pd.Series, month: str) -> str:
    ytd = row.get("ytd")
    if _missing(ytd):
        return "–"
    text = _fmt(ytd, row["kind"])
    months = row.get("ytd_months")
    if not _missing(months) and int(months) < int(month[5:7]):
        text += f" ({int(months)}/{int(month[5:7])} th)"
    return text


def _num(value: object) -> str:
    return f'<td class="num">{_e(value)}</td>'


def _table(head: str, body: list[str], cls: str = "dx-table") -> str:
    return f'<table class="{cls}"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]
