"""Month arithmetic, worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from dxreport import months


def test_stepping_across_the_year():
    assert months.previous("2023-01") == "2022-12"
    assert months.following("2022-12") == "2023-01"
    assert months.shift("2024-03", -14) == "2023-01"
    assert months.same_month_last_year("2025-07") == "2024-07"


def test_a_span_includes_both_ends_and_is_empty_backwards():
    assert months.span("2022-11", "2023-02") == ["2022-11", "2022-12", "2023-01", "2023-02"]
    assert months.span("2022-05", "2022-05") == ["2022-05"]
    assert months.span("2023-02", "2022-11") == []


def test_days_of_a_month_with_leap_years():
    assert months.first_day("2024-02") == date(2024, 2, 1)
    assert months.last_day("2024-02") == date(2024, 2, 29)
    assert months.last_day("2023-02") == date(2023, 2, 28)
    assert months.last_day("2022-12") == date(2022, 12, 31)


@pytest.mark.parametrize("bad", ["2022-13", "2022-1", "22-01", "2022/01", "", None, 202201])
def test_anything_else_is_not_a_month(bad):
    assert not months.is_month(bad)
    with pytest.raises(ValueError):
        months.parse(bad)


def test_history_starts_in_january_of_the_year_before():
    assert months.history_start("2026-11") == "2025-01"
    assert months.history_start("2022-01") == "2021-01"
