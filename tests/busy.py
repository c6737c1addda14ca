"""A machine made busy on purpose: busy-loop processes on every core for the length of a test."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager

#: Busy-loop processes per core: more runnable processes than cores, as on a shared office server.
PER_CORE = 4
# Each loop ends by itself after this many seconds, whatever happens to the test.
LIMIT = 900


@contextmanager
def saturated(per_core: int = PER_CORE, limit: int = LIMIT):
    """Keep every core busy with `per_core` spinning processes per core while the block runs."""
    code = f"import time\nend = time.monotonic() + {limit}\nwhile time.monotonic() < end:\n    pass\n"
    loops = [
        subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)
        for _ in range(per_core * (os.cpu_count() or 1))
    ]
    try:
        yield len(loops)
    finally:
        for proc in loops:
            proc.kill()
        for proc in loops:
            proc.wait()


def load_average() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]
