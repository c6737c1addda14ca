"""The long-lived Chromium that prints many reports over the DevTools protocol."""

from __future__ import annotations

import base64
import json
import multiprocessing.util
import os
import select
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from dxreport.fileio import write_atomic
from dxreport.render import chromium
from dxreport.render.chromium import _CHROMIUM_FLAGS, _check_font, _tail
from dxreport.render.errors import PdfProtocolError, RenderError

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
        chromium_path = chromium.find_chromium()
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
        args = [
            chromium_path,
            *_CHROMIUM_FLAGS,
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}",
            "about:blank",
        ]
        try:
            self.pid = os.posix_spawn(
                chromium_path,
                args,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, child_in, 3),
                    (os.POSIX_SPAWN_DUP2, child_out, 4),
                    (os.POSIX_SPAWN_DUP2, devnull, 0),
                    (os.POSIX_SPAWN_DUP2, err, 1),
                    (os.POSIX_SPAWN_DUP2, err, 2),
                ],
                setsid=True,
            )
        except OSError as exc:
            shutil.rmtree(self._profile, ignore_errors=True)
            raise PdfProtocolError(f"Không khởi chạy được Chromium ({chromium_path}): {exc}") from exc
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
                data = data[os.write(self._to_chromium, data) :]
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

    def _call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None, *, deadline: float
    ) -> dict[str, Any]:
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
            if self.alive and self.owner_pid != os.getpid():  # inherited by fork: not ours
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
        session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True}, deadline=deadline)[
            "sessionId"
        ]
        self._call("Page.enable", None, session, deadline=deadline)
        if metrics:
            self._call("Emulation.setDeviceMetricsOverride", metrics, session, deadline=deadline)
        self._events.clear()
        loaded = self._call("Page.navigate", {"url": html_path.as_uri()}, session, deadline=deadline)
        if loaded.get("errorText"):
            raise self._fail(f"Chromium không mở được {html_path}: {loaded['errorText']}")
        self._wait_event("Page.loadEventFired", session, deadline)
        return target, session

    def inspect(
        self,
        html_path: str | os.PathLike[str],
        expression: str,
        *,
        width: int,
        height: int = 900,
        mobile: bool | None = None,
        screenshot: str | os.PathLike[str] | None = None,
    ) -> Any:
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
                result = self._call(
                    "Runtime.evaluate",
                    {
                        "expression": f"document.fonts.ready.then(() => ({expression}))",
                        "awaitPromise": True,
                        "returnByValue": True,
                    },
                    session,
                    deadline=deadline,
                )
                if "exceptionDetails" in result:
                    raise RenderError(f"Lỗi khi đánh giá biểu thức trên {html_path}: {result['exceptionDetails']}")
                if screenshot is not None:
                    shot = self._call(
                        "Page.captureScreenshot",
                        {"format": "png", "captureBeyondViewport": True},
                        session,
                        deadline=deadline,
                    )
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
