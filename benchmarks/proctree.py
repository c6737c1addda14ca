"""Peak memory (RSS) of a process tree, sampled every 0.2 s, and the load average around a run.

    with TreeSampler(pid) as sampler:   # pid: the process whose descendants are measured
        ...
    sampler.summary()                   # max RSS per process and per kind of process

Processes are sorted into kinds by their command line: the root, report workers (spawned
multiprocessing or Dask worker processes), Jupyter kernels (those of the root, for the month
steps, and those of the workers, for the reports), Chromium (every process of its tree), and
other. Uses psutil when it is installed, /proc otherwise (Linux).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from pathlib import Path

try:
    import psutil
except ImportError:  # pragma: no cover - the /proc way
    psutil = None

MIB = 1024 * 1024
KINDS = ("root", "worker", "kernel (month steps)", "kernel (reports)", "chromium", "other")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded to 0.01."""
    return [round(x, 2) for x in os.getloadavg()]


def _proc_children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(x) for x in task.read_text().split()]
        except (OSError, ValueError):
            pass
    return out


def _proc_rss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _proc_cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _tree(root: int) -> dict[int, int]:
    """Every descendant of `root` (and root itself): pid -> parent pid."""
    if psutil is not None:
        try:
            proc = psutil.Process(root)
            return {root: proc.ppid(), **{c.pid: c.ppid() for c in proc.children(recursive=True)}}
        except psutil.Error:
            return {}
    tree, todo = {root: 0}, [root]
    while todo:
        pid = todo.pop()
        for child in _proc_children(pid):
            tree[child] = pid
            todo.append(child)
    return tree


def _rss(pid: int) -> int | None:
    if psutil is not None:
        try:
            return psutil.Process(pid).memory_info().rss
        except psutil.Error:
            return None
    return _proc_rss(pid)


def _cmdline(pid: int) -> list[str]:
    if psutil is not None:
        try:
            return psutil.Process(pid).cmdline()
        except psutil.Error:
            return []
    return _proc_cmdline(pid)


def classify(cmdline: list[str], is_root: bool, parent_kind: str | None) -> str:
    """The kind of a process (one of KINDS) from its command line and its parent's kind."""
    text = " ".join(cmdline)
    exe = os.path.basename(cmdline[0]) if cmdline else ""
    if exe in ("sh", "bash", "dash") and len(cmdline) > 1:  # a wrapper script (Debian's /usr/bin/chromium)
        exe = os.path.basename(cmdline[1])
    if is_root:
        return "root"
    if parent_kind == "chromium" or "chrom" in exe or "headless_shell" in exe:
        return "chromium"
    if "ipykernel" in text:
        return "kernel (month steps)" if parent_kind == "root" else "kernel (reports)"
    if "spawn_main" in text or "distributed" in text or "dask" in exe:
        return "worker"
    return "other"


class TreeSampler:
    """Samples the RSS of every process under `root` in a thread, every `interval` seconds."""

    def __init__(self, root: int | None = None, interval: float = 0.2) -> None:
        self.root = os.getpid() if root is None else root
        self.interval = interval
        self.peak: dict[int, int] = {}
        self.kind: dict[int, str] = {}
        self.peak_sum: dict[str, int] = {}
        self.instance_peak: dict[int, int] = {}  # the peak RSS of each Chromium tree, by its first process
        self.command: dict[int, str] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> TreeSampler:
        self._stop.set()
        self._thread.join()
        return self

    def __enter__(self) -> TreeSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sample(self) -> None:
        """One sample of the tree."""
        tree = _tree(self.root)
        # parents before children, so that a child's kind can follow its parent's
        order = sorted(tree, key=lambda pid: (pid != self.root, self._depth(pid, tree)))
        sums: dict[str, int] = {}
        instances: dict[int, int] = {}
        for pid in order:
            cmdline = _cmdline(pid)
            command = " ".join(cmdline)[:160]
            if pid not in self.kind or (cmdline and command != self.command[pid]):  # forked, then exec'ed
                self.kind[pid] = classify(cmdline, pid == self.root, self.kind.get(tree[pid]))
                self.command[pid] = command
            rss = _rss(pid)
            if rss is None:
                continue
            self.peak[pid] = max(self.peak.get(pid, 0), rss)
            sums[self.kind[pid]] = sums.get(self.kind[pid], 0) + rss
            if self.kind[pid] == "chromium":
                top = pid
                while self.kind.get(tree.get(top)) == "chromium":
                    top = tree[top]
                instances[top] = instances.get(top, 0) + rss
        for kind, total in sums.items():
            self.peak_sum[kind] = max(self.peak_sum.get(kind, 0), total)
        for top, total in instances.items():
            self.instance_peak[top] = max(self.instance_peak.get(top, 0), total)
        self.samples += 1

    def _depth(self, pid: int, tree: dict[int, int]) -> int:
        depth = 0
        while pid in tree and pid != self.root and depth < 50:
            pid = tree[pid]
            depth += 1
        return depth

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def summary(self) -> dict:
        """Per kind: processes seen, the largest and median peak RSS of one process, the peak of their sum (MiB)."""
        out = {}
        for kind in KINDS:
            peaks = [self.peak[p] / MIB for p, k in self.kind.items() if k == kind and p in self.peak]
            if peaks:
                out[kind] = {
                    "processes": len(peaks),
                    "max_mib": round(max(peaks), 1),
                    "median_mib": round(statistics.median(peaks), 1),
                    "peak_sum_mib": round(self.peak_sum.get(kind, 0) / MIB, 1),
                    "per_process_mib": sorted(round(p, 1) for p in peaks),
                }
        if self.instance_peak:
            out["chromium"]["per_instance_mib"] = sorted(round(v / MIB, 1) for v in self.instance_peak.values())
        other = [self.command[p] for p, k in self.kind.items() if k == "other"]
        if other:
            out["other"]["commands"] = other
        out["samples"] = self.samples
        return out


def memory_rows(summary: dict, label: str = "") -> list[str]:
    """Markdown table rows (kind | processes | max per process | median per process | peak of the sum)."""
    rows = []
    for kind in KINDS:
        s = summary.get(kind)
        if s:
            rows.append(
                f"| {label}{kind} | {s['processes']} | {s['max_mib']:.0f} | {s['median_mib']:.0f} | "
                f"{s['peak_sum_mib']:.0f} |"
            )
    instances = summary.get("chromium", {}).get("per_instance_mib")
    if instances:
        rows.append(
            f"| {label}one Chromium with its child processes (largest of {len(instances)}) | "
            f"{len(instances)} | {max(instances):.0f} | {sorted(instances)[len(instances) // 2]:.0f} | |"
        )
    return rows


#: RSS counts shared pages in every process that maps them: sums over processes overstate.
MEMORY_HEADER = (
    "| processes | count | max RSS of one (MiB) | median RSS of one (MiB) | peak RSS of all together (MiB) |\n"
    "|---|---|---|---|---|"
)


def run_sampled(cmd: list[str], interval: float = 0.2, **kw) -> tuple[float, dict, list[float], list[float]]:
    """Run `cmd`, sampling its process tree; (wall seconds, memory summary, load at start, at end).

    Fails loudly (SystemExit with the end of stderr) when the command fails.
    """
    import subprocess

    load_start = load_average()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    with TreeSampler(proc.pid, interval) as sampler:
        _, stderr = proc.communicate()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{stderr[-3000:]}")
    return seconds, sampler.summary(), load_start, load_average()
