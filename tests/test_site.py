"""Tests for dxreport.site.write_index."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from dxreport.render import FONT_FAMILY
from dxreport.site import INDEX_TITLE, write_index


def _write(path: Path, text: str = "x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _manifest(month_dir: Path, data: dict) -> None:
    _write(month_dir / "manifest.json", json.dumps(data, ensure_ascii=False))


@pytest.fixture()
def outputs(tmp_path) -> Path:
    out = tmp_path / "outputs"

    # 2022-12: sample data, three units (one with a hostile name, one failed,
    # one skipped), the province's PDF is missing.
    dec = out / "2022-12"
    _manifest(
        dec,
        {
            "month": "2022-12",
            "created": "2026-11-28T08:00:00+07:00",
            "sample": True,
            "steps": [
                {"name": "01_scrape", "unit": None, "status": "ok", "seconds": 1.2,
                 "notebook": "notebooks/01_scrape.ipynb", "error": None},
                {"name": "03_report", "unit": "478", "status": "failed", "seconds": 3.4,
                 "notebook": "notebooks/03_report.ipynb", "error": "KeyError: <b>'x'</b>"},
            ],
            "units": {
                "tinh": {"name": "Tỉnh Thừa Thiên Huế", "status": "ok",
                         "html": "tinh/report.html", "pdf": "tinh/report.pdf",
                         "kpis": "tinh/kpis.csv"},
                "474": {"name": "Thành phố <script>alert('x')</script> Huế", "status": "ok",
                        "html": "474/report.html", "pdf": "474/report.pdf",
                        "kpis": "474/kpis.csv"},
                "478": {"name": "Huyện Phú Vang", "status": "failed",
                        "error": "Thiếu dữ liệu <img src=x onerror=alert(1)>"},
                "480": {"name": "Thị xã Hương Thủy", "status": "skipped",
                        "html": "480/report.html", "pdf": "../../secret.pdf"},
            },
            "validation": "validation.csv",
        },
    )
    _write(dec / "tinh" / "report.html")
    _write(dec / "tinh" / "kpis.csv")  # no tinh/report.pdf on disk
    _write(dec / "474" / "report.html")
    _write(dec / "474" / "report.pdf")
    _write(dec / "474" / "kpis.csv")
    _write(dec / "480" / "report.html")
    _write(dec / "validation.csv")
    _write(out.parent / "secret.pdf")

    # 2023-01: corrupt manifest.
    _write(out / "2023-01" / "manifest.json", '{"month": "2023-01", "units": {')

    # 2022-11: real data, decomposed (NFD) unit name, no validation file.
    nov = out / "2022-11"
    _manifest(
        nov,
        {
            "month": "2022-11",
            "created": "2026-11-27T07:30:00+07:00",
            "sample": False,
            "steps": [],
            "units": {"tinh": {"name": unicodedata.normalize("NFD", "Tỉnh Thừa Thiên Huế"),
                               "status": "ok", "html": "tinh/report.html"}},
            "validation": "validation.csv",
        },
    )
    _write(nov / "tinh" / "report.html")

    # Ignored: not a YYYY-MM folder, or not a folder.
    _manifest(out / "archive", {"month": "1999-01", "units": {}})
    _manifest(out / "2022-13", {"month": "2022-13", "units": {}})
    _write(out / "2021-05", "a file, not a folder")
    return out


@pytest.fixture()
def index_html(outputs) -> str:
    path = write_index(outputs)
    assert path == outputs / "index.html"
    return path.read_text(encoding="utf-8")


def _section(page: str, month: str) -> str:
    match = re.search(rf'<section class="month" id="thang-{month}">(.*?)</section>', page, re.S)
    assert match, f"no section for {month}"
    return match.group(1)


def _row(section: str, name_fragment: str) -> str:
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        if name_fragment in row:
            return row
    raise AssertionError(f"no row containing {name_fragment!r}")


def test_page_is_vietnamese_standalone_html(index_html):
    assert index_html.startswith("<!DOCTYPE html>")
    assert '<html lang="vi">' in index_html
    assert '<meta charset="utf-8">' in index_html
    assert f"<title>{INDEX_TITLE}</title>" in index_html
    assert INDEX_TITLE == "Báo cáo mức độ sử dụng nền tảng số – danh mục báo cáo"
    assert "<style>" in index_html and "<link" not in index_html and "<script" not in index_html
    families = {f.strip() for f in re.findall(r"font-family:\s*([^;!}]+)", index_html)}
    assert families == {f'"{FONT_FAMILY}"'}
    assert unicodedata.is_normalized("NFC", index_html)


def test_months_newest_first_and_only_month_folders(index_html):
    labels = re.findall(r"<h2>(Tháng \d{2}/\d{4})", index_html)
    assert labels == ["Tháng 01/2023", "Tháng 12/2022", "Tháng 11/2022"]
    assert "1999" not in index_html
    assert "2022-13" not in index_html and "13/2022" not in index_html
    assert "05/2021" not in index_html


def test_corrupt_manifest_is_listed_with_its_path(index_html):
    section = _section(index_html, "2023-01")
    assert "<code>2023-01/manifest.json</code>" in section
    assert "JSON không hợp lệ" in section
    assert "<table" not in section


def test_unit_links_only_for_existing_files(index_html):
    section = _section(index_html, "2022-12")
    tinh = _row(section, "Tỉnh Thừa Thiên Huế")
    assert '<a href="2022-12/tinh/report.html">HTML</a>' in tinh
    assert '<a href="2022-12/tinh/kpis.csv">KPI (CSV)</a>' in tinh
    assert ">PDF</a>" not in tinh  # tinh/report.pdf does not exist

    city = _row(section, "Thành phố")
    for href, text in (("474/report.html", "HTML"), ("474/report.pdf", "PDF"),
                       ("474/kpis.csv", "KPI (CSV)")):
        assert f'<a href="2022-12/{href}">{text}</a>' in city

    failed = _row(section, "Huyện Phú Vang")
    assert "<a " not in failed

    skipped = _row(section, "Thị xã Hương Thủy")
    assert '<a href="2022-12/480/report.html">HTML</a>' in skipped
    assert "secret.pdf" not in index_html  # paths leaving the month folder are never linked


def test_statuses_in_vietnamese(index_html):
    section = _section(index_html, "2022-12")
    assert ">Hoàn thành</td>" in _row(section, "Tỉnh Thừa Thiên Huế")
    assert ">Lỗi</td>" in _row(section, "Huyện Phú Vang")
    assert ">Bỏ qua (không thay đổi)</td>" in _row(section, "Thị xã Hương Thủy")
    assert "Số đơn vị hoàn thành: 2/4." in section
    assert "Các bước xử lý: 1/2 hoàn thành." in section


def test_manifest_text_is_escaped(index_html):
    assert "<script>" not in index_html
    assert "Thành phố &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Huế" in index_html
    assert "<img" not in index_html
    assert "Thiếu dữ liệu &lt;img src=x onerror=alert(1)&gt;" in index_html
    assert "<b>" not in index_html
    assert "KeyError: &lt;b&gt;&#x27;x&#x27;&lt;/b&gt;" in index_html


def test_sample_mark_created_time_and_validation_link(index_html):
    dec = _section(index_html, "2022-12")
    nov = _section(index_html, "2022-11")
    assert "DỮ LIỆU MẪU" in dec
    assert "DỮ LIỆU MẪU" not in nov
    assert "Tạo lúc 08:00 ngày 28/11/2026." in dec
    assert '<a href="2022-12/validation.csv">' in dec
    assert "validation.csv" not in nov  # declared, but the file does not exist


def test_decomposed_names_are_normalised(index_html):
    nov = _section(index_html, "2022-11")
    assert "Tỉnh Thừa Thiên Huế" in nov


def test_empty_or_missing_outputs_dir(tmp_path):
    page = write_index(tmp_path / "new-outputs").read_text(encoding="utf-8")
    assert "Chưa có báo cáo nào." in page


def test_month_without_manifest_and_odd_manifest_shapes(tmp_path):
    out = tmp_path / "outputs"
    (out / "2023-03").mkdir(parents=True)
    _write(out / "2023-02" / "manifest.json", "[1, 2, 3]")
    _write(out / "2023-04" / "manifest.json", json.dumps({"units": {"x": "not a dict"}}))
    (out / "2023-05").mkdir()
    (out / "2023-05" / "manifest.json").write_bytes(b"\xff\xfe\x00garbage")
    page = write_index(out).read_text(encoding="utf-8")
    assert "chưa có tệp manifest.json" in _section(page, "2023-03")
    assert "không phải một đối tượng JSON" in _section(page, "2023-02")
    assert "Dữ liệu đơn vị trong manifest không hợp lệ" in _section(page, "2023-04")
    assert "không phải văn bản UTF-8" in _section(page, "2023-05")


def test_rewrites_index_in_place(outputs):
    first = write_index(outputs).read_text(encoding="utf-8")
    _write(outputs / "2022-12" / "tinh" / "report.pdf")
    second = write_index(outputs).read_text(encoding="utf-8")
    assert first != second
    assert '<a href="2022-12/tinh/report.pdf">PDF</a>' in second
    assert [p.name for p in outputs.iterdir() if p.name.startswith(".")] == []
