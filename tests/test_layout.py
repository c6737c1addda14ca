"""Layout of the finished pages, checked in a real headless Chromium and read back with poppler.

Print: a heading is never the last thing on its page, a note is never split, no page but the last
is left 40% blank, charts are vector with their text searchable. Screen: every page (report,
validation page, index) fits a phone 390 px wide and a desktop 1366 px wide.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from dxreport import charts, intake, render, site
from dxreport.units import load_registry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        render.chromium.shutil.which("chromium") is None
        and render.chromium.shutil.which("chromium-browser") is None
        and render.chromium.shutil.which("google-chrome") is None
        or shutil.which("pdftotext") is None,
        reason="Chromium và poppler-utils (pdftotext) cần có trên máy",
    ),
]

MM = 72 / 25.4
AXIS_LABEL = "lượt tải ứng dụng"
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI"]

HEADER = (
    '<table class="dx-header"><tr>'
    '<td><p class="dx-org-parent">UBND TỈNH THỪA THIÊN HUẾ</p><p class="dx-org">SỞ THÔNG TIN VÀ TRUYỀN THÔNG</p>'
    '<p class="dx-doc-number">Số: …/BC-STTTT</p></td>'
    '<td><p class="dx-nation">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</p><p class="dx-motto">Độc lập - Tự do - Hạnh phúc</p>'
    '<p class="dx-place-date">Thừa Thiên Huế, ngày 05 tháng 01 năm 2023</p></td></tr></table>'
    '<div class="dx-title"><div class="dx-doctype">Báo cáo</div>'
    '<div class="dx-summary">Kết quả mức độ sử dụng các nền tảng số tháng 12/2022</div></div>'
)
SENTENCE = (
    "Các đơn vị tiếp tục triển khai nền tảng số dùng chung, cập nhật số liệu sử dụng hằng tháng "
    "và phối hợp với Sở Thông tin và Truyền thông trong việc hướng dẫn người dân. "
)


def _html(data: str):
    return new_output("display_data", data={"text/html": data})


def _table(rows: int, columns: int = 4, lead: str = "") -> str:
    head = "".join(f"<th>Cột {c + 1}</th>" for c in range(columns))
    body = "".join(
        "<tr><td>Huyện Phú Vang "
        + str(r + 1)
        + "</td>"
        + "".join(f'<td class="num">{(r + 1) * (c + 7):,}</td>'.replace(",", ".") for c in range(columns - 1))
        + "</tr>"
        for r in range(rows)
    )
    lead = f'<p class="dx-lead">{lead}</p>' if lead else ""
    return f'{lead}<table class="dx-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _chart_output(title: str):
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    frame = pd.DataFrame({"month": months, "value": [690000 + 10000 * i for i in range(12)]})
    svg, meta = charts.trend(frame, title, AXIS_LABEL)._repr_svg_()
    return new_output("display_data", data={"image/svg+xml": svg}, metadata={"image/svg+xml": meta})


def _report_notebook(path: Path, shift: int = 0) -> Path:
    """A report in the house style: header, sixteen sections whose headings fall at many heights
    of the page (moved by `shift`), short and long tables, notes of several lines, two charts."""
    cells = [new_code_cell("display(HTML(header))", outputs=[_html(HEADER)])]
    for i, roman in enumerate(ROMAN):
        cells.append(new_markdown_cell(f"## {roman}. Mục số {i + 1} kiểm tra"))
        fill = SENTENCE * (1 + (i * 5 + shift) % 7)
        outputs = [_html(f"<p>Mở đầu mục {i + 1}: {fill}</p>")]
        if i % 3 == 0:
            outputs.append(_html(_table(5, lead=f"Bảng ngắn của mục {i + 1}:")))
        if i % 4 == 1:
            outputs.append(_html(_table(16, 6, lead=f"Bảng dài của mục {i + 1}:")))
        if i in (2, 9):
            outputs.append(_chart_output(f"Biểu đồ của mục {i + 1}"))
        note = SENTENCE * 3
        outputs.append(_html(f'<p class="dx-note">Chú thích {i + 1} bắt đầu. {note}Hết chú thích {i + 1}.</p>'))
        cells.append(new_code_cell("display(...)", outputs=outputs))
    nb = new_notebook(cells=cells, metadata={"title": "Báo cáo kiểm tra bố cục"})
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def printer():
    with render.PdfPrinter(timeout=300, start_timeout=180) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def report(tmp_path_factory, printer) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("layout")
    html = render.render_html(_report_notebook(folder / "04_report.ipynb"), folder / "report.html")
    pdf = printer.print(html, folder / "report.pdf")
    return html, pdf


def _pages(pdf: Path) -> list[str]:
    """The text of each page of `pdf`, read page by page by pdftotext, whitespace made single."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=120, check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    pages = []
    for number in range(1, count + 1):
        text = subprocess.run(
            ["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(pdf), "-"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        pages.append(" ".join(text.split()))
    return pages


def _page_of(pages: list[str], text: str) -> int:
    found = [n for n, page in enumerate(pages) if text in page]
    assert len(found) == 1, (text, found)
    return found[0]


def _blank_below(pdf: Path) -> list[float]:
    """For each page, the share of the text block (A4 less 20 mm top and bottom) left blank
    below the lowest word."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    shares = []
    for height, body in re.findall(r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', out, re.S):
        top, bottom = 20 * MM, float(height) - 20 * MM
        lowest = max((float(y) for y in re.findall(r'yMax="([\d.]+)"', body)), default=top)
        shares.append((bottom - lowest) / (bottom - top))
    return shares


def _misplaced(pdf: Path) -> list[str]:
    """Headings parted from the text after them, and notes split over two pages."""
    pages = _pages(pdf)
    wrong = []
    for i, roman in enumerate(ROMAN):
        if _page_of(pages, f"{roman}. Mục số {i + 1} kiểm tra") != _page_of(pages, f"Mở đầu mục {i + 1}:"):
            wrong.append(f"heading {roman}")
        if _page_of(pages, f"Chú thích {i + 1} bắt đầu.") != _page_of(pages, f"Hết chú thích {i + 1}."):
            wrong.append(f"note {i + 1}")
    return wrong


# --------------------------------------------------------------------------- print

SHIFTS = (0, 2, 5)


@pytest.fixture(scope="module")
def shifted(report, tmp_path_factory, printer) -> dict[int, Path]:
    """The HTML of the report with its sections moved down the pages by each of SHIFTS."""
    folder = tmp_path_factory.mktemp("shifted")
    pages = {0: report[0]}
    for shift in SHIFTS[1:]:
        pages[shift] = render.render_html(_report_notebook(folder / f"{shift}.ipynb", shift), folder / f"{shift}.html")
    return pages


def test_every_heading_stays_with_its_text_and_no_note_is_split(shifted, printer, tmp_path):
    for shift, html in shifted.items():
        pdf = printer.print(html, tmp_path / f"{shift}.pdf")
        assert len(_pages(pdf)) >= 8
        assert _misplaced(pdf) == [], shift


def test_the_check_finds_headings_and_notes_parted_without_the_break_rules(shifted, printer, tmp_path):
    found = []
    for shift, html in shifted.items():
        text = html.read_text(encoding="utf-8")
        bare = re.sub(r"(page-)?break-(after|before|inside)\s*:\s*avoid\s*;|(orphans|widows)\s*:\s*\d+\s*;", "", text)
        assert bare != text
        loose = tmp_path / f"loose-{shift}.html"
        loose.write_text(bare, encoding="utf-8")
        found += _misplaced(printer.print(loose, tmp_path / f"loose-{shift}.pdf"))
    assert found


def test_no_page_but_the_last_is_left_40_percent_blank(report):
    _, pdf = report
    shares = _blank_below(pdf)
    assert len(shares) >= 8
    assert [round(s, 2) for s in shares[:-1] if s >= 0.4] == []


def test_charts_are_vector_with_searchable_text_in_the_pdf(report):
    html, pdf = report
    text = " ".join(_pages(pdf))
    assert AXIS_LABEL in text and "Biểu đồ của mục 3" in text and "12/2022" in text
    images = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, timeout=120, check=True
    ).stdout.splitlines()[2:]
    assert images == []  # no bitmap anywhere: charts are vector


def test_charts_are_inline_svg_with_text_in_the_html(report):
    html, _ = report
    page = html.read_text(encoding="utf-8")
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.S)
    assert len(svgs) == 2 and "data:image/svg+xml" not in page
    for svg in svgs:
        assert 'role="img"' in svg and "<title>Biểu đồ của mục" in svg
        assert re.search(rf"<text\b[^>]*>\s*{AXIS_LABEL}\s*</text>", svg)


def test_chart_text_is_at_least_8_pt_as_laid_out_on_the_a4_text_block(report, printer):
    html, _ = report
    # at 1366 px the page is the A4 sheet, its text block 160 mm wide as in print
    sizes = printer.inspect(
        html,
        """[...document.querySelectorAll('svg.dx-chart')].map(svg => {
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return {scale, width: svg.getBoundingClientRect().width,
                smallest: Math.min(...[...svg.querySelectorAll('text')].map(
                    t => parseFloat(getComputedStyle(t).fontSize) * scale * 0.75))};
    })""",
        width=1366,
    )
    assert len(sizes) == 2
    for chart in sizes:
        assert chart["width"] <= 160 * 96 / 25.4 + 1  # within the text block
        assert chart["scale"] > 0.99  # at its own size, not shrunk
        assert chart["smallest"] >= 8 - 0.01


# --------------------------------------------------------------------------- screen

FITS = (
    "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth, "
    "viewport: document.querySelector('meta[name=viewport]')?.content})"
)


def _validation_page(folder: Path) -> Path:
    registry = load_registry()
    issues = pd.DataFrame(
        [
            {
                "month": "2022-12",
                "unit": "474",
                "file_name": "474_bao_cao_muc_do_su_dung_nen_tang_so_thang_12_2022.xlsx",
                "sheet": "Nền tảng",
                "cell": "D3",
                "rule": "cell.count",
                "severity": "error",
                "message": "Nền tảng!D3: “Tài khoản lũy kế” phải là số nguyên không âm; ô đang ghi “nhiều”.",
                "submission_id": "a",
            },
            {
                "month": "2022-12",
                "unit": "syt",
                "file_name": "syt.xlsx",
                "sheet": None,
                "cell": None,
                "rule": "file.late",
                "severity": "warning",
                "message": "Tệp nhận sau hạn nộp báo cáo.",
                "submission_id": "b",
            },
        ]
    )
    track = intake.tracker("2022-12", registry, pd.DataFrame(columns=intake.SUBMISSION_COLUMNS))
    page = folder / "validation.html"
    page.write_text(intake.validation_page(issues, registry, "2022-12", track), encoding="utf-8")
    return page


def _index_page(folder: Path) -> Path:
    month = folder / "outputs" / "2022-12"
    units = {
        code: {
            "name": name,
            "status": "ok",
            "html": f"{code}/report.html",
            "pdf": f"{code}/report.pdf",
            "annex": f"{code}/annex.xlsx",
            "kpis": f"{code}/kpis.csv",
        }
        for code, name in (
            ("tinh", "Tỉnh Thừa Thiên Huế"),
            ("478", "Huyện Phú Vang"),
            ("sldtbxh", "Sở Lao động - Thương binh và Xã hội"),
        )
    }
    for code in units:
        for name in ("report.html", "report.pdf", "annex.xlsx", "kpis.csv"):
            (month / code).mkdir(parents=True, exist_ok=True)
            (month / code / name).write_text("x", encoding="utf-8")
    (month / "validation.html").write_text("x", encoding="utf-8")
    (month / "manifest.json").write_text(
        json.dumps(
            {
                "month": "2022-12",
                "created": "2026-11-28T08:00:00+07:00",
                "sample": True,
                "units": units,
                "validation": "validation.csv",
                "steps": [
                    {
                        "name": "01_scrape",
                        "unit": None,
                        "status": "ok",
                        "seconds": 1.2,
                        "notebook": "notebooks/01_scrape.ipynb",
                        "error": None,
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return site.write_index(folder / "outputs")


@pytest.fixture(scope="module")
def screen_pages(report, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("screen")
    wide = folder / "wide.html"
    rendered = report[0].read_text(encoding="utf-8")
    wide_table = _table(6, 14)
    # the report with a table far wider than a phone, as the compact tables of the annex views are
    wide.write_text(rendered.replace("</main>", wide_table + "</main>"), encoding="utf-8")
    return {"report": wide, "validation": _validation_page(folder), "index": _index_page(folder)}


def _fits(measured: dict, width: int) -> bool:
    # A phone widens its layout viewport to show a page wider than the screen: the page fits only
    # if the window stays as wide as the screen and the document no wider than the window.
    return measured["inner"] == width and measured["scroll"] <= measured["inner"]


@pytest.mark.parametrize("width", [390, 1366])
@pytest.mark.parametrize("name", ["report", "validation", "index"])
def test_no_page_is_wider_than_the_screen(screen_pages, printer, tmp_path, name, width):
    shot = tmp_path / f"{name}-{width}.png"
    fits = printer.inspect(screen_pages[name], FITS, width=width, screenshot=shot)
    assert fits["viewport"] == "width=device-width, initial-scale=1.0"
    assert _fits(fits, width)
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_the_width_check_sees_a_page_wider_than_a_phone(screen_pages, printer, tmp_path):
    bare = tmp_path / "bare.html"
    text = screen_pages["report"].read_text(encoding="utf-8")
    bare.write_text(re.sub(r"<style.*?</style>", "", text, flags=re.S), encoding="utf-8")
    assert not _fits(printer.inspect(bare, FITS, width=390), 390)


def test_wide_tables_scroll_inside_their_own_box_on_a_phone(screen_pages, printer):
    boxes = printer.inspect(
        screen_pages["report"],
        """[...document.querySelectorAll('table.dx-table')].map(t => ({
        right: t.getBoundingClientRect().right, scroll: t.scrollWidth, client: t.clientWidth,
        overflow: getComputedStyle(t).overflowX}))""",
        width=390,
    )
    assert boxes and all(box["right"] <= 390 for box in boxes)
    scrolling = [box for box in boxes if box["scroll"] > box["client"]]
    assert scrolling and all(box["overflow"] == "auto" for box in scrolling)


@pytest.mark.parametrize(("width", "stacked"), [(390, True), (1366, False)])
def test_the_administrative_header_stacks_on_a_phone(screen_pages, printer, width, stacked):
    left, right = printer.inspect(
        screen_pages["report"],
        """[...document.querySelectorAll(
        'table.dx-header td')].map(td => { const r = td.getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; })""",
        width=width,
    )
    if stacked:
        assert right["top"] >= left["bottom"] - 1 and right["right"] <= width
    else:
        assert abs(right["top"] - left["top"]) < 1 and right["left"] >= left["right"] - 1


def test_validation_page_and_index_share_the_report_house_style(screen_pages, printer):
    probe = """(() => { const th = document.querySelector('thead th');
        return {font: getComputedStyle(document.body).fontFamily,
                head: getComputedStyle(document.documentElement).getPropertyValue('--dx-head').trim(),
                th: th && getComputedStyle(th).backgroundColor}; })()"""
    styles = {name: printer.inspect(page, probe, width=1366) for name, page in screen_pages.items()}
    assert {s["font"].strip('"') for s in styles.values()} == {render.FONT_FAMILY}
    assert {s["head"] for s in styles.values()} == {"#e0e0e0"}
    assert {s["th"] for s in styles.values()} == {"rgb(224, 224, 224)"}
