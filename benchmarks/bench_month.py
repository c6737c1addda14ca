"""Benchmarks 1 and 2: the province month against the plain way, reruns and a resubmission.

1. The whole month (month steps 01–03, then the province report and every unit's report, HTML
   and PDF) with `dxreport run`, against the plain way in the same run: a papermill CLI call
   per notebook, then `jupyter nbconvert --to html --no-input` and `chromium --print-to-pdf` per
   report, one after another. Both start from an empty outputs folder; the runs alternate.
2. `dxreport run` again with nothing changed, and after one unit resends its file (a copy with
   a later `Ngày lập` in a test inbox): the time, and which steps ran.

Both ways run offline (the catalogs from the last good snapshot) unless --online.

    .venv/bin/python benchmarks/bench_month.py                  # 3 runs each way
    .venv/bin/python benchmarks/bench_month.py --repeat 1 --plain-repeat 1
    .venv/bin/python benchmarks/bench_month.py --skip-plain --unit snv --json /tmp/month.json
    .venv/bin/python benchmarks/bench_month.py --skip-plain --scheduler local --workers 2

`--scheduler local --workers N` renders the reports of `dxreport run` on a Dask LocalCluster of
N workers. Every `dxreport run` from an empty folder is sampled every 0.2 s for the memory (RSS)
of its process tree: the CLI process, each report worker, the kernels and Chromium (proctree.py).
The child processes see this checkout's lib/ (PYTHONPATH). Each run records the load average
at its start and end.

Prints Markdown tables (medians) and the machine; --json keeps every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctree import MEMORY_HEADER, load_average, memory_rows, run_sampled  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOKS = ROOT / "notebooks"
#: The environment of every child process: this checkout's lib/ first.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "lib"), os.environ.get("PYTHONPATH")]))}
# This process, and what it starts (pool and Dask workers, kernels), import dxreport from this checkout.
os.environ["PYTHONPATH"] = ENV["PYTHONPATH"]
sys.path.insert(0, str(ROOT / "lib"))


def machine() -> dict:
    """The machine and the versions that the figures depend on."""
    import importlib.metadata as md

    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    memory = ""
    try:
        kb = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    chromium = shutil.which("chromium") or ""
    version = ""
    if chromium:
        out = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip()
        version = out.splitlines()[-1] if out else ""
    packages = {}
    for name in (
        "dxreport",
        "papermill",
        "nbconvert",
        "nbclient",
        "jupyter_client",
        "ipykernel",
        "pandas",
        "duckdb",
        "matplotlib",
        "openpyxl",
        "dask",
        "distributed",
    ):
        try:
            packages[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(),
        "chromium": version,
        "load_average": os.getloadavg(),
        "packages": packages,
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run(cmd: list[str], **kw) -> float:
    """Run a command, fail loudly, return its wall time."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def units(month: str) -> list[str]:
    from dxreport.units import load_registry

    return ["tinh"] + [u.code for u in load_registry().reporting_units(month)]


OFFLINE = True  # the catalogs from the last good snapshot: no network in the timings (--online)
SCHEDULER: str | None = None  # --scheduler: None for the process pool, "local" for a Dask LocalCluster


def _ours_cmd(month: str, outputs: Path, workers: int | None, extra: tuple[str, ...]) -> list[str]:
    cmd = [str(BIN / "dxreport"), "run", "--month", month, "--outputs", str(outputs), "--quiet", *extra]
    if OFFLINE:
        cmd.append("--offline")
    if workers:
        cmd += ["--workers", str(workers)]
    if SCHEDULER:
        cmd += ["--scheduler", SCHEDULER]
    return cmd


def ours(month: str, outputs: Path, workers: int | None, extra: tuple[str, ...] = ()) -> tuple[float, dict]:
    """`dxreport run` once: (wall seconds of the CLI process, its manifest)."""
    seconds = run(_ours_cmd(month, outputs, workers, extra))
    manifest = json.loads((outputs / month / "manifest.json").read_text(encoding="utf-8"))
    return seconds, manifest


