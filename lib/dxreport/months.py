"""Reporting months as "YYYY-MM" strings: checking, stepping, ranges and their days.

One place for month arithmetic. Months stay plain strings (they are keys in the warehouse,
folder names and notebook parameters); these functions raise ValueError for anything that is
not a month, and callers that face users turn that into their own message.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def is_month(text: object) -> bool:
    """Whether `text` is a month written YYYY-MM."""
    return isinstance(text, str) and bool(_MONTH.match(text))


def parse(month: str) -> tuple[int, int]:
    """(year, month number) of a YYYY-MM month; ValueError otherwise."""
    if not is_month(month):
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    return int(month[:4]), int(month[5:7])


def shift(month: str, count: int) -> str:
    """The month `count` months after `month` (before it when negative)."""
    y, m = parse(month)
    index = y * 12 + (m - 1) + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def previous(month: str) -> str:
    """The month before `month`."""
    return shift(month, -1)


def following(month: str) -> str:
    """The month after `month`."""
    return shift(month, 1)


def span(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included (empty when `last` comes first)."""
    count = (parse(last)[0] - parse(first)[0]) * 12 + parse(last)[1] - parse(first)[1]
    return [shift(first, n) for n in range(count + 1)]


def first_day(month: str) -> date:
    """The first day of `month`."""
    y, m = parse(month)
    return date(y, m, 1)


def last_day(month: str) -> date:
    """The last day of `month`."""
    y, m = parse(month)
    return date(y, m, calendar.monthrange(y, m)[1])


def same_month_last_year(month: str) -> str:
    """The same month one year earlier."""
    return shift(month, -12)


def history_start(month: str) -> str:
    """The first month a report looks back to: January of the year before (the same month last
    year and both years to date)."""
    return f"{parse(month)[0] - 1:04d}-01"
