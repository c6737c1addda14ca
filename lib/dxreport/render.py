"""Turn an executed report notebook into the finished report (HTML and PDF).

The HTML is produced in-process by nbconvert with the ``dxreport`` template
(``templates/dxreport``): code cells and prompts are hidden, images stay
embedded as base64, SVG charts are inlined so that their text stays text, and
the house style (A4, Vietnamese administrative layout, a single pinned font)
is inlined.  The PDF is printed from that HTML
by a headless Chromium, so that the screen and print versions are identical.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import multiprocessing.util
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import HTMLExporter
from traitlets import Int, default
from traitlets.config import Config

from dxreport.fileio import write_atomic
from dxreport.style import (FONT_FAMILY, FONT_PACKAGE, STATIC_DIR, TEMPLATE_NAME, TEMPLATES_DIR,  # noqa: F401
                             house_css)

__all__ = [
    "CHROMIUM_NAMES",
    "DEFAULT_TITLE",
    "FONT_FAMILY",
    "TEMPLATES_DIR",
    "TEMPLATE_NAME",
    "ChromiumPDFExporter",
    "PdfPrinter",
    "PdfProtocolError",
    "RenderError",
    "ReportHTMLExporter",
    "find_chromium",
    "font_covers_vietnamese",
    "house_css",
    "inline_svg",
    "render_html",
    "render_pdf",
    "shared_printer",
]

DEFAULT_TITLE = "Báo cáo mức độ sử dụng nền tảng số"
DEFAULT_IMAGE_ALT = "Hình minh họa"

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

# HTMLExporter adds this English alt text to images that have none.
_NBCONVERT_DEFAULT_ALT = 'alt="No description has been provided for this image"'

_STDERR_TAIL_CHARS = 4000


class RenderError(RuntimeError):
    """The report could not be rendered (missing tool, failed conversion)."""


class PdfProtocolError(RenderError):
    """The persistent Chromium did not answer as the DevTools protocol says (callers fall back)."""


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

    def default_filters(self):
        yield from super().default_filters()
        yield ("dx_inline_svg", inline_svg)

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


_SVG_START = re.compile(r"<svg\b", re.IGNORECASE)


def inline_svg(svg: str, alt: str = "") -> str:
    """An SVG document made fit to be inlined in HTML: without its XML declaration and doctype,
    marked as an image named `alt` (role, aria-label and a <title> for readers who cannot see it).

    Inlined, its text stays text: it can be found and copied in the HTML and in the PDF.
    """
    found = _SVG_START.search(svg)
    if found is None:
        return ""
    body = svg[found.start():]
    alt = alt or DEFAULT_IMAGE_ALT
    label = html.escape(alt, quote=True)
    open_end = body.index(">") + 1
    tag = body[:open_end]
    tag = tag[:-1].rstrip("/") + f' role="img" aria-label="{label}" class="dx-chart">'
    if body[:open_end].endswith("/>"):
        return tag + f"<title>{html.escape(alt)}</title></svg>"
    return tag + f"\n<title>{html.escape(alt)}</title>" + body[open_end:]


def _notebook_resources(notebook_path: Path, title: str | None) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "metadata": {"name": notebook_path.stem, "path": str(notebook_path.parent)},
    }
    if title:
        resources["dxreport_title"] = unicodedata.normalize("NFC", title)
    return resources


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
    write_atomic(html_path, body.encode("utf-8"))
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


#: Page.printToPDF options that give the same PDF as
#: ``chromium --headless --no-pdf-header-footer --print-to-pdf`` (render_pdf's one-process way).
PRINT_OPTIONS = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False}


class PdfPrinter:
    """One headless Chromium kept running to print many report pages to PDF.

    Starting Chromium costs most of a one-process PDF; a printer starts it once and prints each
    page in a new tab.  Chromium is driven over the DevTools protocol on a pipe
    (``--remote-debugging-pipe``: commands on its fd 3, replies on its fd 4, each message one JSON
    text ended by a NUL byte), so no port is opened.  Closing the pipe ends Chromium, also when
    the owning process dies.  Any answer that does not follow the protocol raises
    PdfProtocolError and closes the printer; render_pdf then falls back to the one-process way.

        with PdfPrinter() as printer:
            printer.print("a.html", "a.pdf")
            printer.print("b.html", "b.pdf")
    """

    def __init__(self, *, timeout: float = 120, start_timeout: float = 60) -> None:
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.pid: int | None = None
        self.owner_pid = os.getpid()
        self.pages = 0
        self._to_chromium: int | None = None
        self._from_chromium: int | None = None
        self._profile: Path | None = None
        self._stderr: Path | None = None
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        self._lock = threading.Lock()
        self.failed = False

    # -------------------------------------------------------------- life ----

    @property
    def alive(self) -> bool:
        """Whether the Chromium of this printer is running and answering."""
        return self.pid is not None

    def start(self) -> PdfPrinter:
        """Start Chromium (done by ``with`` and by the first print)."""
        if self.alive:
            return self
        chromium = find_chromium()
        _check_font()
        self._profile = Path(tempfile.mkdtemp(prefix="dxreport-chromium-"))
        self._stderr = self._profile / "stderr.txt"
        commands_r, commands_w = os.pipe()
        replies_r, replies_w = os.pipe()
        # Above the fds 0-4 that the child gets, so that the dup2 below never overlaps.
        child_in = os.dup2(commands_r, 100) if commands_r < 5 else commands_r
        child_out = os.dup2(replies_w, 101) if replies_w < 5 else replies_w
        devnull = os.open(os.devnull, os.O_RDWR)
        err = os.open(self._stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        args = [chromium, *_CHROMIUM_FLAGS, "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}", "about:blank"]
        try:
            self.pid = os.posix_spawn(chromium, args, os.environ, file_actions=[
                (os.POSIX_SPAWN_DUP2, child_in, 3), (os.POSIX_SPAWN_DUP2, child_out, 4),
                (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, err, 1),
                (os.POSIX_SPAWN_DUP2, err, 2)], setsid=True)
        except OSError as exc:
            shutil.rmtree(self._profile, ignore_errors=True)
            raise PdfProtocolError(f"Không khởi chạy được Chromium ({chromium}): {exc}") from exc
        finally:
            for fd in {commands_r, replies_w, child_in, child_out, devnull, err}:
                os.close(fd)
        self._to_chromium, self._from_chromium = commands_w, replies_r
        self.owner_pid = os.getpid()
        try:
            self._call("Browser.getVersion", deadline=time.monotonic() + self.start_timeout)
        except PdfProtocolError:
            self.close()
            raise
        return self

    def close(self) -> None:
        """End Chromium and remove its profile."""
        for attr in ("_to_chromium", "_from_chromium"):
            fd = getattr(self, attr)
            if fd is not None:
                setattr(self, attr, None)
                try:
                    os.close(fd)
                except OSError:
                    pass
        pid, self.pid = self.pid, None
        if pid is not None and self.owner_pid == os.getpid():
            deadline = time.monotonic() + 5
            while True:  # Chromium exits by itself once its command pipe is closed
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if done:
                    break
                if time.monotonic() > deadline:
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.02)
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
        self._buffer, self._events = b"", []

    def __enter__(self) -> PdfPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------- protocol ----

    def _fail(self, message: str) -> PdfProtocolError:
        self.failed = True
        tail = ""
        if self._stderr is not None and self._stderr.exists():
            tail = "\n" + _tail(self._stderr.read_bytes())
        self.close()
        return PdfProtocolError(message + tail)

    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        try:
            while data:
                data = data[os.write(self._to_chromium, data):]
        except (OSError, TypeError) as exc:
            raise self._fail(f"Chromium không nhận lệnh {method}: {exc}") from exc
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._fail(f"Chromium không trả lời sau {self.timeout:g} giây.")
            try:
                ready, _, _ = select.select([self._from_chromium], [], [], remaining)
                chunk = os.read(self._from_chromium, 1 << 20) if ready else None
            except (OSError, TypeError, ValueError) as exc:
                raise self._fail(f"Mất kết nối với Chromium: {exc}") from exc
            if chunk == b"":
                raise self._fail("Chromium đã dừng giữa chừng.")
            if chunk:
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        try:
            message = json.loads(raw)
        except ValueError as exc:
            raise self._fail(f"Chromium trả lời không đúng giao thức: {raw[:200]!r}") from exc
        if not isinstance(message, dict):
            raise self._fail(f"Chromium trả lời không đúng giao thức: {raw[:200]!r}")
        if message.get("method") in ("Target.targetCrashed", "Inspector.targetCrashed"):
            raise self._fail("Trang của Chromium bị lỗi (crashed).")
        return message

    def _call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None, *,
              deadline: float) -> dict[str, Any]:
        request = self._send(method, params, session)
        while True:
            message = self._receive(deadline)
            if message.get("id") == request:
                if "error" in message or not isinstance(message.get("result"), dict):
                    raise self._fail(f"Chromium từ chối lệnh {method}: {message.get('error')}")
                return message["result"]
            if "method" in message:
                self._events.append(message)

    def _wait_event(self, method: str, session: str, deadline: float) -> None:
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self._events[: i + 1]
                    return
            self._events.append(self._receive(deadline))

    # ------------------------------------------------------------- print ----

    def print(self, html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str]) -> Path:
        """Print one HTML file to an A4 PDF (written atomically); returns the PDF path."""
        html_path = Path(html_path).resolve()
        pdf_path = Path(pdf_path).resolve()
        if not html_path.is_file():
            raise RenderError(f"Không tìm thấy tệp HTML cần xuất PDF: {html_path}")
        with self._lock:
            if self.alive and self.owner_pid != os.getpid():   # inherited by fork: not ours
                self.pid = self._to_chromium = self._from_chromium = self._profile = None
            self.start()
            deadline = time.monotonic() + self.timeout
            target, session = self._open(html_path, deadline)
            result = self._call("Page.printToPDF", PRINT_OPTIONS, session, deadline=deadline)
            self._call("Target.closeTarget", {"targetId": target}, deadline=deadline)
            try:
                data = base64.b64decode(result.get("data", ""), validate=True)
            except ValueError as exc:
                raise self._fail(f"Chromium trả về PDF không hợp lệ cho {html_path}") from exc
            if not data.startswith(b"%PDF-"):
                raise self._fail(f"Chromium trả về PDF không hợp lệ cho {html_path}")
            write_atomic(pdf_path, data)
            self.pages += 1
        return pdf_path


    def _open(self, html_path: Path, deadline: float, metrics: dict[str, Any] | None = None) -> tuple[str, str]:
        """A new tab showing `html_path`, loaded (with `metrics`, the device it emulates)."""
        target = self._call("Target.createTarget", {"url": "about:blank"}, deadline=deadline)["targetId"]
        session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True},
                             deadline=deadline)["sessionId"]
        self._call("Page.enable", None, session, deadline=deadline)
        if metrics:
            self._call("Emulation.setDeviceMetricsOverride", metrics, session, deadline=deadline)
        self._events.clear()
        loaded = self._call("Page.navigate", {"url": html_path.as_uri()}, session, deadline=deadline)
        if loaded.get("errorText"):
            raise self._fail(f"Chromium không mở được {html_path}: {loaded['errorText']}")
        self._wait_event("Page.loadEventFired", session, deadline)
        return target, session

    def inspect(self, html_path: str | os.PathLike[str], expression: str, *, width: int, height: int = 900,
                mobile: bool | None = None, screenshot: str | os.PathLike[str] | None = None) -> Any:
        """Open `html_path` on a screen `width` × `height` CSS pixels wide (a phone's when
        `mobile`, by default below 700 px: the page's viewport tag is obeyed) and return the value
        of the JavaScript `expression` evaluated once the page and its fonts have loaded.

        With `screenshot`, the whole page is also saved there as PNG.
        """
        html_path = Path(html_path).resolve()
        if not html_path.is_file():
            raise RenderError(f"Không tìm thấy tệp HTML: {html_path}")
        mobile = width < 700 if mobile is None else mobile
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
        with self._lock:
            if self.alive and self.owner_pid != os.getpid():
                self.pid = self._to_chromium = self._from_chromium = self._profile = None
            self.start()
            deadline = time.monotonic() + self.timeout
            target, session = self._open(html_path, deadline, metrics)
            try:
                result = self._call("Runtime.evaluate", {
                    "expression": f"document.fonts.ready.then(() => ({expression}))",
                    "awaitPromise": True, "returnByValue": True}, session, deadline=deadline)
                if "exceptionDetails" in result:
                    raise RenderError(f"Lỗi khi đánh giá biểu thức trên {html_path}: {result['exceptionDetails']}")
                if screenshot is not None:
                    shot = self._call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                                      session, deadline=deadline)
                    write_atomic(Path(screenshot), base64.b64decode(shot["data"]))
            finally:
                if self.alive:
                    self._call("Target.closeTarget", {"targetId": target}, deadline=deadline)
        return result.get("result", {}).get("value")


_SHARED: dict[str, Any] = {"printer": None, "failures": 0}
_MAX_SHARED_FAILURES = 2


def shared_printer() -> PdfPrinter | None:
    """This process's long-lived PdfPrinter, started on first print and closed at exit.

    After a protocol error a new one is started; after two, None (the one-process way).
    """
    printer = _SHARED["printer"]
    if printer is not None and printer.owner_pid == os.getpid():
        if not printer.failed:
            return printer
        _SHARED["failures"] += 1
        _SHARED["printer"] = None
    if _SHARED["failures"] >= _MAX_SHARED_FAILURES:
        return None
    printer = PdfPrinter()
    _SHARED["printer"] = printer
    multiprocessing.util.Finalize(printer, printer.close, exitpriority=10)
    return printer


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
