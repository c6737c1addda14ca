"""Tests for dxreport.render: notebook → report HTML → A4 PDF."""

from __future__ import annotations

import base64
import re
import shutil
import struct
import subprocess
import unicodedata
import zlib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from dxreport import render
from dxreport.render import (
    FONT_FAMILY,
    ChromiumPDFExporter,
    RenderError,
    find_chromium,
    render_html,
    render_pdf,
)

SENTENCE = "Tổng số lượt tải ứng dụng Hue-S đạt 793.050 lượt."
SECTION = "Đánh giá chung"
CODE_MARKER = "SECRET_SOURCE_MARKER = load_kpis('hue-s')"

HEADER_HTML = (
    '<table class="dx-header"><tr>'
    '<td><p class="dx-org-parent">UBND TỈNH THỪA THIÊN HUẾ</p>'
    '<p class="dx-org">SỞ THÔNG TIN VÀ TRUYỀN THÔNG</p>'
    '<p class="dx-doc-number">Số: …/BC-STTTT</p></td>'
    '<td><p class="dx-nation">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</p>'
    '<p class="dx-motto">Độc lập - Tự do - Hạnh phúc</p>'
    '<p class="dx-place-date">Thừa Thiên Huế, ngày 05 tháng 01 năm 2023</p></td>'
    "</tr></table>"
    '<div class="dx-title">Báo cáo</div>'
    '<div class="dx-subtitle">Mức độ sử dụng nền tảng số tháng 12/2022</div>'
    '<div class="dx-sample-banner">DỮ LIỆU MẪU – không dùng để báo cáo chính thức</div>'
)

BODY_HTML = (
    f'<h2 class="dx-section">{SECTION}</h2><p>{SENTENCE}</p>'
    '<table class="dx-table"><thead><tr><th>STT</th><th>Chỉ tiêu</th><th>Giá trị</th></tr></thead>'
    '<tbody><tr><td class="num">1</td><td>Lượt tải Hue-S</td><td class="num">793.050</td></tr>'
    '<tr><td class="num">2</td><td>Hồ sơ trực tuyến toàn trình</td><td class="num">12.345</td></tr>'
    "</tbody></table>"
    '<p class="dx-note">Ghi chú: số liệu tổng hợp đến hết ngày 31/12/2022.</p>'
)

needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None
    and shutil.which("chromium-browser") is None
    and shutil.which("google-chrome") is None,
    reason="Chromium không có trên máy (cài bằng: apt-get install chromium)",
)
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="pdftotext/pdffonts không có trên máy (cài bằng: apt-get install poppler-utils)",
)


