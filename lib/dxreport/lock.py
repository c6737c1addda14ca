"""One run per outputs folder at a time.

The lock is `outputs/.dxreport.lock`, held with flock(2) for the life of the run: the kernel
releases it when the holder exits in any way, SIGKILL included, so a lock left by a killed run
is never in the way (it is stale, and the next run takes it over). The file also records who
holds it (process id, start time, command), which is what a second run reports.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

LOCK_NAME = ".dxreport.lock"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class LockBusy(RuntimeError):
    """Another run holds the outputs folder."""

    def __init__(self, path: Path, holder: dict) -> None:
        self.path, self.holder = path, holder
        started = holder.get("started", "")
        try:
            when = datetime.fromisoformat(started).strftime("%H:%M:%S ngày %d/%m/%Y")
        except ValueError:
            when = "không rõ thời điểm"
        super().__init__(
            f"Thư mục kết quả {path.parent} đang được một lần chạy khác dùng (tiến trình {holder.get('pid', '?')} "
            f"trên máy {holder.get('host', '?')}, bắt đầu lúc {when}); hãy đợi lần chạy đó xong rồi chạy lại."
        )


def _read_holder(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return json.loads(os.read(fd, 65536).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def hold(outputs: Path, *, wait: float = 0.0, what: str = "run"):
    """Hold the lock of `outputs` for the duration; LockBusy if another run holds it.

    `wait`: seconds to wait for the other run to finish before giving up (0: refuse at once).
    Yields the previous holder's record when the lock was stale (left by a run that was
    killed), else an empty dict.
    """
    path = Path(outputs) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise LockBusy(path, _read_holder(fd)) from None
                time.sleep(0.2)
        stale = _read_holder(fd)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "what": what,
            "started": datetime.now(TZ).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv[:6]),
        }
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(record, ensure_ascii=False).encode("utf-8"))
        try:
            yield stale if stale.get("pid") else {}
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
