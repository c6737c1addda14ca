"""Shared fixtures: small hand-written submission workbooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from dxreport import forms

#: The headers of the `Nền tảng` sheet, as units write them.
PLATFORM_HEADERS = [
    "Mã nền tảng",
    "Tên nền tảng",
    "Tình trạng",
    "Tài khoản lũy kế",
    "Người dùng hoạt động trong tháng",
    "Lượt sử dụng trong tháng",
    "Kết nối chia sẻ dữ liệu",
    "Đề xuất",
    "Ghi chú",
]


def write_form(
    path: Path, info: dict[str, object], sheets: dict[str, list[list[object]]] | None = None, title_rows: int = 0
) -> Path:
    """Write a submission workbook: `Thông tin` from `info` (label -> value), then each table
    sheet as given (first row the headers), optionally below `title_rows` title rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = forms.THONG_TIN.name
    for label, value in info.items():
        ws.append([label, value])
    for name, rows in (sheets or {}).items():
        sheet = wb.create_sheet(name)
        for i in range(title_rows):
            sheet.append([f"BIỂU {name.upper()}"] if i == 0 else [])
        for row in rows:
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def info(unit: str, month: str, prepared: dt.date) -> dict[str, object]:
    """A valid `Thông tin` sheet."""
    return {
        "Mã đơn vị": unit,
        "Kỳ báo cáo": f"{month[5:]}/{month[:4]}",
        "Người lập": "Nguyễn Văn An",
        "Ngày lập": prepared,
    }


@pytest.fixture
def form_writer():
    return write_form


@pytest.fixture(scope="session", autouse=True)
def busy_machine():
    """With DXREPORT_TEST_BUSY=1 (make test-busy), every core is kept busy for the whole session."""
    import os

    if os.environ.get("DXREPORT_TEST_BUSY") != "1":
        yield None
        return
    from busy import saturated

    with saturated(limit=3600) as loops:
        yield loops


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder on a real read-only file system (a read-only bind mount); skipped where mounting is not allowed."""
    import subprocess

    source, target = tmp_path / "src", tmp_path / "ro"
    source.mkdir()
    target.mkdir()
    done = subprocess.run(["mount", "-o", "bind,ro", str(source), str(target)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("mount is not allowed here: " + done.stderr.decode(errors="replace"))
    yield target
    subprocess.run(["umount", str(target)], check=False)
