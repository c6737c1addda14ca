"""The two readers of a workbook's cells, behind one interface.

python-calamine reads the values, with openpyxl's style parser for number formats; openpyxl
alone streams any sheet. Both give workbooks whose `worksheets` have a `title` and
`iter_rows(min_row, max_col)` of cells with `value` and `number_format`, and whose
`properties.keywords` hold the document keywords. A sheet calamine could not hold safely
sends the whole file to openpyxl.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile

import openpyxl
from openpyxl.utils import get_column_letter

try:
    import python_calamine
except ImportError:  # pragma: no cover - the openpyxl reader is always there
    python_calamine = None

from dxreport.intake.container import (
    _XML_CELL,
    _XML_DTD,
    _XML_VALUE,
    _defused,
    _has_formula,
    _uncached_formulas,
    _uncached_in,
    _xml_bomb,
)
from dxreport.intake.records import _file_label, _Reject

# Columns read on each sheet; the form has at most nine.
MAX_COLUMNS = 60
# Physical rows (blank ones included) read per sheet, as a multiple of max_rows_per_sheet.
RAW_ROWS_FACTOR = 20

# Readers of the cells (see read_submission); calamine is faster, openpyxl streams any sheet.
READERS = ("calamine", "openpyxl")
DEFAULT_READER = "calamine"

# --------------------------------------------------------------------------- the calamine reader

# Cells of one sheet that calamine may hold in memory: it allocates the whole rectangle from the
# first to the last cell, so two cells at A1 and XFD1048576 would ask for 17 billion cells and
# abort the process. Sheets are measured from their XML first; anything unusual is read by
# openpyxl, which streams.
CALAMINE_MAX_CELLS = 1_000_000
# An XML part larger than this (a form sheet is under 100 kB) is left to openpyxl unread.
CALAMINE_MAX_PART_BYTES = 8 * 1024 * 1024
_XML_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]+)"')
_XML_REF_PARTS = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_XML_STYLE = re.compile(rb'\bs="([0-9]+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


class _Cell:
    """A cell read by calamine: its value, and (numbers only) where to find its number format."""

    __slots__ = ("value", "_sheet", "_ref")

    def __init__(self, value: object, sheet: "_CalamineSheet | None" = None, ref: bytes = b""):
        self.value, self._sheet, self._ref = value, sheet, ref

    @property
    def number_format(self) -> str:
        return "General" if self._sheet is None else self._sheet.number_format(self._ref)


_EMPTY_CELL = _Cell(None)


class _CalamineSheet:
    """One worksheet read whole by calamine, with the same interface as openpyxl's read-only one."""

    def __init__(self, book: "_CalamineBook", title: str, path: str, xml: bytes):
        self.book, self.title, self._worksheet_path, self._xml = book, title, path, xml
        self.rows: list[tuple[_Cell, ...]] = []
        self.uncached: list[str] = []

    def reset_dimensions(self) -> None:
        pass

    def iter_rows(self, min_row: int = 1, max_col: int = MAX_COLUMNS):
        for row in self.rows[min_row - 1 :]:
            yield row[:max_col]

    def number_format(self, ref: bytes) -> str:
        """The number format of the cell at `ref` (b"F4"), from its style index in the sheet XML."""
        tag = re.search(rb'<(?:\w+:)?c\s[^>]*?\br="' + ref + rb'"[^>]*>', self._xml)
        style = _XML_STYLE.search(tag.group(0)) if tag else None
        return "General" if style is None else self.book.number_format(int(style.group(1)))


class _CalamineBook:
    """The workbook for the calamine reader: sheets, document keywords, number formats."""

    def __init__(self, archive: zipfile.ZipFile, keywords: str):
        self._archive = archive
        self.worksheets: list[_CalamineSheet] = []
        self.properties = type("Properties", (), {"keywords": keywords})()
        self._formats: list[str] | None = None

    def number_format(self, style: int) -> str:
        """The number format of a cell style index, resolved as openpyxl resolves it."""
        if self._formats is None:
            from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
            from openpyxl.styles.stylesheet import Stylesheet
            from openpyxl.xml.functions import fromstring

            formats: list[str] = []
            try:
                sheet = Stylesheet.from_tree(fromstring(self._archive.read("xl/styles.xml")))
                for array in sheet.cell_styles:
                    fid = array.numFmtId
                    formats.append(
                        BUILTIN_FORMATS.get(fid, "General")
                        if fid < BUILTIN_FORMATS_MAX_SIZE
                        else sheet.number_formats[fid - BUILTIN_FORMATS_MAX_SIZE]
                    )
            except KeyError:
                pass
            self._formats = formats
        return self._formats[style] if 0 <= style < len(self._formats) else "General"

    def close(self) -> None:
        self._archive.close()