def ours_sampled(month: str, outputs: Path, workers: int | None, extra: tuple[str, ...] = ()) -> dict:
    """`dxreport run` once with its process tree sampled: wall time, load, memory, manifest steps."""
    seconds, memory, load_start, load_end = run_sampled(_ours_cmd(month, outputs, workers, extra), env=ENV)
    manifest = json.loads((outputs / month / "manifest.json").read_text(encoding="utf-8"))
    assert not manifest["failed"], manifest["failed"]
    reports = [s["seconds"] for s in manifest["steps"] if s["unit"] and s["status"] == "ok"]
    return {
        "seconds": seconds,
        "load_start": load_start,
        "load_end": load_end,
        "steps": {s["name"]: s["seconds"] for s in manifest["steps"] if s["unit"] is None},
        "report_tasks": reports,
        "report_task_median": median(reports),
        "memory": memory,
    }


def plain(month: str, outputs: Path, codes: list[str]) -> dict:
    """The plain way: one CLI call per notebook, per HTML, per PDF, one after another."""
    load_start = load_average()
    t0 = time.perf_counter()
    params = ["-p", "month", month, "-p", "outputs", str(outputs)]
    nb_dir = outputs / month / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    for step in ("01_scrape", "02_clean", "03_analyse"):
        offline = ["-p", "offline", "True"] if OFFLINE and step == "01_scrape" else []
        run(
            [
                str(BIN / "papermill"),
                str(NOTEBOOKS / f"{step}.ipynb"),
                str(nb_dir / f"{step}.ipynb"),
                "-p",
                "unit",
                "tinh",
                *params,
                *offline,
                "--cwd",
                str(NOTEBOOKS),
                "--no-progress-bar",
            ]
        )
    month_steps = time.perf_counter() - t0
    profile = Path(tempfile.mkdtemp(prefix="bench-chromium-"))
    per = {"papermill": [], "nbconvert": [], "chromium": []}
    try:
        for code in codes:
            unit_dir = outputs / month / code
            unit_dir.mkdir(parents=True, exist_ok=True)
            nb = unit_dir / "04_report.ipynb"
            per["papermill"].append(
                run(
                    [
                        str(BIN / "papermill"),
                        str(NOTEBOOKS / "04_report.ipynb"),
                        str(nb),
                        "-p",
                        "unit",
                        code,
                        *params,
                        "--cwd",
                        str(NOTEBOOKS),
                        "--no-progress-bar",
                    ]
                )
            )
            per["nbconvert"].append(
                run(
                    [
                        str(BIN / "jupyter"),
                        "nbconvert",
                        "--to",
                        "html",
                        "--no-input",
                        str(nb),
                        "--output-dir",
                        str(unit_dir),
                        "--output",
                        "report",
                    ]
                )
            )
            per["chromium"].append(
                run(
                    [
                        "chromium",
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--no-pdf-header-footer",
                        f"--user-data-dir={profile}",
                        f"--print-to-pdf={unit_dir / 'report.pdf'}",
                        (unit_dir / "report.html").as_uri(),
                    ]
                )
            )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return {
        "seconds": time.perf_counter() - t0,
        "month_steps": month_steps,
        "per_report": {k: median(v) for k, v in per.items()},
        "load_start": load_start,
        "load_end": load_average(),
    }


def resubmit(source: Path, target: Path, days: int = 1) -> None:
    """A copy of `source` whose `Ngày lập` is `days` later: the unit resends its file."""
    import openpyxl

    from dxreport.textnorm import fold

    wb = openpyxl.load_workbook(source)
    ws = wb["Thông tin"]
    for row in ws.iter_rows():
        if row[0].value is not None and fold(str(row[0].value)) == fold("Ngày lập"):
            cell = row[1]
            value = cell.value
            if isinstance(value, dt.datetime | dt.date):
                cell.value = value + dt.timedelta(days=days)
            else:
                day = dt.datetime.strptime(str(value).strip(), "%d/%m/%Y") + dt.timedelta(days=days)
                cell.value = day.strftime("%d/%m/%Y")
            break
    else:
        raise SystemExit(f"{source}: no 'Ngày lập' in sheet 'Thông tin'")
    wb.save(target)