def _png(width: int = 24, height: int = 12) -> bytes:
    """A small valid RGB PNG with a gradient."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 10 % 256, 90, y * 20 % 256)) for x in range(width)) for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG_B64 = base64.b64encode(_png()).decode("ascii")


def _notebook() -> nbformat.NotebookNode:
    nb = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        }
    )
    nb.cells = [
        new_code_cell(
            CODE_MARKER,
            execution_count=1,
            outputs=[
                new_output("display_data", data={"text/html": HEADER_HTML, "text/plain": "header"}),
                new_output("stream", name="stderr", text="FutureWarning: STDERR_NOISE\n"),
            ],
        ),
        new_markdown_cell("### Nhận xét\n\nNội dung *ô markdown* của báo cáo."),
        new_code_cell(
            "display(HTML(body)); plot()",
            execution_count=2,
            outputs=[
                new_output("display_data", data={"text/html": BODY_HTML, "text/plain": "body"}),
                new_output("display_data", data={"image/png": PNG_B64, "text/plain": "<Figure>"}),
                new_output(
                    "execute_result",
                    execution_count=2,
                    data={"text/plain": "EXECUTE_RESULT_VALUE"},
                ),
            ],
        ),
        new_code_cell(
            "debug_dump()",
            execution_count=3,
            metadata={"tags": ["remove-cell"]},
            outputs=[new_output("stream", name="stdout", text="REMOVED_CELL_OUTPUT\n")],
        ),
    ]
    return nb


@pytest.fixture(scope="module")
def notebook_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nb") / "03_report.ipynb"
    nbformat.write(_notebook(), path)
    return path


@pytest.fixture(scope="module")
def html_file(notebook_path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "tinh" / "report.html"
    result = render_html(notebook_path, out, title="Báo cáo tháng 12/2022 – Tỉnh Thừa Thiên Huế")
    assert result == out
    return out


@pytest.fixture(scope="module")
def html_text(html_file) -> str:
    return html_file.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pdf_file(html_file, tmp_path_factory) -> Path:
    if find_chromium_or_none() is None:
        pytest.skip("Chromium không có trên máy (cài bằng: apt-get install chromium)")
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    assert render_pdf(html_file, out) == out
    return out


def find_chromium_or_none() -> str | None:
    try:
        return find_chromium()
    except RenderError:
        return None


# ---------------------------------------------------------------- HTML ----


def test_html_is_vietnamese_utf8_document(html_text):
    assert html_text.startswith("<!DOCTYPE html>")
    assert '<html lang="vi">' in html_text
    assert re.search(r'<meta charset="utf-8"\s*/?>', html_text, re.IGNORECASE)
    assert "<title>Báo cáo tháng 12/2022 – Tỉnh Thừa Thiên Huế</title>" in html_text


def test_html_hides_code_prompts_and_noise(html_text):
    assert "SECRET_SOURCE_MARKER" not in html_text
    assert "load_kpis" not in html_text
    assert "In&nbsp;[" not in html_text and "In [1]" not in html_text
    assert "Out[" not in html_text
    assert "STDERR_NOISE" not in html_text
    assert "REMOVED_CELL_OUTPUT" not in html_text
    # Regular outputs are kept.
    assert "EXECUTE_RESULT_VALUE" in html_text


def test_html_has_no_jupyter_chrome_or_network_scripts(html_text):
    assert "<script" not in html_text
    assert "require.js" not in html_text and "mathjax" not in html_text.lower()
    assert 'class="jp-InputPrompt' not in html_text
    assert 'class="anchor-link"' not in html_text
    assert "¶" not in html_text
    assert "http://" not in html_text and "https://" not in html_text


def test_html_contains_vietnamese_text_in_nfc(html_text):
    assert SENTENCE in html_text
    assert f'<h2 class="dx-section">{SECTION}</h2>' in html_text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html_text
    assert "<em>ô markdown</em>" in html_text
    assert re.search(r"<h3[^>]*>Nhận xét</h3>", html_text)
    assert unicodedata.is_normalized("NFC", html_text)


def test_html_normalises_decomposed_text_to_nfc(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Thừa Thiên Huế – Phú Vang")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    nb = new_notebook(
        cells=[
            new_code_cell(
                "x",
                outputs=[new_output("display_data", data={"text/html": f"<p>{decomposed}</p>"})],
            )
        ]
    )
    src = tmp_path / "nfd.ipynb"
    nbformat.write(nb, src)
    text = render_html(src, tmp_path / "nfd.html").read_text(encoding="utf-8")
    assert "<p>Thừa Thiên Huế – Phú Vang</p>" in text
    assert unicodedata.is_normalized("NFC", text)


def test_html_embeds_images_as_base64(html_text):
    assert f'src="data:image/png;base64,{PNG_B64}"' in html_text
    assert 'alt="Hình minh họa"' in html_text
    assert "No description has been provided" not in html_text


def test_html_inlines_house_style(html_text):
    assert "@page" in html_text
    assert "size: A4" in html_text
    assert "margin: 20mm 20mm 20mm 30mm" in html_text
    for cls in (
        ".dx-header",
        ".dx-title",
        ".dx-subtitle",
        ".dx-sample-banner",
        "table.dx-table",
        "td.num",
        ".dx-note",
        ".dx-section",
        ".dx-org",
        ".dx-number",
        ".dx-doc-number",
        ".dx-nation",
        ".dx-motto",
        ".dx-place-date",
        "tr.dx-total",
        "tr.dx-current",
    ):
        assert cls in html_text, cls
    # The only font family named anywhere is the pinned one.
    families = {f.strip() for f in re.findall(r"font-family:\s*([^;!}]+)", html_text)}
    assert families == {f'"{FONT_FAMILY}"'}


def test_template_css_names_the_pinned_font_only():
    css = (render.TEMPLATES_DIR / "dxreport" / "static" / "dxreport.css").read_text(encoding="utf-8")
    families = {f.strip() for f in re.findall(r"font-family:\s*([^;!}]+)", css)}
    assert families == {f'"{FONT_FAMILY}"'}
    assert not re.search(r"font-family:[^;]*\b(serif|sans-serif|monospace)\b\s*[;!]", css)


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fc-list (fontconfig) không có trên máy")
def test_pinned_font_covers_vietnamese():
    out = subprocess.run(["fc-list", ":lang=vi", "family"], capture_output=True, text=True, check=True).stdout
    families = {name.strip() for line in out.splitlines() for name in line.split(",")}
    assert FONT_FAMILY in families
    assert render.font_covers_vietnamese() is True


def test_reports_rendered_one_after_another_by_one_exporter_are_each_their_own(notebook_path, html_text, tmp_path):
    other = new_notebook(
        cells=[new_code_cell("x", outputs=[new_output("display_data", data={"text/html": "<p>B</p>"})])]
    )
    nbformat.write(other, tmp_path / "other.ipynb")
    second = render_html(tmp_path / "other.ipynb", tmp_path / "other.html").read_text(encoding="utf-8")
    again = render_html(notebook_path, tmp_path / "again.html", title="Báo cáo tháng 12/2022 – Tỉnh Thừa Thiên Huế")
    assert render.shared_exporter() is render.shared_exporter()  # one exporter for the process
    assert again.read_text(encoding="utf-8") == html_text  # nothing of the other report left in it
    assert "<p>B</p>" in second and "Nhận xét" not in second and "Nhận xét" in html_text
    assert "<title>Báo cáo mức độ sử dụng nền tảng số</title>" in second  # not the first report's title


def test_render_html_reports_unreadable_notebook(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ not json", encoding="utf-8")
    with pytest.raises(RenderError, match="Không đọc được notebook"):
        render_html(bad, tmp_path / "bad.html")
    assert not (tmp_path / "bad.html").exists()


# ----------------------------------------------------------- Chromium ----


def test_find_chromium_missing_gives_install_hint(monkeypatch):
    monkeypatch.setattr(render.chromium.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match="apt-get install chromium"):
        find_chromium()


def test_render_pdf_requires_existing_html(tmp_path):
    with pytest.raises(RenderError, match="Không tìm thấy tệp HTML"):
        render_pdf(tmp_path / "missing.html", tmp_path / "out.pdf")


@needs_chromium
def test_render_pdf_reports_chromium_failure(tmp_path, monkeypatch):
    html_path = tmp_path / "r.html"
    html_path.write_text("<!DOCTYPE html><html lang='vi'><body>x</body></html>", encoding="utf-8")
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'FAKE_CHROMIUM_CRASH' >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(render.chromium, "find_chromium", lambda: str(fake))
    with pytest.raises(RenderError, match="FAKE_CHROMIUM_CRASH") as info:
        render_pdf(html_path, tmp_path / "r.pdf")
    assert "mã thoát 3" in str(info.value)
    assert not (tmp_path / "r.pdf").exists()
    assert not list(tmp_path.glob(".r.*.tmp.pdf"))


@needs_chromium
@needs_pdftotext
def test_pdf_is_a4_and_keeps_vietnamese_text(pdf_file):
    data = pdf_file.read_bytes()
    assert data.startswith(b"%PDF-")
    info = subprocess.run(["pdfinfo", str(pdf_file)], capture_output=True, text=True, check=True)
    assert "(A4)" in info.stdout
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf_file), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(text.split())
    assert SENTENCE in flat
    assert SECTION in flat
    assert "Độc lập - Tự do - Hạnh phúc" in flat
    assert "SECRET_SOURCE_MARKER" not in flat


@needs_chromium
@needs_pdftotext
def test_pdf_embeds_only_the_pinned_font(pdf_file):
    out = subprocess.run(["pdffonts", str(pdf_file)], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0] for line in out.splitlines()[2:] if line.strip()]
    assert names, out
    pinned = FONT_FAMILY.replace(" ", "")
    for name in names:
        assert pinned in name, f"font ngoài phông đã chọn trong PDF: {name}\n{out}"


@needs_chromium
def test_render_pdf_cleans_up_temporary_profile(html_file, tmp_path, monkeypatch):
    monkeypatch.setattr(render.chromium.tempfile, "tempdir", str(tmp_path))
    out = render_pdf(html_file, tmp_path / "out" / "report.pdf")
    assert out.read_bytes().startswith(b"%PDF-")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert leftovers == []
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.pdf"]


@needs_chromium
def test_chromium_pdf_exporter_returns_pdf_bytes(notebook_path):
    exporter = ChromiumPDFExporter()
    assert exporter.output_mimetype == "application/pdf"
    assert exporter.file_extension == ".pdf"
    assert ChromiumPDFExporter.export_from_notebook == "PDF (Chromium, dxreport)"
    pdf, resources = exporter.from_filename(str(notebook_path))
    assert isinstance(pdf, bytes)
    assert pdf.startswith(b"%PDF")
    assert resources["output_extension"] == ".pdf"


def test_dxpdf_entry_point_when_installed():
    from importlib.metadata import entry_points

    if not any(ep.name == "dxpdf" for ep in entry_points(group="nbconvert.exporters")):
        pytest.skip("gói dxreport chưa được cài (pip install -e .): entry point dxpdf chưa đăng ký")
    from nbconvert.exporters import get_exporter

    assert get_exporter("dxpdf") is ChromiumPDFExporter


# ----------------------------------------------------- persistent Chromium ----


def _pdf_facts(path: Path) -> tuple[str, list[str], str]:
    """Text, embedded font names and page lines of a PDF, as poppler reads them."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    names = sorted(line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:] if line.strip())
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = "\n".join(line for line in info.splitlines() if line.startswith(("Pages:", "Page size:")))
    return text, names, pages


