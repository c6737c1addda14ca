"""Shared workbook helpers: formula neutralising and atomic saves."""

import openpyxl
import pytest

from dxreport import xlsx


@pytest.mark.parametrize("text", ["+1", "-2+3", "@SUM(A1)", "=1+1", "\t=1", "\r=1"])
def test_neutralise_quotes_every_formula_prefix(text):
    assert xlsx.neutralise(text) == "'" + text


def test_neutralise_leaves_other_values_alone():
    assert xlsx.neutralise("Huyện Phú Vang") == "Huyện Phú Vang"
    assert xlsx.neutralise(12) == 12 and xlsx.neutralise(None) is None


def test_save_atomic_writes_a_workbook_and_leaves_no_temporary_file(tmp_path):
    wb = openpyxl.Workbook()
    xlsx.safe_text(wb.active["A1"], "=1+1")
    path = xlsx.save_atomic(wb, tmp_path / "sub" / "book.xlsx")
    assert path == tmp_path / "sub" / "book.xlsx"
    cell = openpyxl.load_workbook(path).active["A1"]
    assert cell.value == "=1+1" and cell.data_type == "s" and cell.quotePrefix
    assert [p.name for p in path.parent.iterdir()] == ["book.xlsx"]
