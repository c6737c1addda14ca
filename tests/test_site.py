"""Tests for dxreport.site.write_index."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from dxreport.render import FONT_FAMILY
from dxreport.site import INDEX_TITLE, OutputsFolderError, write_index


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
                {
                    "name": "01_scrape",
                    "unit": None,
                    "status": "ok",
                    "seconds": 1.2,
                    "notebook": "notebooks/01_scrape.ipynb",
                    "error": None,
                },
                {
                    "name": "03_report",
                    "unit": "478",
                    "status": "failed",
                    "seconds": 3.4,
                    "notebook": "notebooks/03_report.ipynb",
                    "error": "KeyError: <b>'x'</b>",
                },
            ],
            "units": {
                "tinh": {
                    "name": "Tỉnh Thừa Thiên Huế",
                    "status": "ok",
                    "html": "tinh/report.html",
                    "pdf": "tinh/report.pdf",
                    "kpis": "tinh/kpis.csv",
                },
                "474": {
                    "name": "Thành phố <script>alert('x')</script> Huế",
                    "status": "ok",
                    "html": "474/report.html",
                    "pdf": "474/report.pdf",
                    "kpis": "474/kpis.csv",
                },
                "478": {
                    "name": "Huyện Phú Vang",
                    "status": "failed",
                    "error": "Thiếu dữ liệu <img src=x onerror=alert(1)>",
                },
                "480": {
                    "name": "Thị xã Hương Thủy",
                    "status": "skipped",
                    "html": "480/report.html",
                    "pdf": "../../secret.pdf",
                },
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
            "units": {
                "tinh": {
                    "name": unicodedata.normalize("NFD", "Tỉnh Thừa Thiên Huế"),
                    "status": "ok",
                    "html": "tinh/report.html",
                }
            },
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
    for href, text in (("474/report.html", "HTML"), ("474/report.pdf", "PDF"), ("474/kpis.csv", "KPI (CSV)")):
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
    assert '>Hoàn thành <span class="unchanged">(không đổi)</span></td>' in _row(section, "Thị xã Hương Thủy")
    assert "không đổi" not in _row(section, "Tỉnh Thừa Thiên Huế")
    # ok, ok, failed, skipped: the skipped report is done, not missing
    assert "Báo cáo đã lập: 3/4 (1 không đổi so với lần chạy trước; 1 bị lỗi)." in section
    assert "Các bước xử lý: 1/2 hoàn thành." in section


def test_manifest_text_is_escaped(index_html):
    assert "<script>" not in index_html
    assert "Thành phố &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Huế" in index_html
    assert "<img" not in index_html
    assert "Thiếu dữ liệu &lt;img src=x onerror=alert(1)&gt;" in index_html
    assert "<b>" not in index_html
    assert "KeyError: &lt;b&gt;&#39;x&#39;&lt;/b&gt;" in index_html


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


def test_empty_outputs_dir(tmp_path):
    (tmp_path / "outputs").mkdir()
    page = write_index(tmp_path / "outputs").read_text(encoding="utf-8")
    assert "Chưa có báo cáo nào." in page


def test_missing_outputs_dir_is_refused_and_not_created(tmp_path):
    missing = tmp_path / "khong-co" / "outputs"
    with pytest.raises(OutputsFolderError) as info:
        write_index(missing)
    assert str(missing) in str(info.value)
    assert "không có thư mục kết quả" in str(info.value)
    assert not (tmp_path / "khong-co").exists()


def test_outputs_that_is_a_file_is_refused(tmp_path):
    _write(tmp_path / "outputs", "a file")
    with pytest.raises(OutputsFolderError) as info:
        write_index(tmp_path / "outputs")
    assert str(tmp_path / "outputs") in str(info.value)
    assert (tmp_path / "outputs").read_text(encoding="utf-8") == "a file"


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


# --------------------------------------------------------------------------- a whole month


def _thirty_units(statuses: dict[str, str]) -> dict:
    """The province and 30 units u01..u30, all "ok" unless `statuses` says otherwise."""
    codes = ["tinh"] + [f"u{i:02d}" for i in range(1, 31)]
    units = {}
    for code in codes:
        status = statuses.get(code, "ok")
        entry = {"name": f"Đơn vị {code}", "status": status}
        if status != "failed":
            entry.update({"html": f"{code}/report.html", "pdf": f"{code}/report.pdf", "kpis": f"{code}/kpis.csv"})
        else:
            entry["error"] = "ValueError: thiếu số liệu"
        units[code] = entry
    return units


def test_a_rerun_with_nothing_changed_counts_every_report_as_done(tmp_path):
    out = tmp_path / "outputs"
    units = _thirty_units({c: "skipped" for c in ["tinh"] + [f"u{i:02d}" for i in range(1, 31)]})
    _manifest(
        out / "2022-12",
        {
            "month": "2022-12",
            "sample": True,
            "units": units,
            "failed": [],
            "steps": [{"name": s, "unit": None, "status": "skipped"} for s in ("01_scrape", "02_clean", "03_analyse")]
            + [{"name": "04_report", "unit": c, "status": "skipped"} for c in units],
        },
    )
    section = _section(write_index(out).read_text(encoding="utf-8"), "2022-12")
    assert "Báo cáo đã lập: 31/31 (31 không đổi so với lần chạy trước)." in section
    assert "Các bước xử lý: 34/34 hoàn thành." in section
    assert section.count("(không đổi)</span>") == 31
    assert "Lỗi" not in section


def test_done_counts_ok_and_unchanged_but_not_failed(tmp_path):
    out = tmp_path / "outputs"
    statuses = {"u01": "skipped", "u02": "skipped", "u03": "skipped", "u29": "failed", "u30": "failed"}
    _manifest(out / "2023-01", {"month": "2023-01", "units": _thirty_units(statuses), "failed": ["u29", "u30"]})
    _write(out / "2023-01" / "failed" / "u29-04_report.ipynb", "{}")
    section = _section(write_index(out).read_text(encoding="utf-8"), "2023-01")
    # 31 reports: 26 made now, 3 unchanged, 2 failed
    assert "Báo cáo đã lập: 29/31 (3 không đổi so với lần chạy trước; 2 bị lỗi)." in section
    assert section.count("(không đổi)</span>") == 3
    failed = _row(section, "Đơn vị u29")
    assert "status-failed" in failed and "ValueError: thiếu số liệu" in failed
    assert '<a href="2023-01/failed/u29-04_report.ipynb">Sổ tay lỗi</a>' in failed
    assert "Sổ tay lỗi" not in _row(section, "Đơn vị u30")  # no notebook was kept for it


def test_scratch_and_other_folders_are_never_listed(tmp_path):
    out = tmp_path / "outputs"
    _manifest(out / "2022-12", {"month": "2022-12", "units": _thirty_units({})})
    _manifest(out / "_scratch", {"month": "2022-11", "units": _thirty_units({})})
    _write(out / "_scratch" / "tinh" / "report.html")
    _write(out / "_scratch" / "04_report.ipynb", "{}")
    _manifest(out / "2022-12-old", {"month": "2022-12", "units": {}})
    _manifest(out / "2022-00", {"month": "2022-00", "units": {}})
    _write(out / "2023-02", "a file named like a month")
    (out / "ghi chú").mkdir()
    page = write_index(out).read_text(encoding="utf-8")
    assert re.findall(r'<section class="month" id="thang-([^"]+)">', page) == ["2022-12"]
    assert "_scratch" not in page and "scratch" not in page
    assert "2022-12-old" not in page and "11/2022" not in page and "02/2023" not in page
    assert "Danh mục 1 tháng báo cáo" in page


def test_an_unreadable_month_never_breaks_the_page(tmp_path):
    out = tmp_path / "outputs"
    (out / "2023-03" / "manifest.json").mkdir(parents=True)  # a folder where the file should be
    _manifest(
        out / "2023-04",
        {
            "month": "2023-04",
            "units": {"tinh": {"name": ["a", "list"], "status": 3, "html": 7, "annex": {"x": 1}}},
            "steps": "not a list",
            "log": ["x"],
            "created": 12,
        },
    )
    _manifest(out / "2023-05", {"month": "2023-05", "units": _thirty_units({})})
    page = write_index(out).read_text(encoding="utf-8")
    assert "không đọc được tệp" in _section(page, "2023-03")
    assert "Không rõ (3)" in _section(page, "2023-04")
    assert "Báo cáo đã lập: 31/31." in _section(page, "2023-05")


def test_month_links_annex_feedback_copies_failed_notebooks_and_log(tmp_path):
    out = tmp_path / "outputs"
    month = out / "2022-10"
    _manifest(
        month,
        {
            "month": "2022-10",
            "log": "logs/run-20261128-080000.log",
            "units": {
                "tinh": {"name": "Tỉnh Thừa Thiên Huế", "status": "ok", "html": "tinh/report.html"},
                "478": {"name": "Huyện Phú Vang", "status": "skipped", "html": "478/report.html"},
            },
        },
    )
    for rel in (
        "tinh/report.html",
        "tinh/annex.xlsx",
        "478/report.html",
        "478/annex.xlsx",
        "logs/run-20261128-080000.log",
        "feedback/syt_syt.xlsx",
        "feedback/a&<b>.xlsx",
        "feedback/~$syt_syt.xlsx",
        "feedback/.hidden.xlsx",
        "feedback/notes.txt",
        "failed/tinh-02_clean.ipynb",
    ):
        _write(month / rel)
    section = _section(write_index(out).read_text(encoding="utf-8"), "2022-10")
    assert '<a href="2022-10/tinh/annex.xlsx">Phụ lục số liệu các đơn vị (Excel)</a>' in section
    assert '<a href="2022-10/tinh/annex.xlsx">Phụ lục (Excel)</a>' in _row(section, "Tỉnh Thừa Thiên Huế")
    assert '<a href="2022-10/478/annex.xlsx">Phụ lục (Excel)</a>' in _row(section, "Huyện Phú Vang")
    assert '<a href="2022-10/logs/run-20261128-080000.log">Nhật ký lần chạy</a>' in section
    assert "Bản góp ý gửi lại đơn vị (2 tệp)" in section
    assert '<a href="2022-10/feedback/syt_syt.xlsx">syt_syt.xlsx</a>' in section
    assert '<a href="2022-10/feedback/a%26%3Cb%3E.xlsx">a&amp;&lt;b&gt;.xlsx</a>' in section
    assert "<b>" not in section and "notes.txt" not in section and "~$" not in section and "hidden" not in section
    assert "Sổ tay của các bước bị lỗi (1 tệp)" in section
    assert '<a href="2022-10/failed/tinh-02_clean.ipynb">tinh-02_clean.ipynb</a>' in section
    assert "Sổ tay lỗi" not in _row(section, "Tỉnh Thừa Thiên Huế")  # its report is done


def test_readable_on_a_phone(index_html):
    assert '<meta name="viewport" content="width=device-width, initial-scale=1.0">' in index_html
    assert re.search(r"\.scroll \{[^}]*overflow-x: auto", index_html)
    tables = index_html.count("<table")
    assert tables == 2
    assert index_html.count('<div class="scroll"><table>') == tables
    assert "@media (max-width: 600px)" in index_html


def test_index_uses_the_house_style_of_the_report(index_html):
    from dxreport.render import house_css

    assert house_css() in index_html
    style = index_html[index_html.index("<style>") : index_html.index("</style>")]
    assert "thead th { background: var(--dx-head)" in style and "a { color: var(--dx-link)" in style
    assert "#e6e6e6" not in style


# --------------------------------------------------------------------------- who has not submitted


def _warehouse(out: Path, month: str, statuses: dict[str, str]) -> None:
    from dxreport import store

    with store.connect(store.warehouse_path(out)) as con:
        for n, (unit, status) in enumerate(statuses.items()):
            con.execute(
                "INSERT INTO submissions (submission_id, month, unit, file_name, status) VALUES (?, ?, ?, ?, ?)",
                [f"s{n}", month, unit, f"{unit}.xlsx", status],
            )


def test_units_that_have_not_submitted_are_listed_from_the_warehouse(tmp_path):
    from dxreport.units import load_registry

    out = tmp_path / "outputs"
    _manifest(out / "2022-12", {"month": "2022-12", "units": _thirty_units({})})
    _manifest(out / "2022-11", {"month": "2022-11", "units": _thirty_units({})})
    codes = [u.code for u in load_registry().reporting_units("2022-12")]
    assert len(codes) == 30
    # 474 and 478 sent nothing; 476 only a rejected file; 477 a rejected file, then an accepted one
    statuses = {c: "accepted" for c in codes if c not in ("474", "476", "478")}
    _warehouse(out, "2022-12", statuses)
    _warehouse(out, "2022-12", {"476": "rejected"})
    _warehouse(out, "2022-12", {"477": "rejected"})
    page = write_index(out).read_text(encoding="utf-8")
    dec = _section(page, "2022-12")
    assert "Đơn vị đã nộp báo cáo: 27/30." in dec
    assert "<strong>Chưa nộp (2):</strong> Thành phố Huế (474), Huyện Phú Vang (478)." in dec
    assert "<strong>Bị từ chối, chưa nộp lại (1):</strong> Huyện Phong Điền (476)." in dec
    assert "Đơn vị đã nộp" not in _section(page, "2022-11")  # a month the warehouse has not loaded


def test_an_unreadable_warehouse_leaves_the_tracker_out(tmp_path):
    out = tmp_path / "outputs"
    _manifest(out / "2022-12", {"month": "2022-12", "units": _thirty_units({"u05": "skipped"})})
    _write(out / "warehouse.duckdb", "not a database")
    section = _section(write_index(out).read_text(encoding="utf-8"), "2022-12")
    assert "Báo cáo đã lập: 31/31 (1 không đổi so với lần chạy trước)." in section
    assert "Đơn vị đã nộp" not in section
    assert (out / "warehouse.duckdb").read_text(encoding="utf-8") == "not a database"


def test_a_month_only_ingested_still_links_its_checks_and_feedback(tmp_path):
    out = tmp_path / "outputs"
    month = out / "2022-11"
    for rel in ("validation.csv", "validation.html", "feedback/syt_syt.xlsx", "failed/tinh-03_analyse.ipynb"):
        _write(month / rel)
    section = _section(write_index(out).read_text(encoding="utf-8"), "2022-11")
    assert "chưa có tệp manifest.json" in section
    assert '<a href="2022-11/validation.csv">Kết quả kiểm tra dữ liệu (CSV)</a>' in section
    assert '<a href="2022-11/validation.html">' in section
    assert '<a href="2022-11/feedback/syt_syt.xlsx">syt_syt.xlsx</a>' in section
    assert '<a href="2022-11/failed/tinh-03_analyse.ipynb">tinh-03_analyse.ipynb</a>' in section
