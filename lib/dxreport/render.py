"""Turn an executed report notebook into the finished report (HTML and PDF).

The HTML is produced in-process by nbconvert with the ``dxreport`` template
(``templates/dxreport``): code cells and prompts are hidden, images stay
embedded as base64, and the house style (A4, Vietnamese administrative
layout, a single pinned font) is inlined.  The PDF is printed from that HTML
by a headless Chromium, so that the screen and print versions are identical.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import HTMLExporter
from traitlets import Int, default
from traitlets.config import Config

__all__ = [
    "CHROMIUM_NAMES",
    "DEFAULT_TITLE",
    "FONT_FAMILY",
    "TEMPLATES_DIR",
    "TEMPLATE_NAME",
    "ChromiumPDFExporter",
    "RenderError",
    "ReportHTMLExporter",
    "find_chromium",
    "font_covers_vietnamese",
    "render_html",
    "render_pdf",
]

#: The only font family named by the report's CSS.  "Liberation Serif"
#: (fonts-liberation2) has Times New Roman metrics, customary for Vietnamese
#: administrative documents, and `fc-list :lang=vi` lists it as covering
#: Vietnamese.  No generic fallback is named, so the PDF embeds this family only.
FONT_FAMILY = "Liberation Serif"

#: Debian package that provides FONT_FAMILY with Vietnamese coverage.
FONT_PACKAGE = "fonts-liberation2"

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "dxreport"

DEFAULT_TITLE = "Báo cáo mức độ sử dụng nền tảng số"
DEFAULT_IMAGE_ALT = "Hình minh họa"

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

# HTMLExporter adds this English alt text to images that have none.
_NBCONVERT_DEFAULT_ALT = 'alt="No description has been provided for this image"'

_STDERR_TAIL_CHARS = 4000


class RenderError(RuntimeError):
    """The report could not be rendered (missing tool, failed conversion)."""


class ReportHTMLExporter(HTMLExporter):
    """HTML exporter with the dxreport template and report defaults.

    Code inputs, prompts and anchor links are hidden, images are embedded,
    the document language is Vietnamese and the output is NFC-normalised.
    Cells tagged ``remove-cell`` and outputs of cells tagged ``remove-output``
    are left out of the report.
    """

    @property
    def default_config(self) -> Config:
        config = Config(
            {
                # The template inlines no syntax-highlighting CSS: skip building it.
                "CSSHTMLHeaderPreprocessor": {"enabled": False},
                "TagRemovePreprocessor": {
                    "enabled": True,
                    "remove_cell_tags": {"remove-cell", "remove_cell"},
                    "remove_all_outputs_tags": {"remove-output", "remove_output"},
                },
            }
        )
        merged = super().default_config.copy()
        merged.merge(config)
        return merged

    @default("template_name")
    def _template_name_default(self) -> str:
        return TEMPLATE_NAME

    @default("template_extension")
    def _template_extension_default(self) -> str:
        return ".html.j2"

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self) -> list[str]:
        return [str(TEMPLATES_DIR)]

    @default("raw_mimetypes")
    def _raw_mimetypes_default(self) -> list[str]:
        return ["text/html", ""]

    @default("exclude_input")
    def _exclude_input_default(self) -> bool:
        return True

    @default("exclude_input_prompt")
    def _exclude_input_prompt_default(self) -> bool:
        return True

    @default("exclude_output_prompt")
    def _exclude_output_prompt_default(self) -> bool:
        return True

    @default("exclude_anchor_links")
    def _exclude_anchor_links_default(self) -> bool:
        return True

    @default("embed_images")
    def _embed_images_default(self) -> bool:
        return True

    @default("language_code")
    def _language_code_default(self) -> str:
        return "vi"

    def __init__(self, config=None, **kw: Any) -> None:
        super().__init__(config=config, **kw)
        # Keep the dxreport template reachable even when the user configures
        # other template directories.
        if str(TEMPLATES_DIR) not in self.extra_template_basedirs:
            self.extra_template_basedirs = [*self.extra_template_basedirs, str(TEMPLATES_DIR)]

    def from_notebook_node(  # type: ignore[override]
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        html, resources = super().from_notebook_node(nb, resources=resources, **kw)
        html = html.replace(_NBCONVERT_DEFAULT_ALT, f'alt="{DEFAULT_IMAGE_ALT}"')
        return unicodedata.normalize("NFC", html), resources


def _notebook_resources(notebook_path: Path, title: str | None) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "metadata": {"name": notebook_path.stem, "path": str(notebook_path.parent)},
    }
    if title:
        resources["dxreport_title"] = unicodedata.normalize("NFC", title)
    return resources


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def render_html(
    notebook_path: str | os.PathLike[str],
    html_path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> Path:
    """Render an executed notebook to a standalone report HTML file.

    ``title`` sets the document ``<title>`` (default: the notebook's
    ``metadata.title``, else a generic report title).  Returns the HTML path.
    """
    notebook_path = Path(notebook_path)
    html_path = Path(html_path)
    try:
        nb = nbformat.read(notebook_path, as_version=4)
    except (OSError, ValueError) as exc:
        raise RenderError(f"Không đọc được notebook {notebook_path}: {exc}") from exc

    exporter = ReportHTMLExporter()
    body, _ = exporter.from_notebook_node(nb, resources=_notebook_resources(notebook_path, title))
    _write_atomic(html_path, body.encode("utf-8"))
    return html_path


def find_chromium() -> str:
    """Return the path of a Chromium/Chrome executable found on PATH."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RenderError(
        "Không tìm thấy trình duyệt Chromium để xuất PDF "
        f"(đã tìm trong PATH: {', '.join(CHROMIUM_NAMES)}). "
        "Cài đặt bằng lệnh: sudo apt-get install chromium"
    )


