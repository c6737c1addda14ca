"""The processes a run starts: marked, tied to their parent, and ended with the run.

Every process a run starts (pool workers, kernels, Chromium and their children) inherits the
environment variable DXREPORT_RUN, set by `mark_run` in the process that runs the month. Its
value names the owner: "<pid>:<start ticks>". So the run can find what it started, whatever
became of the parent chain, and end it (`end_run`); a later run finds what a killed run left
(`sweep_orphans`): marked processes whose owner is gone.

`die_with_parent` asks Linux to kill the calling process when its parent dies
(PR_SET_PDEATHSIG), so that workers and kernels stop at once when the run is killed with
SIGKILL instead of going on writing reports.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
from contextlib import contextmanager
from pathlib import Path

RUN_ENV = "DXREPORT_RUN"
#: Set in processes whose parent is a long-lived thread (the runner, its pool workers): their
#: kernels may tie themselves to it. Dask runs tasks in threads that may end, so it is not set there.
TIE_ENV = "DXREPORT_TIE_TO_PARENT"
_PR_SET_PDEATHSIG = 1
_PROC = Path("/proc")

log = logging.getLogger("dxreport.procs")


def start_ticks(pid: int) -> int | None:
    """The start time of process `pid` in clock ticks since boot (None if it is gone)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: fields start after the last ')'
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])


def run_id(pid: int | None = None) -> str:
    """The mark of a run owned by process `pid` (this one by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}:{start_ticks(pid) or 0}"


def owner_alive(mark: str) -> bool:
    """Whether the process that owns `mark` is still the same running process."""
    try:
        pid_text, ticks = mark.split(":", 1)
        pid = int(pid_text)
    except ValueError:
        return False
    current = start_ticks(pid)
    return current is not None and str(current) == ticks


def marked_processes() -> dict[int, str]:
    """Every process on this machine that carries a run mark, pid -> mark (not this process)."""
    found = {}
    me = os.getpid()
    needle = f"{RUN_ENV}=".encode()
    for entry in _PROC.iterdir() if _PROC.is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        for item in environ.split(b"\0"):
            if item.startswith(needle):
                found[int(entry.name)] = item[len(needle) :].decode(errors="replace")
                break
    return found


def _kill(pids: list[int]) -> list[int]:
    killed = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except (ProcessLookupError, PermissionError):
            continue
    return killed


def end_run(mark: str) -> list[int]:
    """Kill every process still running with `mark`; returns their pids."""
    return _kill(sorted(pid for pid, m in marked_processes().items() if m == mark))


def sweep_orphans() -> list[int]:
    """Kill the processes of runs whose owner is gone (a run killed with SIGKILL); returns their pids."""
    marks = marked_processes()
    dead = {m for m in set(marks.values()) if not owner_alive(m)}
    return _kill(sorted(pid for pid, m in marks.items() if m in dead))


@contextmanager
def mark_run():
    """Mark this process as a run's owner for the duration; end what it started on the way out.

    Yields the mark. Processes started inside inherit it. On exit every process still carrying
    it is killed (the orderly shutdown of workers, kernels and browsers comes first; this is the
    guarantee that none outlives the run). A mark already set (a run inside a run) is kept.
    """
    inherited = os.environ.get(RUN_ENV)
    if inherited:
        yield inherited
        return
    mark = run_id()
    # multiprocessing's resource tracker lives as long as this process: it must not carry the mark
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    previous_tie = os.environ.get(TIE_ENV)
    os.environ[RUN_ENV] = mark
    os.environ[TIE_ENV] = "1"
    try:
        yield mark
    finally:
        os.environ.pop(RUN_ENV, None)
        if previous_tie is None:
            os.environ.pop(TIE_ENV, None)
        else:
            os.environ[TIE_ENV] = previous_tie
        left = end_run(mark)
        if left:
            log.info("ended %d process(es) left by the run: %s", len(left), ", ".join(map(str, left)))


def die_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that is not possible.

    If the parent is already gone (the call came too late), the process exits at once.
    """
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    expected = os.environ.get("JPY_PARENT_PID")
    if parent == 1 or (expected and expected.isdigit() and int(expected) != parent):
        os._exit(1)
    return True


def worker_init() -> None:
    """Initializer of the runner's pool processes: tied to the runner, their kernels tied to them."""
    die_with_parent()
    os.environ[TIE_ENV] = "1"


def kernel_init() -> None:
    """Run in a kernel as it starts: tie it to the process that started it, when that is safe."""
    if os.environ.get(TIE_ENV) == "1":
        die_with_parent()
