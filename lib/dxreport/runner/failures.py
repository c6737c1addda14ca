"""Failures of a run: infrastructure or data, a full disk, and the sentence a user reads."""

from __future__ import annotations

import concurrent.futures as cf
import re

from dxreport import preflight


_KERNEL_START = re.compile(r"kernel didn't respond|kernel died before replying|kernel.{0,40}failed to start", re.I)
_INFRA_NAMES = frozenset({"DeadKernelError", "BrokenProcessPool", "BrokenExecutor", "KilledWorker", "KernelStartError"})


def is_infrastructure_failure(exc: BaseException) -> bool:
    """True for failures of the machinery, not of the data: worth running the same task again.

    A dead kernel (nbclient's DeadKernelError), a kernel that did not start in time
    (kernels.KernelStartError, or jupyter_client's "Kernel didn't respond in N seconds"), a
    worker process that died (BrokenProcessPool, Dask's KilledWorker). An error raised by a cell
    (PapermillExecutionError) is a data error: running it again gives the same error.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "PapermillExecutionError" in names:
        return False
    if names & _INFRA_NAMES or isinstance(exc, cf.BrokenExecutor):
        return True
    return isinstance(exc, (RuntimeError, TimeoutError)) and bool(_KERNEL_START.search(str(exc)))


_DISK_FULL_TEXT = re.compile(r"\[Errno (28|122)\]|No space left on device|Disk quota exceeded", re.I)


def is_disk_full(exc: BaseException) -> bool:
    """True when `exc` says the disk is full, raised here or by a cell of the notebook."""
    if isinstance(exc, OSError) and exc.errno in preflight.DISK_FULL:
        return True
    text = f"{getattr(exc, 'evalue', '')} {exc}"
    return bool(_DISK_FULL_TEXT.search(text))


def user_error(exc: BaseException) -> str:
    """The sentence a user reads for `exc`, in Vietnamese (callers log the English original)."""
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        return f"{getattr(exc, 'ename', name)}: {getattr(exc, 'evalue', '')} (ô {getattr(exc, 'exec_count', '?')})"
    if type(exc).__module__.startswith("dxreport."):
        return str(exc)  # dxreport's own errors are written in Vietnamese
    if name == "DeadKernelError":
        return (
            "Nhân Python (kernel) dừng đột ngột khi đang chạy sổ tay (thường do thiếu bộ nhớ hoặc bị dừng từ "
            "bên ngoài); hãy chạy lại, hoặc giảm số tiến trình bằng --workers 1."
        )
    if isinstance(exc, (RuntimeError, TimeoutError)) and _KERNEL_START.search(str(exc)):
        return (
            "Nhân Python (kernel) không khởi động được. Hãy thử: chạy lại khi máy bớt bận, giảm số tiến trình "
            "(--workers 1), hoặc tăng run.kernel_start_timeout trong params/settings.yaml."
        )
    if name in ("BrokenProcessPool", "BrokenExecutor") or isinstance(exc, cf.BrokenExecutor):
        return "Một tiến trình lập báo cáo bị dừng đột ngột (thiếu bộ nhớ hoặc bị dừng từ bên ngoài)."
    if name == "KilledWorker":
        return "Một máy làm việc của cụm Dask bị dừng khi đang lập báo cáo."
    if name == "CellTimeoutError":
        return "Một ô của sổ tay chạy quá run.cell_timeout giây (params/settings.yaml) và bị dừng."
    if is_disk_full(exc):
        return "Hết chỗ trống trên đĩa."
    return f"{name}: {exc}"