@functools.lru_cache(maxsize=1)
def font_covers_vietnamese() -> bool | None:
    """Whether fontconfig has FONT_FAMILY with Vietnamese coverage.

    Returns None when ``fc-list`` is not available to tell.
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        proc = subprocess.run(
            [fc_list, f":family={FONT_FAMILY}:lang=vi", "family"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.returncode == 0 and bool(proc.stdout.strip())


def _kill_process_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def render_pdf(
    html_path: str | os.PathLike[str],
    pdf_path: str | os.PathLike[str],
    *,
    timeout: float = 120,
) -> Path:
    """Print a report HTML file to an A4 PDF with headless Chromium.

    The PDF replaces ``pdf_path`` only once it has been written completely.
    Raises RenderError when Chromium or the pinned font is missing, when
    Chromium fails or times out, or when it produces no PDF.
    """
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path).resolve()
    if not html_path.is_file():
        raise RenderError(f"Không tìm thấy tệp HTML cần xuất PDF: {html_path}")
    chromium = find_chromium()
    if font_covers_vietnamese() is False:
        raise RenderError(
            f'Thiếu phông chữ "{FONT_FAMILY}" có hỗ trợ tiếng Việt (fc-list :lang=vi không liệt kê). '
            f"Cài đặt bằng lệnh: sudo apt-get install {FONT_PACKAGE}"
        )

    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    profile_dir = Path(tempfile.mkdtemp(prefix="dxreport-chromium-"))
    tmp_pdf = pdf_path.with_name(f".{pdf_path.stem}.{os.getpid()}.tmp.pdf")
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-pdf-header-footer",
        f"--user-data-dir={profile_dir}",
        f"--print-to-pdf={tmp_pdf}",
        html_path.as_uri(),
    ]
    try:
        tmp_pdf.unlink(missing_ok=True)
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise RenderError(f"Không khởi chạy được Chromium ({chromium}): {exc}") from exc
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_process_group(proc)
            _, stderr = proc.communicate()
            raise RenderError(
                f"Chromium không xuất xong PDF sau {timeout:g} giây ({html_path}).\n"
                + _tail(stderr)
            ) from None

        if not tmp_pdf.is_file() or tmp_pdf.stat().st_size == 0 or not _starts_with_pdf(tmp_pdf):
            raise RenderError(
                f"Chromium không tạo được tệp PDF {pdf_path} từ {html_path} "
                f"(mã thoát {proc.returncode}).\n" + _tail(stderr)
            )
        os.chmod(tmp_pdf, 0o644)
        os.replace(tmp_pdf, pdf_path)
    finally:
        tmp_pdf.unlink(missing_ok=True)
        shutil.rmtree(profile_dir, ignore_errors=True)
    return pdf_path


def _starts_with_pdf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(5) == b"%PDF-"


def _tail(stderr: bytes | None) -> str:
    text = (stderr or b"").decode("utf-8", errors="replace").strip()
    if not text:
        return "Chromium không ghi thông báo lỗi nào (stderr trống)."
    if len(text) > _STDERR_TAIL_CHARS:
        text = "…\n" + text[-_STDERR_TAIL_CHARS:]
    return "stderr của Chromium:\n" + text


class ChromiumPDFExporter(ReportHTMLExporter):
    """nbconvert exporter ``dxpdf``: the report HTML printed to PDF by Chromium.

    Registered as the ``nbconvert.exporters`` entry point ``dxpdf``, so
    ``jupyter nbconvert --to dxpdf report.ipynb`` and JupyterLab's
    "Save and Export Notebook As" menu produce the same PDF as render_pdf.
    """

    export_from_notebook = "PDF (Chromium, dxreport)"
    output_mimetype = "application/pdf"

    timeout = Int(120, help="Seconds to wait for Chromium to print the PDF.").tag(config=True)

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".pdf"

    def from_notebook_node(  # type: ignore[override]
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[bytes, dict[str, Any]]:
        html, resources = super().from_notebook_node(nb, resources=resources, **kw)
        with tempfile.TemporaryDirectory(prefix="dxreport-pdf-") as tmp:
            html_file = Path(tmp) / "report.html"
            html_file.write_text(html, encoding="utf-8")
            pdf_file = render_pdf(html_file, Path(tmp) / "report.pdf", timeout=self.timeout)
            pdf_data = pdf_file.read_bytes()
        resources["output_extension"] = ".pdf"
        return pdf_data, resources
