"""Jupyter kernels for the run: started over Unix sockets, judged ready by their process, reused.

A kernel is ready when its process is running and it has answered `kernel_info` on the shell
channel (and its IOPub channel delivers), within the start timeout of params/settings.yaml
(`run.kernel_start_timeout`). Heartbeats play no part: on a busy machine the first heartbeat
may come late, and a kernel that is merely slow is not dead. A kernel whose process has exited
is reported with its exit code; one still silent at the timeout is reported as such. Both in
Vietnamese, with what to try.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import queue
import shutil
import tempfile
import time

from dxreport.params import NOTEBOOKS_DIR

KERNEL = "python3"
#: Report notebooks a worker's kernel runs before it is replaced by a new one.
WARM_REUSES = 25
# Every kernel ties itself to the process that started it (dxreport.procs) as it starts.
_KERNEL_ARGS = [
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.exec_lines=['import dxreport.procs as _p; _p.kernel_init(); del _p']",
]
# Imported once when a worker's kernel starts; the report notebook imports them again (cheaply).
_PRELOAD = (
    "import IPython.display, pandas, matplotlib.pyplot\n"
    "import dxreport.report, dxreport.charts, dxreport.narrative, dxreport.store, dxreport.kpis"
)
#: What the month steps 01–03 import: no charts, no report.
MONTH_PRELOAD = "import IPython.display, pandas\nimport dxreport.steps"
# Before each notebook: nothing left of the previous one in the user namespace, counter at 1.
_RESET = "get_ipython().run_line_magic('reset', '-f')\nget_ipython().execution_count = 1"
_ADVICE = (
    "Hãy thử: chạy lại khi máy bớt bận, giảm số tiến trình (--workers 1), hoặc tăng "
    "run.kernel_start_timeout trong params/settings.yaml."
)


class KernelStartError(RuntimeError):
    """A kernel that did not start: its process exited, or it did not answer in time."""


def kernel_manager_class():
    """A kernel manager over Unix sockets in a private folder (no TCP port), with dxreport's arguments."""
    from jupyter_client import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self._ipc_dir = tempfile.mkdtemp(prefix="dxreport-kernel-")
            self.ip = os.path.join(self._ipc_dir, "kernel")

        async def start_kernel(self, **kw):
            given = list(kw.get("extra_arguments") or [])
            keys = {arg.split("=", 1)[0] for arg in given}
            kw["extra_arguments"] = given + [arg for arg in _KERNEL_ARGS if arg.split("=", 1)[0] not in keys]
            return await super().start_kernel(**kw)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(self._ipc_dir, ignore_errors=True)

    return IPCKernelManager


def _exit_code(km) -> int | None:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return None if process is None else process.poll()


def wait_ready(km, kc, timeout: float) -> None:
    """Return once the kernel of `km` answers kernel_info on `kc`; KernelStartError otherwise.

    Alive means: its process is running. Ready means: a kernel_info_reply on the shell channel
    and a message on IOPub (so that outputs are not lost). Polled once a second up to `timeout`.
    """
    deadline = time.monotonic() + timeout
    replied = False
    while True:
        code = _exit_code(km)
        if code is not None:
            raise KernelStartError(f"Nhân Python (kernel) đã dừng khi đang khởi động (mã thoát {code}). {_ADVICE}")
        kc.kernel_info()
        try:
            msg = kc.get_shell_msg(timeout=1)
            replied = replied or msg.get("msg_type") == "kernel_info_reply"
        except queue.Empty:
            pass
        if replied:
            try:
                kc.get_iopub_msg(timeout=0.5)
                return
            except queue.Empty:
                pass
        if time.monotonic() > deadline:
            raise KernelStartError(
                f"Nhân Python (kernel) không trả lời trong {timeout:g} giây sau khi khởi động "
                f"(máy đang quá bận?). {_ADVICE}"
            )