def ran(manifest: dict) -> list[str]:
    return [s["name"] + (f" {s['unit']}" if s["unit"] else "") for s in manifest["steps"] if s["status"] == "ok"]


def _load(pair: list[float] | None) -> str:
    return f"{pair[0]:.1f}" if pair else "?"


def _runs(values: list[float], digits: int = 1) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def print_tables(out: dict, month: str, reports: int) -> None:
    """The Markdown tables of a bench_month run (medians; every run in brackets)."""
    ours_m = median(out["ours"])
    plain_m = median([p["seconds"] for p in out["plain"]])
    where = out["scheduler"] + (f", {out['workers']} workers" if out["workers"] else "")
    m = out["machine"]
    print(f"\n## Month {month}: {reports} reports (HTML + PDF), medians\n")
    print(
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory']}, Python {m['python']}, {m['chromium']}, "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
        + f"; {m['date']}. Reports rendered on: {where}. Load average (1 min) at the start / end of the "
        f"benchmark: {_load(m['load_average'])} / {_load(out.get('load_end'))}.\n"
    )
    print("| measure | runs | median (s) | every run (s) | load average at start → end of each run |")
    print("|---|---|---|---|---|")
    loads = "; ".join(f"{_load(r['load_start'])} → {_load(r['load_end'])}" for r in out["runs"])
    print(
        f"| `dxreport run` from an empty outputs folder | {len(out['ours'])} | {ours_m:.1f} | {_runs(out['ours'])} | {loads} |"
    )
    if out["plain"]:
        per = out["plain"][-1]["per_report"]
        loads = "; ".join(f"{_load(p['load_start'])} → {_load(p['load_end'])}" for p in out["plain"])
        every = _runs([p["seconds"] for p in out["plain"]])
        print(
            f"| plain way (papermill, nbconvert, chromium CLI per report) | {len(out['plain'])} | {plain_m:.1f} | {every} | {loads} |"
        )
        print(f"| **ratio plain / dxreport** | | **{plain_m / ours_m:.1f}×** | | |")
        print(f"| plain: month steps 01–03 | | {median([p['month_steps'] for p in out['plain']]):.1f} | | |")
        print(
            f"| plain: per report papermill / nbconvert / chromium (last run) | | {per['papermill']:.2f} / "
            f"{per['nbconvert']:.2f} / {per['chromium']:.2f} | | |"
        )
    for name in ("01_scrape", "02_clean", "03_analyse"):
        values = [r["steps"][name] for r in out["runs"] if name in r["steps"]]
        if values:
            print(f"| dxreport: {name} (manifest) | {len(values)} | {median(values):.2f} | {_runs(values, 2)} | |")
    tasks = [r["report_task_median"] for r in out["runs"]]
    if tasks:
        print(
            f"| dxreport: one report task in a worker (manifest, median of the run's reports) | {len(tasks)} | {median(tasks):.2f} | {_runs(tasks, 2)} | |"
        )
    if out["rerun"]:
        loads = "; ".join(f"{_load(r['start'])} → {_load(r['end'])}" for r in out["rerun_load"])
        print(
            f"| rerun, nothing changed (wall time of the `dxreport run` process) | {len(out['rerun'])} | {median(out['rerun']):.2f} | {_runs(out['rerun'], 2)} | {loads} |"
        )
    if "resubmit" in out:
        r = out["resubmit"]
        print(
            f"| one unit ({r['unit']}) resends its file | 1 | {r['seconds']:.1f} | | {_load(r['load_start'])} → {_load(r['load_end'])} |"
        )
        print(f"\nRan after the resubmission: {', '.join(r['ran'])}")
    if out["runs"]:
        last = out["runs"][-1]["memory"]
        print(f"\n### Peak memory (RSS) of `dxreport run`, last run, sampled every 0.2 s ({last['samples']} samples)\n")
        print(MEMORY_HEADER)
        print("\n".join(memory_rows(last)))
        workers = last.get("worker", {}).get("per_process_mib", [])
        if workers:
            print(f"\nPeak RSS of each report worker (MiB): {', '.join(f'{w:.0f}' for w in workers)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--month", default="2022-12")
    ap.add_argument("--repeat", type=int, default=3, help="runs of dxreport run (default 3)")
    ap.add_argument("--plain-repeat", type=int, default=3, help="runs of the plain way (default 3)")
    ap.add_argument("--reruns", type=int, default=5, help="reruns with nothing changed (default 5)")
    ap.add_argument("--workers", type=int, default=None, help="report workers of dxreport run (default: the cores)")
    ap.add_argument(
        "--scheduler", default=None, help="passed to dxreport run: 'local' for a Dask LocalCluster (default: the pool)"
    )
    ap.add_argument("--unit", default="snv", help="the unit that resends its file (default snv)")
    ap.add_argument("--skip-plain", action="store_true")
    ap.add_argument("--online", action="store_true", help="fetch the catalogs (default: offline, the last snapshot)")
    ap.add_argument("--skip-resubmit", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="keep the outputs in this folder")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    from dxreport.steps import month_folder

    global OFFLINE, SCHEDULER
    OFFLINE = not args.online
    SCHEDULER = args.scheduler
    month = args.month
    sample_dir, _ = month_folder(month)  # generates the sample month once, outside the timings
    codes = units(month)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-month-"))
    work.mkdir(parents=True, exist_ok=True)
    out: dict = {
        "machine": machine(),
        "month": month,
        "scheduler": args.scheduler or "process pool",
        "workers": args.workers,
        "reports": len(codes),
        "ours": [],
        "plain": [],
        "rerun": [],
        "runs": [],
        "steps": {},
    }
    print(f"{len(codes)} reports of {month}; work folder {work}", file=sys.stderr)
    last = None
    for i in range(max(args.repeat, 0 if args.skip_plain else args.plain_repeat)):
        if i < args.repeat:
            result = ours_sampled(month, work / f"ours-{i}", args.workers)
            out["runs"].append(result)
            out["ours"].append(result["seconds"])
            out["steps"] = result["steps"]
            out["report_task_median"] = result["report_task_median"]
            last = work / f"ours-{i}"
            print(f"ours run {i + 1}: {result['seconds']:.1f} s", file=sys.stderr)
        if not args.skip_plain and i < args.plain_repeat:
            result = plain(month, work / f"plain-{i}", codes)
            out["plain"].append(result)
            print(f"plain run {i + 1}: {result['seconds']:.1f} s", file=sys.stderr)
    out["rerun_load"] = []
    for _ in range(args.reruns):
        load_start = load_average()
        seconds, manifest = ours(month, last, args.workers)
        assert ran(manifest) == [], ran(manifest)
        out["rerun"].append(seconds)
        out["rerun_load"].append({"start": load_start, "end": load_average()})

    if not args.skip_resubmit:
        inbox = work / "inbox"
        shutil.copytree(sample_dir, inbox / month, dirs_exist_ok=True)
        target = work / "resubmit"
        ours(month, target, args.workers, ("--inbox", str(inbox)))
        load_start = load_average()
        original = next(p for p in sorted((inbox / month).glob("*.xlsx")) if p.name.startswith(f"{args.unit}_"))
        resubmit(original, inbox / month / f"{args.unit}_{month}_gui-lai.xlsx")
        seconds, manifest = ours(month, target, args.workers, ("--inbox", str(inbox)))
        out["resubmit"] = {
            "unit": args.unit,
            "seconds": seconds,
            "load_start": load_start,
            "load_end": load_average(),
            "ran": ran(manifest),
            "steps": {
                (s["name"] + (f" {s['unit']}" if s["unit"] else "")): s["seconds"]
                for s in manifest["steps"]
                if s["status"] == "ok"
            },
        }

    out["load_end"] = load_average()
    print_tables(out, month, len(codes))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
