"""One run per outputs folder: a second one is refused in one sentence; a killed holder's lock is stale."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from dxreport import lock

HOLD = (
    "import sys, time\nsys.path.insert(0, sys.argv[1])\nfrom dxreport import lock\n"
    "with lock.hold(sys.argv[2]):\n    open(sys.argv[3], 'w').write('held')\n    time.sleep(120)\n"
)


def _holder(tmp_path):
    lib = str(lock.__file__).rsplit("/dxreport/", 1)[0]
    flag = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, lib, str(tmp_path), str(flag)])
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert time.monotonic() < deadline and proc.poll() is None, "the holder did not start"
        time.sleep(0.05)
    return proc


def test_a_second_run_is_refused_naming_the_holder(tmp_path):
    holder = _holder(tmp_path)
    try:
        with pytest.raises(lock.LockBusy) as caught:
            with lock.hold(tmp_path):
                pass
        message = str(caught.value)
        assert f"tiến trình {holder.pid}" in message
        assert message.startswith(f"Thư mục kết quả {tmp_path} đang được một lần chạy khác dùng")
        assert message.endswith("hãy đợi lần chạy đó xong rồi chạy lại.") and message.count(".") <= 2
    finally:
        holder.kill()
        holder.wait()


def test_a_second_run_that_waits_gets_the_lock_when_the_first_ends(tmp_path):
    holder = _holder(tmp_path)
    subprocess.Popen([sys.executable, "-c", f"import os, time, signal; time.sleep(1); os.kill({holder.pid}, 15)"])
    started = time.monotonic()
    with lock.hold(tmp_path, wait=60) as stale:
        assert time.monotonic() - started >= 0.5
        assert stale["pid"] == holder.pid  # ended by a signal: its record was left behind
    holder.wait()


def test_the_lock_of_a_killed_run_is_taken_over_and_reported_stale(tmp_path):
    holder = _holder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with lock.hold(tmp_path) as stale:
        assert stale["pid"] == holder.pid
        record = json.loads((tmp_path / lock.LOCK_NAME).read_text(encoding="utf-8"))
        assert record["pid"] != holder.pid
    # released in order: the next holder finds no stale record
    with lock.hold(tmp_path) as stale:
        assert stale == {}
