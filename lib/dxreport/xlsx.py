"""Excel workbooks written by dxreport (openpyxl): shared styles, formula neutralising, atomic saves.

Text from outside (a unit's submission, the scraped catalog, a platform name) must never run as a
formula in the reader's spreadsheet: text beginning with = + - @ (or a tab or carriage return)
is stored as plain text, either with a leading apostrophe (`neutralise`, for values and CSV
cells) or with Excel's quote prefix on the cell (`safe_text`, the text shown as written).
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

from dxreport.fileio import write_atomic

# Text that a spreadsheet would take for a formula (or that starts one when pasted).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Shared style objects (openpyxl copies a style when it is assigned to a cell).
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=13)
WRAP = Alignment(wrap_text=True, vertical="top")
HEAD_ALIGN = Alignment(wrap_text=True, horizontal="center", vertical="center")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
UNLOCKED = Protection(locked=False)


def fill(color: str) -> PatternFill:
    """A solid fill of this ARGB (or RGB) colour."""
    return PatternFill("solid", fgColor=color)


def neutralise(value: object) -> object:
    """Text written into a workbook or CSV, never read as a formula: a leading = + - @ gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_text(cell, value: str) -> None:
    """Put text in a cell so that Excel never reads it as a formula (quote prefix when needed)."""
    text = unicodedata.normalize("NFC", value) if isinstance(value, str) else value  # as written, only NFC
    cell.value = text
    cell.data_type = "s"
    if isinstance(text, str) and text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True


def save_atomic(wb: Workbook, path: Path | str) -> Path:
    """Save a workbook to `path` so that a reader never sees half of it (dxreport.fileio.write_atomic)."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return write_atomic(path, buffer.getvalue())
