"""Checks before a run does any work: a writable outputs folder, free space, a sound warehouse.

Each problem is one Vietnamese sentence (PreflightError) or, for a damaged warehouse, a repair:
the damaged file is moved aside and the month steps build the warehouse again from the
submissions and params/, which are never touched.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

log = logging.getLogger("dxreport.preflight")

#: errno values meaning "the disk is full".
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
#: errno values meaning "this folder cannot be written".
NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


class PreflightError(RuntimeError):
    """The run cannot start or go on: one sentence says why and what to do."""


def human_bytes(count: int) -> str:
    """A size in Vietnamese units with one decimal (12,5 MB)."""
    value = float(count)
    for unit in ("byte", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            text = f"{value:.0f}" if unit == "byte" else f"{value:.1f}".replace(".", ",")
            return f"{text} {unit}"
        value /= 1024
    return f"{count} byte"


def free_space(path: Path) -> str:
    """The free space of the file system holding `path`, in words."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return human_bytes(shutil.disk_usage(probe).free)
    except OSError:
        return "không rõ"


def disk_full_message(folder: Path) -> str:
    """The sentence for a write that failed because the disk is full."""
    return (
        f"Hết chỗ trống trên đĩa khi ghi vào {folder} (còn trống {free_space(folder)}); các kết quả đã công bố "
        f"trước đó được giữ nguyên. Hãy giải phóng chỗ trống rồi chạy lại."
    )


def explain_os_error(exc: OSError, folder: Path) -> str | None:
    """One sentence for a full disk or an unwritable folder; None for other errors."""
    if exc.errno in DISK_FULL:
        return disk_full_message(folder)
    if exc.errno in NOT_WRITABLE:
        return (
            f"Không ghi được vào thư mục {folder}: thư mục chỉ đọc hoặc không có quyền ghi. "
            f"Hãy cấp quyền ghi hoặc chọn thư mục khác bằng --outputs."
        )
    return None


def check_outputs(outputs: Path) -> None:
    """The outputs folder exists or can be made, and a file can be written in it; PreflightError if not."""
    outputs = Path(outputs)
    try:
        outputs.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".dxreport-probe-", dir=outputs)
        try:
            os.write(fd, b"dxreport")
        finally:
            os.close(fd)
            os.unlink(name)
    except OSError as exc:
        log.info("outputs check failed: %r", exc)
        message = explain_os_error(exc, outputs)
        raise PreflightError(message or f"Không dùng được thư mục kết quả {outputs}: {exc.strerror or exc}.") from exc


def _scan(con) -> None:
    """Read every column of every table, so that every block's checksum is verified."""
    tables = [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    ]
    for table in tables:
        cols = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "AND table_schema = current_schema()",
                [table],
            ).fetchall()
        ]
        parts = ", ".join(f'bit_xor(hash("{c}"))' for c in cols) or "0"
        con.execute(f'SELECT count(*), {parts} FROM "{table}"').fetchall()


def check_warehouse(path: Path) -> str | None:
    """Verify the warehouse file; if it is damaged, move it aside and return what was done.

    Returns None for a sound warehouse (or none at all). For a damaged one (unreadable, not a
    DuckDB file, truncated, a block whose checksum does not match) the file and its WAL are
    renamed `<name>.hong-<time>.duckdb`, the English error goes to the log, and the returned
    sentence says that the warehouse will be built again from the submissions.
    """
    import duckdb

    path = Path(path)
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            _scan(con)
        finally:
            con.close()
        return None
    except duckdb.Error as exc:
        original = f"{type(exc).__name__}: {exc}"
    kept = path.with_name(f"{path.stem}.hong-{datetime.now():%Y%m%d-%H%M%S}{path.suffix}")
    path.rename(kept)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.rename(kept.with_name(kept.name + ".wal"))
    log.warning("warehouse %s is damaged (%s); moved to %s and rebuilt", path, original, kept)
    return (
        f"Kho dữ liệu {path.name} bị hỏng nên không đọc được; tệp hỏng được giữ lại ở {kept.name} và kho dữ liệu "
        f"được lập lại từ các tệp báo cáo đã nhận và params/."
    )