@needs_chromium
@needs_pdftotext
def test_printer_prints_many_pages_with_one_chromium_and_the_same_pdf(html_file, pdf_file, tmp_path):
    with render.PdfPrinter() as printer:
        first = printer.print(html_file, tmp_path / "a" / "report.pdf")
        pid = printer.pid
        second = printer.print(html_file, tmp_path / "b.pdf")
        assert printer.pid == pid and printer.pages == 2
    assert not printer.alive
    assert first == tmp_path / "a" / "report.pdf"
    one_process = _pdf_facts(pdf_file)
    assert _pdf_facts(first) == one_process == _pdf_facts(second)
    text, fonts, pages = one_process
    assert SECTION in text and "(A4)" in pages
    assert fonts and all(name.startswith(FONT_FAMILY.replace(" ", "")) for name in fonts)


@needs_chromium
def test_closing_the_printer_ends_chromium_and_removes_its_profile(html_file, tmp_path, monkeypatch):
    import os

    monkeypatch.setattr(render.printer.tempfile, "tempdir", str(tmp_path))
    printer = render.PdfPrinter()
    printer.print(html_file, tmp_path / "out" / "report.pdf")
    pid = printer.pid
    assert any(p.name.startswith("dxreport-chromium-") for p in tmp_path.iterdir())
    printer.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no process left behind
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.pdf"]