_XML_C_TAG = re.compile(rb"<(?:\w+:)?c[\s/>]")
_XML_C_REF = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_XML_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s([^>]*?\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>', re.S)


def _calamine_book(data: bytes, max_rows: int) -> _CalamineBook | None:
    """The workbook read by calamine, or None when openpyxl must read it.

    None when python-calamine is missing, when a sheet's cells are not all addressed within
    the bounds (see CALAMINE_MAX_CELLS), or when anything at all goes wrong: openpyxl then
    reads the file and gives the usual message for a broken one.
    """
    if python_calamine is None:
        return None
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.reader.workbook import WorkbookParser
    from openpyxl.xml.functions import fromstring

    row_limit = max_rows * RAW_ROWS_FACTOR
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "xl/workbook.xml" not in names or any(info.file_size > CALAMINE_MAX_PART_BYTES for info in infos):
            return None
        parts = {name: archive.read(name) for name in names if name.lower().endswith((".xml", ".rels"))}
        if any(_XML_DTD.search(xml) for xml in parts.values()):
            return None  # calamine would ignore it; openpyxl's defusedxml decides, as for every file
        parser = WorkbookParser(archive, "xl/workbook.xml", keep_links=False)
        parser.parse()
        keywords = ""
        if "docProps/core.xml" in names:
            keywords = DocumentProperties.from_tree(fromstring(parts["docProps/core.xml"])).keywords or ""
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        result = _CalamineBook(archive, keywords)
        for sheet, rel in parser.find_sheets():
            if rel.Type.endswith("/chartsheet"):
                continue
            if not rel.Type.endswith("/worksheet") or rel.target not in parts:
                return None
            xml = parts[rel.target]
            refs = _XML_C_REF.findall(xml)
            if len(refs) != len(_XML_C_TAG.findall(xml)):
                return None  # a cell placed by counting: let openpyxl read it
            ws = _CalamineSheet(result, sheet.name, rel.target, xml)
            result.worksheets.append(ws)
            if not refs:
                continue
            rows = [int(r) for _, r in refs]
            cols = {c for c, _ in refs}
            low_col, high_col = min(map(_column_number, cols)), max(map(_column_number, cols))
            if max(max(rows), *map(int, _XML_ROW_NUMBER.findall(xml) or [0])) > row_limit:
                return None
            if (max(rows) - min(rows) + 1) * (high_col - low_col + 1) > CALAMINE_MAX_CELLS:
                return None
            grid = book.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
            errors: dict[tuple[int, int], str] = {}
            if b't="e"' in xml:
                for m in _XML_ERROR_CELL.finditer(xml):
                    ref = _XML_REF_PARTS.search(m.group(1))
                    value = _XML_VALUE.search(m.group(2))
                    if ref and value:
                        where = (int(ref.group(2)), _column_number(ref.group(1)))
                        errors[where] = value.group(1).decode("utf-8", "replace")
            height = max(len(grid), max((r for r, _ in errors), default=0))
            for i in range(height):
                values = grid[i] if i < len(grid) else []
                row = [
                    _EMPTY_CELL
                    if type(v) is str and v == ""
                    else _Cell(v, ws, f"{get_column_letter(j + 1)}{i + 1}".encode())
                    if type(v) in (float, int)
                    else _Cell(v)
                    for j, v in enumerate(values[:MAX_COLUMNS])
                ]
                for (r, c), text in errors.items():
                    if r == i + 1 and c <= MAX_COLUMNS:
                        row.extend([_EMPTY_CELL] * (c - len(row)))
                        row[c - 1] = _Cell(text)
                ws.rows.append(tuple(row))
            ws.uncached = _uncached_in(_XML_CELL.finditer(xml)) if _has_formula(xml) else []
        return result
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - calamine panics are BaseException; openpyxl decides instead
        return None


# --------------------------------------------------------------------------- the openpyxl reader


def _openpyxl_book(data: bytes, file_name: str):
    """The workbook opened by openpyxl (read-only, values only); a file it cannot open is rejected."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:
        if _defused(exc):
            raise _xml_bomb(file_name) from exc
        raise _Reject(
            "file.not_workbook",
            f"{_file_label(file_name)} không mở được như bảng tính .xlsx "
            f"({type(exc).__name__}); đề nghị mở bằng Excel, lưu lại dạng .xlsx "
            "và gửi lại.",
        ) from exc


def _uncached_cells(ws, data: bytes) -> list[str]:
    """Cells of a worksheet, from either reader, that hold a formula without a stored value."""
    return ws.uncached if isinstance(ws, _CalamineSheet) else _uncached_formulas(data, ws._worksheet_path)


# --------------------------------------------------------------------------- rows of a sheet, either reader


def _iter_rows(ws, max_rows: int):
    """(row number, cells) for every physical row, bounded; blank padding rows included."""
    ws.reset_dimensions()
    limit = max_rows * RAW_ROWS_FACTOR
    for number, row in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS), start=1):
        if number > limit:
            raise OverflowError(number)
        yield number, row