def warm_engine_name() -> str:
    """A papermill engine that runs a notebook on a kernel it was given and leaves it running."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    name = "dxreport-warm"
    if name in papermill_engines._engines:
        return name

    class Client(PapermillNotebookClient):
        reset = ""  # code run on the kernel before the notebook's cells (its own reply awaited)

        def papermill_execute_cells(self):
            if self.reset:
                msg_id = self.kc.execute(self.reset, silent=True, store_history=False, allow_stdin=False)
                reply = self.wait_for_reply(msg_id)
                if reply is None or reply["content"].get("status") != "ok":
                    content = (reply or {}).get("content", {})
                    raise KernelStartError(
                        f"Nhân Python (kernel) không đặt lại được: {content.get('evalue', 'không trả lời')}. {_ADVICE}"
                    )
            return super().papermill_execute_cells()

        def execute(self, **kwargs):
            given = self.kc  # the warm kernel's own client, which outlives this notebook
            try:
                return super().execute(**kwargs)
            finally:  # a client nbclient made for a kernel it does not own is closed here
                if self.kc is not None and self.kc is not given:
                    self.kc.stop_channels()
                self.kc = None

    class WarmEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            kwargs.pop("input_path", None)
            kc = kwargs.pop("kc", None)  # the warm kernel's client: no new one, no wait for it
            reset = kwargs.pop("reset", "")
            client = Client(
                nb_man,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            client.kc, client.reset = kc, reset
            return client.execute()

    papermill_engines.register(name, WarmEngine)
    return name


class WarmKernel:
    """A started kernel that a worker process reuses for successive report notebooks.

    A fresh kernel per report spends most of the report's time starting Python and importing
    pandas, matplotlib and dxreport. A worker keeps one kernel; before each notebook the user
    namespace is emptied (%reset -f) and the execution counter set back to 1, so the notebook
    finds its imports already loaded and nothing else. The kernel is replaced after WARM_REUSES
    notebooks, after any failure, and when it has died.
    """

    def __init__(self, start_timeout: float = 120, kernel_name: str = KERNEL, preload: str = _PRELOAD) -> None:
        self.preload = preload  # imported once as the kernel starts (default: what a report needs)
        self.km = None
        self.kc = None  # the client every notebook and reset of this kernel goes through
        self.uses = 0
        self.start_timeout = start_timeout
        self.kernel_name = kernel_name

    def start(self) -> WarmKernel:
        """Have a started kernel with the report's libraries loaded (a new one when the last is used up)."""
        from jupyter_core.utils import run_sync

        if self.km is not None and (self.uses >= WARM_REUSES or not run_sync(self.km.is_alive)()):
            self.discard()
        if self.km is None:
            km = kernel_manager_class()(kernel_name=self.kernel_name)
            self.km, self.uses = km, 0
            run_sync(km.start_kernel)(cwd=str(NOTEBOOKS_DIR))
            self._run(self.preload, start=True)
            self._connect()
        return self

    def _connect(self) -> None:
        """One client for the kernel's life, its channels connected once.

        A new client per notebook waits for its IOPub subscription to take (jupyter_client's
        wait_for_ready polls it every 0.2 s): about a fifth of a second per report, for nothing.
        """
        from jupyter_core.utils import run_sync

        kc = self.km.client()
        kc.start_channels()
        kc.allow_stdin = False  # a notebook that asks for input fails instead of waiting
        try:
            run_sync(kc.wait_for_ready)(timeout=self.start_timeout)
        except BaseException:
            kc.stop_channels()
            self.discard()
            raise
        self.kc = kc

    def acquire(self):
        """The kernel manager to run the next notebook on (its client: `kc`; the code that resets
        it before the notebook: `reset`, which the warm engine runs first)."""
        self.start()
        self.uses += 1
        return self.km

    reset = _RESET

    def _run(self, code: str, start: bool = False) -> None:
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=self.km.connection_file)
        kc.load_connection_file()
        kc.start_channels()
        kc.allow_stdin = False  # a notebook that asks for input fails instead of waiting
        try:
            if start:
                wait_ready(self.km, kc, self.start_timeout)
            reply = kc.execute_interactive(
                code, store_history=False, allow_stdin=False, timeout=self.start_timeout, output_hook=lambda msg: None
            )
        except TimeoutError as exc:
            self.discard()
            raise KernelStartError(
                f"Nhân Python (kernel) không chạy xong phần nạp sẵn trong {self.start_timeout:g} giây. {_ADVICE}"
            ) from exc
        except BaseException:
            self.discard()
            raise
        finally:
            kc.stop_channels()
        if reply["content"].get("status") != "ok":
            self.discard()
            raise KernelStartError(
                f"Nhân Python (kernel) không nạp được các thư viện của báo cáo: "
                f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}. {_ADVICE}"
            )

    def discard(self) -> None:
        """Shut the kernel down (the next acquire starts a new one)."""
        from jupyter_core.utils import run_sync

        km, self.km = self.km, None
        kc, self.kc = self.kc, None
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:  # noqa: BLE001 - already closed
                pass
        if km is not None:
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001 - already gone
                pass


_WARM: dict[str, WarmKernel] = {}


def worker_kernel(start_timeout: float) -> WarmKernel | None:
    """This worker process's WarmKernel; None outside worker processes (fresh kernels there)."""
    if multiprocessing.parent_process() is None:
        return None
    warm = _WARM.get("kernel")
    if warm is None:
        warm = _WARM["kernel"] = WarmKernel(start_timeout)
        multiprocessing.util.Finalize(warm, warm.discard, exitpriority=20)
    warm.start_timeout = start_timeout
    return warm