@needs_chromium
def test_render_pdf_falls_back_to_one_process_when_the_printer_breaks(html_file, tmp_path, monkeypatch):
    real = find_chromium()
    fake = tmp_path / "chromium-no-devtools"
    # reads the first command on the DevTools pipe and answers with something that is not JSON;
    # prints normally otherwise
    fake.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" --remote-debugging-pipe "*) head -c 1 <&3 >/dev/null; '
        "printf 'not json\\000' >&4; exit 0;; esac\n"
        f'exec "{real}" "$@"\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setattr(render.chromium, "find_chromium", lambda: str(fake))
    printer = render.PdfPrinter()
    with pytest.raises(render.PdfProtocolError, match="không đúng giao thức"):
        printer.start()
    assert printer.failed and not printer.alive
    out = render_pdf(html_file, tmp_path / "report.pdf", printer=render.PdfPrinter())
    assert out.read_bytes().startswith(b"%PDF-")


def test_shared_printer_is_replaced_after_a_failure_and_given_up_after_two(monkeypatch):
    monkeypatch.setattr(render.printer, "_SHARED", {"printer": None, "failures": 0})
    first = render.shared_printer()
    assert render.shared_printer() is first and not first.alive  # started by the first print only
    first.failed = True
    second = render.shared_printer()
    assert second is not first and render.shared_printer() is second
    second.failed = True
    assert render.shared_printer() is None  # the one-process way from now on


