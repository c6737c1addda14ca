"""Chromium and the pinned font found on this machine, and the one-process PDF."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from dxreport.render.errors import PdfProtocolError, RenderError
from dxreport.style import FONT_FAMILY, FONT_PACKAGE

if TYPE_CHECKING:
    from dxreport.render.printer import PdfPrinter

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

_STDERR_TAIL_CHARS = 4000


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


_CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _kill_process_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _check_font() -> None:
    if font_covers_vietnamese() is False:
        raise RenderError(
            f'Thiếu phông chữ "{FONT_FAMILY}" có hỗ trợ tiếng Việt (fc-list :lang=vi không liệt kê). '
            f"Cài đặt bằng lệnh: sudo apt-get install {FONT_PACKAGE}"
        )


def render_pdf(
    html_path: str | os.PathLike[str],
    pdf_path: str | os.PathLike[str],
    *,
    timeout: float = 120,
    printer: PdfPrinter | None = None,
) -> Path:
    """Print a report HTML file to an A4 PDF with headless Chromium.

    With ``printer`` (a running PdfPrinter) the page is printed by that
    long-lived Chromium; if it fails to answer as the protocol says, the PDF
    is made the one-process way instead (a Chromium started for this file).
    The PDF replaces ``pdf_path`` only once it has been written completely.
    Raises RenderError when Chromium or the pinned font is missing, when
    Chromium fails or times out, or when it produces no PDF.
    """
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path).resolve()
    if not html_path.is_file():
        raise RenderError(f"Không tìm thấy tệp HTML cần xuất PDF: {html_path}")
    if printer is not None:
        try:
            return printer.print(html_path, pdf_path)
        except PdfProtocolError:
            pass  # the one-process way below
    chromium = find_chromium()
    _check_font()

    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    profile_dir = Path(tempfile.mkdtemp(prefix="dxreport-chromium-"))
    tmp_pdf = pdf_path.with_name(f".{pdf_path.stem}.{os.getpid()}.tmp.pdf")
    cmd = [
        chromium,
        *_CHROMIUM_FLAGS,
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
                f"Chromium không xuất xong PDF sau {timeout:g} giây ({html_path}).\n" + _tail(stderr)
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
