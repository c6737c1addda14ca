"""Processes a run starts carry its mark, die with their parent, and never outlive the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from dxreport import procs


def _gone(pid: int, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if procs.start_ticks(pid) is None:
            return True
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        except ChildProcessError:
            pass
        if procs.start_ticks(pid) is None:
            return True
        time.sleep(0.1)
    return False


def test_a_process_started_during_the_run_carries_its_mark_and_ends_with_it():
    with procs.mark_run() as mark:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        time.sleep(0.3)
        assert procs.marked_processes().get(child.pid) == mark
        assert mark == f"{os.getpid()}:{procs.start_ticks(os.getpid())}"
    assert child.wait(timeout=15) == -signal.SIGKILL
    assert procs.RUN_ENV not in os.environ


def test_orphans_of_a_killed_run_are_swept_and_those_of_a_live_run_are_not():
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    dead_mark = f"{owner.pid}:{procs.start_ticks(owner.pid)}"
    owner.wait()
    live_mark = procs.run_id()
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    orphan = subprocess.Popen(sleeper, env={**os.environ, procs.RUN_ENV: dead_mark})
    alive = subprocess.Popen(sleeper, env={**os.environ, procs.RUN_ENV: live_mark})
    try:
        time.sleep(0.3)
        swept = procs.sweep_orphans()
        assert orphan.pid in swept and alive.pid not in swept
        assert orphan.wait(timeout=15) == -signal.SIGKILL
        assert alive.poll() is None
    finally:
        alive.kill()
        orphan.kill()
        alive.wait()


def test_a_pid_reused_by_another_process_is_not_the_owner():
    assert procs.owner_alive(procs.run_id())
    assert not procs.owner_alive(f"{os.getpid()}:1")  # same pid, another start time
    assert not procs.owner_alive("not-a-mark")


def test_a_child_tied_to_its_parent_dies_when_the_parent_is_killed(tmp_path):
    pid_file = tmp_path / "child.pid"
    child_code = (
        "import os, sys, time\nsys.path.insert(0, sys.argv[1])\nfrom dxreport import procs\n"
        "procs.die_with_parent()\nopen(sys.argv[2], 'w').write(str(os.getpid()))\ntime.sleep(120)\n"
    )
    parent_code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {child_code!r}, sys.argv[1], sys.argv[2]])\n"
        "time.sleep(120)\n"
    )
    lib = str(procs.__file__).rsplit("/dxreport/", 1)[0]
    parent = subprocess.Popen([sys.executable, "-c", parent_code, lib, str(pid_file)])
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.1)
    child = int(pid_file.read_text())
    assert procs.start_ticks(child) is not None
    parent.kill()
    parent.wait()
    assert _gone(child)