# ------------------------------------------------------------ SVG, house style, screens ----

SVG_DOC = (
    '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="100pt" height="50pt" viewBox="0 0 100 50">'
    '<text x="5" y="20" style="font-size: 9px">lượt tải</text></svg>\n'
)


def test_inline_svg_drops_the_prolog_and_names_the_image():
    svg = render.inline_svg(SVG_DOC, 'Lượt tải "Hue-S" <2022>')
    assert svg.startswith("<svg ") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert 'role="img"' in svg and 'aria-label="Lượt tải &quot;Hue-S&quot; &lt;2022&gt;"' in svg
    assert "<title>Lượt tải &quot;Hue-S&quot; &lt;2022&gt;</title>" in svg
    assert '<text x="5" y="20" style="font-size: 9px">lượt tải</text>' in svg
    assert render.inline_svg(SVG_DOC).count(f"<title>{render.DEFAULT_IMAGE_ALT}</title>") == 1
    assert render.inline_svg("not an svg") == ""


def test_svg_output_is_inlined_in_the_report_html(tmp_path):
    nb = new_notebook(
        cells=[
            new_code_cell(
                "display(chart)",
                outputs=[
                    new_output(
                        "display_data",
                        data={"image/svg+xml": SVG_DOC, "text/plain": "<Chart>"},
                        metadata={"image/svg+xml": {"alt": "Lượt tải ứng dụng Hue-S"}},
                    )
                ],
            )
        ]
    )
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    page = render_html(path, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "data:image/svg+xml" not in page and "<img" not in page
    from bs4 import BeautifulSoup

    (svg,) = BeautifulSoup(page, "html.parser").find_all("svg")
    assert svg["role"] == "img" and svg["aria-label"] == "Lượt tải ứng dụng Hue-S"
    assert svg.find("title").text == "Lượt tải ứng dụng Hue-S" and svg.find("text").text == "lượt tải"


def test_report_includes_the_house_style_variables_before_its_own_style(html_text):
    variables = render.house_css()
    assert "--dx-head:" in variables and variables in html_text
    assert html_text.index("--dx-head:") < html_text.index("@page")
    page_style = render.house_css(page=True)
    assert page_style.startswith(variables) and "body.dx-page" in page_style
    families = {f.strip() for f in re.findall(r"font-family:\s*([^;!}]+)", page_style)}
    assert families == {f'"{FONT_FAMILY}"'}


@needs_chromium
def test_printer_inspects_a_page_at_a_screen_width(html_file, tmp_path):
    with render.PdfPrinter() as printer:
        phone = printer.inspect(
            html_file,
            "({w: window.innerWidth, m: matchMedia('(max-width: 600px)').matches})",
            width=390,
            screenshot=tmp_path / "phone.png",
        )
        desk = printer.inspect(
            html_file, "({w: window.innerWidth, m: matchMedia('(max-width: 600px)').matches})", width=1366
        )
        with pytest.raises(RenderError, match="Lỗi khi đánh giá"):
            printer.inspect(html_file, "no_such_name.value", width=390)
        assert printer.print(html_file, tmp_path / "after.pdf").read_bytes().startswith(b"%PDF-")
    assert phone == {"w": 390, "m": True} and desk == {"w": 1366, "m": False}
    assert (tmp_path / "phone.png").read_bytes().startswith(b"\x89PNG")
