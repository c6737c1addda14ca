"""Vietnamese text: NFC, diacritic folding for matching, number parsing and formatting."""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

_SPACES = re.compile(r"\s+")
# Characters that Unicode decomposition does not strip.
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def nfc(text: object) -> str:
    """Return `text` as an NFC string with whitespace collapsed and trimmed."""
    if text is None:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(text))).strip()


def fold(text: object) -> str:
    """Matching key: NFC, case-folded, diacritics removed (đ → d), whitespace collapsed."""
    s = nfc(text).translate(_FOLD_EXTRA).casefold()
    s = unicodedata.normalize("NFD", s)
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", s).translate(_FOLD_EXTRA)


class NumberFormatError(ValueError):
    """A cell that should hold a number does not."""


_VI_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


def parse_number(value: object) -> Decimal | None:
    """Parse a number written the Vietnamese way (`1.234.567`, `12,5`) or a real number.

    Returns None for an empty cell ("not reported", never zero). Spaces are ignored.
    A single dot followed by other than three digits (`12.5`) is ambiguous and refused.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise NumberFormatError(f"giá trị logic {value!r} không phải là số")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise NumberFormatError(f"{value!r} không phải là số hợp lệ")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(ch for ch in text if not ch.isspace())
    if text == "":
        return None
    if not _VI_NUMBER.match(text):
        raise NumberFormatError(f"“{nfc(value)}” không phải là số viết theo kiểu Việt Nam (ví dụ 1.234.567 hoặc 12,5)")
    try:
        return Decimal(text.replace(".", "").replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - regex guards this
        raise NumberFormatError(f"“{nfc(value)}” không phải là số") from exc


def parse_count(value: object) -> int | None:
    """A count field: a whole number ≥ 0, or None when empty."""
    number = parse_number(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise NumberFormatError(f"{format_number(float(number), 2)} không phải là số nguyên")
    if number < 0:
        raise NumberFormatError(f"{format_number(float(number))} là số âm")
    return int(number)


def parse_rate(value: object, *, percent_cell: bool = False) -> float | None:
    """A rate field in 0–100. A trailing `%` is allowed; an Excel percent cell 0.125 means 12.5."""
    if value is None:
        return None
    if isinstance(value, str):
        text = nfc(value)
        if text == "":
            return None
        if text.endswith("%"):
            text = text[:-1]
        number = parse_number(text)
        if number is None:
            raise NumberFormatError("chỉ có dấu % mà không có số")
        rate = float(number)
    else:
        number = parse_number(value)
        if number is None:
            return None
        rate = float(number) * (100 if percent_cell else 1)
    if not 0 <= rate <= 100:
        raise NumberFormatError(f"tỷ lệ {format_number(rate, 1)} nằm ngoài khoảng 0–100")
    return rate


def format_number(value: float | int | Decimal | None, decimals: int = 0) -> str:
    """Vietnamese number format: `1.234.567`, `12,5`. None and NaN become an en dash."""
    if value is None:
        return "–"
    if isinstance(value, numbers.Integral):
        exact = Decimal(int(value))
    elif isinstance(value, Decimal):
        exact = value
    else:
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return "–"
        # round half up on the decimal value as written (68,35 -> 68,4), not on its binary double
        exact = Decimal(repr(value))
    context = Context(prec=max(28, exact.adjusted() + decimals + 3))
    rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP, context=context)
    text = f"{abs(rounded):,.{decimals}f}"
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    if rounded < 0:
        text = "-" + text
    return text


def format_percent(value: float | None, decimals: int = 1) -> str:
    """A rate already in 0–100 as `12,5%`; whole values drop the decimals (`100%`)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if float(value) == round(float(value)):
        return format_number(value, 0) + "%"
    return format_number(value, decimals) + "%"


def format_month(month: str) -> str:
    """`2022-09` → `09/2022`."""
    year, mm = month.split("-")
    return f"{mm}/{year}"
