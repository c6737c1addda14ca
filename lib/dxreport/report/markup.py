"""Small HTML and number helpers shared by the report's sections: paragraphs, notes and tables
rendered from the templates of lib/dxreport/templates/report/ (which escape every text), their
cells, figures in Vietnamese format."""

from __future__ import annotations

import math

import pandas as pd

from dxreport.narrative import basis_of
from dxreport.pages import render_fragment
from dxreport.textnorm import format_number, format_percent


def _p(*sentences: str, cls: str = "") -> str:
    """The sentences given (empty ones left out) as one escaped paragraph; '' when none."""
    return render_fragment("paragraph.html.j2", text=" ".join(s for s in sentences if s), cls=cls)


def _note(text: str) -> str:
    """A small note under a table (escaped); '' for no text."""
    return render_fragment("note.html.j2", text=text)


def _list(items: list[str], *, ordered: bool = False) -> str:
    """The items as a list (numbered when `ordered`), each escaped."""
    return render_fragment("list.html.j2", items=items, ordered=ordered)


def _heading(text: str) -> str:
    """A heading inside a section (h3), escaped."""
    return render_fragment("heading.html.j2", text=text)


def cell(text: object, *, num: bool = False, colspan: int | None = None) -> dict[str, object]:
    """A cell of a table row: its text (escaped by the template), right-aligned when `num`."""
    return {"text": text, "num": num, "rowspan": None, "colspan": colspan}


def num(text: object) -> dict[str, object]:
    """A right-aligned cell of a figure."""
    return cell(text, num=True)


def th(text: object, *, rowspan: int | None = None, colspan: int | None = None) -> dict[str, object]:
    """A header cell."""
    return {"text": text, "rowspan": rowspan, "colspan": colspan}


def row(cells: list[dict[str, object]], cls: str = "") -> dict[str, object]:
    """A body row of these cells, with a class (dx-total, dx-current, dx-group) or none."""
    return {"cells": cells, "cls": cls}


def table(head: list[list[str | dict[str, object]]], body: list[dict[str, object]], cls: str = "dx-table") -> str:
    """A table of these header rows (their cells: th or plain texts) and body rows (row)."""
    head = [[th(c) if isinstance(c, str) else c for c in r] for r in head]
    return render_fragment("table.html.j2", cls=cls, head=head, body=body)


def _missing(value: object) -> bool:
    """None, NaN or pd.NA: no figure."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _fmt(value: object, kind: str) -> str:
    """A figure of this kind (count, rate, …) in Vietnamese format; – when missing."""
    if _missing(value):
        return "–"
    return format_percent(value) if kind == "rate" else format_number(value, 0 if kind == "count" else 1)


def _fmt_change(row: pd.Series, column: str = "change") -> str:
    """The signed change of an indicator's row (points of % for a rate); – when missing."""
    change = row.get(column)
    if _missing(change):
        return "–"
    sign = "+" if change > 0 else ""
    if row["kind"] == "rate":
        return f"{sign}{format_number(change, 1)} điểm %"
    return sign + format_number(change, 0 if row["kind"] == "count" else 1)


def _fmt_ytd(row: pd.Series, month: str) -> str:
    """The year to date of an indicator's row, with (n/m th) when months are missing."""
    ytd = row.get("ytd")
    if _missing(ytd):
        return "–"
    text = _fmt(ytd, row["kind"])
    months = row.get("ytd_months")
    if not _missing(months) and int(months) < int(month[5:7]):
        text += f" ({int(months)}/{int(month[5:7])} th)"
    return text


def _lower_first(text: str) -> str:
    """The text with its first letter in lower case."""
    return text[:1].lower() + text[1:]


def _upper(text: str) -> str:
    """The text with its first letter in upper case."""
    return text[:1].upper() + text[1:]


def _compared(row: pd.Series, text: str, column: str) -> str:
    """A figure of the month before (`previous_basis`) or of last year (`last_year_basis`) as the
    table shows it: `không so sánh được` for a comparison that is not possible across a change of
    the map, `(quy đổi)` after a rebuilt one, `*` when a crosswalk row is uncertain; the note
    under the table (tables._basis_notes) says them in full."""
    basis, uncertain = basis_of(row, column)
    if basis == "not_comparable":
        return NOT_COMPARABLE_SHORT
    if basis != "rebuilt" or text == "–":
        return text
    return f"{text} ({REBUILT_SHORT}){' *' if uncertain else ''}"


#: How a table cell says a comparison across a change of the map (in full under the table).
NOT_COMPARABLE_SHORT = "không so sánh được"
REBUILT_SHORT = "quy đổi"
