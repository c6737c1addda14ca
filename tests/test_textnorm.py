import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from dxreport.textnorm import (
    NumberFormatError,
    fold,
    format_month,
    format_number,
    format_percent,
    nfc,
    parse_count,
    parse_number,
    parse_rate,
)


def test_fold_makes_the_spec_examples_equal():
    nfd = unicodedata.normalize("NFD", "Thông tin")
    assert nfd != "Thông tin"
    assert fold("Thông tin") == fold("THONG TIN") == fold("thong  tin") == fold(nfd) == "thong tin"


def test_fold_maps_d_with_stroke():
    assert fold("Đông Ba") == "dong ba"
    assert fold("Sổ SKĐT") == "so skdt"


def test_nfc_collapses_whitespace_and_normalises():
    assert nfc("  Phú \t Vang\n") == "Phú Vang"
    assert nfc(unicodedata.normalize("NFD", "Lộc")) == "Lộc"
    assert nfc(None) == ""


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.234.567", Decimal(1234567)),
        ("12,5", Decimal("12.5")),
        ("1 234", Decimal(1234)),
        ("0", Decimal(0)),
        ("1.234,75", Decimal("1234.75")),
        (42, Decimal(42)),
        (3.5, Decimal("3.5")),
    ],
)
def test_parse_number_vietnamese_forms(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["12.5", "1,234,567", "abc", "khoảng 50", "1.23.4", "--1"])
def test_parse_number_refuses_ambiguous_or_garbage(text):
    with pytest.raises(NumberFormatError):
        parse_number(text)


def test_empty_means_not_reported():
    assert parse_number(None) is None
    assert parse_number("   ") is None
    assert parse_count("") is None
    assert parse_rate("") is None


def test_parse_count_rules():
    assert parse_count("1.234") == 1234
    with pytest.raises(NumberFormatError):
        parse_count("12,5")
    with pytest.raises(NumberFormatError):
        parse_count(-3)


def test_parse_rate_rules():
    assert parse_rate("12,5%") == 12.5
    assert parse_rate("80") == 80.0
    assert parse_rate(0.125, percent_cell=True) == 12.5
    assert parse_rate(97.5) == 97.5
    with pytest.raises(NumberFormatError):
        parse_rate("120%")


def test_format_number_and_percent():
    assert format_number(1234567) == "1.234.567"
    assert format_number(12.5, 1) == "12,5"
    assert format_number(-1234) == "-1.234"
    assert format_number(None) == "–"
    assert format_percent(12.5) == "12,5%"
    assert format_percent(100.0) == "100%"
    assert format_percent(97.46) == "97,5%"
    assert format_month("2022-09") == "09/2022"


@given(st.integers(min_value=0, max_value=10**12))
def test_dotted_thousands_round_trip(n):
    assert parse_count(format_number(n)) == n


@given(st.text(max_size=20))
def test_junk_raises_only_number_format_error(text):
    try:
        parse_number(text)
    except NumberFormatError:
        pass


def test_rounding_is_half_up_on_the_written_value():
    assert format_number(68.35, 1) == "68,4"
    assert format_number(0.5) == "1"
    assert format_number(2.5) == "3"
    assert format_percent(97.45) == "97,5%"
